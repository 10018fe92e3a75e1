"""Production settings pass Django's deployment checklist and refuse to start half-configured.

Runs manage.py in a subprocess: the production settings module reads the environment at import
time, which the already-configured test process cannot redo.
"""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

REPO_DIR = Path(__file__).resolve().parent.parent.parent
REQUIRED = ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"]
# Production accepts PostgreSQL only; `check` never connects, and port 9 (discard) would refuse
# at once if something did.
UNUSED_POSTGRES = "postgres://crm@127.0.0.1:9/crm"


def production_environ(tmp_path: Path) -> dict[str, str]:
    """What a server's environment file gives the app; nothing else from this test run leaks
    in (in particular not DJANGO_SETTINGS_MODULE=crm.settings.test)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "crm.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "crm.example.com",
        "DATABASE_URL": UNUSED_POSTGRES,
        # `check` never connects to the broker.
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CRM_VAR_DIR": str(tmp_path / "var"),
        # Stores' credentials are encrypted at rest with it (shops.E001 without).
        "CRM_SHOPS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }


def manage(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO_DIR, env=environ,
                          capture_output=True, text=True, timeout=120, check=False)


def test_production_settings_pass_check_deploy(tmp_path):
    result = manage(production_environ(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "System check identified no issues (0 silenced).\n"


def test_debug_from_the_environment_cannot_switch_production_to_debug(tmp_path):
    environ = {**production_environ(tmp_path), "DJANGO_DEBUG": "true"}

    result = manage(environ, "check", "--deploy", "--fail-level", "WARNING")

    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize("name", REQUIRED)
def test_production_settings_refuse_to_start_without(name, tmp_path):
    environ = production_environ(tmp_path)
    del environ[name]

    result = manage(environ, "check")

    assert result.returncode != 0
    assert f"ImproperlyConfigured: Set the {name} environment variable" in result.stderr


def test_production_settings_refuse_sqlite(tmp_path):
    environ = {**production_environ(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"}

    result = manage(environ, "check")

    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL must be a PostgreSQL URL" in result.stderr


def test_check_deploy_warns_when_no_proxy_is_trusted_for_client_addresses(tmp_path):
    environ = {**production_environ(tmp_path), "CRM_TRUSTED_PROXY_COUNT": "0"}

    result = manage(environ, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode != 0
    assert "crm.W001" in result.stderr


# Django's own language switch, called as the production site would call it.
SET_LANGUAGE = """
from django.test import RequestFactory
from django.views.i18n import set_language
request = RequestFactory().post("/i18n/setlang/", {"language": "tr"}, secure=True,
                                HTTP_HOST="crm.example.com")
print(set_language(request).cookies["django_language"].output())
"""


def test_language_cookie_is_secure_httponly_and_same_site(tmp_path):
    result = manage(production_environ(tmp_path), "shell", "-c", SET_LANGUAGE)

    assert result.returncode == 0, result.stderr
    attributes = {part.strip().lower() for part in result.stdout.split(";")}
    assert {"secure", "httponly", "samesite=lax"} <= attributes

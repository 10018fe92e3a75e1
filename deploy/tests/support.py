"""Paths and a production environment for tests that run the deployment files for real."""
import base64
import os
import secrets
import sys
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = DEPLOY_DIR.parent
VENV_BIN = Path(sys.executable).parent
# Where the example files expect things on a server.
SERVER_APP_DIR = "/srv/crm/app"


def production_environ(var_dir: Path, **overrides: str) -> dict[str, str]:
    """What the systemd units give the app, with throw-away values; nothing is inherited
    from the test run except PATH, so the test settings module cannot leak in."""
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "crm.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "crm.example.com",
        # Production refuses SQLite. These tests read no table (checks, the login page, static
        # files); port 9 (discard) refuses at once if one ever does.
        "DATABASE_URL": "postgres://crm@127.0.0.1:9/crm",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CRM_VAR_DIR": str(var_dir),
        "CRM_SHOPS_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }
    environ.update(overrides)
    return environ


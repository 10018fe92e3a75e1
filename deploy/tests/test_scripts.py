"""deploy/crm-manage and deploy/backup.sh, run for real."""
import getpass
import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from .support import DEPLOY_DIR, REPO_DIR, production_environ

CRM_MANAGE = DEPLOY_DIR / "crm-manage"
BACKUP = DEPLOY_DIR / "backup.sh"


def env_file_from_example(path: Path, values: dict[str, str]) -> Path:
    """The shipped example with the lines an operator must fill in replaced by `values`."""
    lines = []
    for line in (DEPLOY_DIR / "crm.env.example").read_text(encoding="utf-8").splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={values.pop(key)}" if key in values else line)
    lines.extend(f"{key}={value}" for key, value in values.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_crm_manage(env_file: Path, *args: str) -> subprocess.CompletedProcess:
    environ = {
        "PATH": os.environ["PATH"],
        # The caller's settings must not win over the environment file.
        "DJANGO_SETTINGS_MODULE": "crm.settings.test",
        "CRM_APP_DIR": str(REPO_DIR),
        "CRM_ENV_FILE": str(env_file),
        "CRM_USER": getpass.getuser(),
    }
    return subprocess.run([str(CRM_MANAGE), *args], env=environ, capture_output=True,
                          text=True, timeout=120, check=False)


# --- crm-manage -----------------------------------------------------------------------------
def test_crm_manage_runs_manage_py_with_the_environment_file(tmp_path):
    given = production_environ(tmp_path)
    env_file = env_file_from_example(tmp_path / "crm.env", {
        key: given[key] for key in ("DJANGO_SECRET_KEY", "DATABASE_URL", "CRM_VAR_DIR",
                                    "CRM_SHOPS_ENCRYPTION_KEYS")
    })

    result = run_crm_manage(env_file, "check", "--deploy", "--fail-level", "WARNING")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "System check identified no issues (0 silenced).\n"


def test_crm_manage_fails_clearly_without_a_readable_env_file(tmp_path):
    missing = tmp_path / "missing.env"

    result = run_crm_manage(missing, "check")

    assert result.returncode == 1
    assert result.stderr == f"crm-manage: cannot read {missing} (it must be readable by " \
                            f"{getpass.getuser()})\n"


def test_crm_manage_stops_when_the_env_file_does_not_parse(tmp_path):
    env_file = tmp_path / "crm.env"
    env_file.write_text("DEFAULT_FROM_EMAIL=Shop <crm@example.com>\n", encoding="utf-8")

    result = run_crm_manage(env_file, "check")

    assert result.returncode != 0
    assert "System check" not in result.stdout


# --- backup.sh ------------------------------------------------------------------------------
def run_backup(tmp_path: Path, database_url: str) -> subprocess.CompletedProcess:
    environ = {"PATH": os.environ["PATH"], "DATABASE_URL": database_url,
               "CRM_BACKUP_DIR": str(tmp_path / "backups"), "CRM_BACKUP_KEEP_DAYS": "14"}
    return subprocess.run([str(BACKUP)], env=environ, capture_output=True, text=True,
                          timeout=300, check=False)


def test_backup_refuses_a_database_url_pg_dump_cannot_use(tmp_path):
    result = run_backup(tmp_path, "sqlite:////tmp/db.sqlite3")

    assert result.returncode == 1
    assert result.stderr == "backup.sh: DATABASE_URL is not a postgres:// URL\n"
    assert not (tmp_path / "backups").exists()


@pytest.fixture
def test_database_url(db) -> str:
    """A libpq URL for the test database (migrated, so there is something to dump)."""
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    db_settings = connection.settings_dict
    credentials = quote(db_settings["USER"] or "", safe="")
    if db_settings["PASSWORD"]:
        credentials += ":" + quote(db_settings["PASSWORD"], safe="")
    host = db_settings["HOST"] or ""
    port = f":{db_settings['PORT']}" if db_settings["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db_settings['NAME'], safe='')}"


@pytest.mark.postgres
def test_backup_writes_a_dump_pg_restore_can_read(tmp_path, test_database_url):
    result = run_backup(tmp_path, test_database_url)

    assert result.returncode == 0, result.stderr
    (dump,) = (tmp_path / "backups").glob("crm-*.dump")
    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True,
                             text=True, timeout=60, check=True).stdout
    assert "TABLE public django_migrations" in listing
    assert dump.stat().st_mode & 0o077 == 0  # only the crm user can read it


@pytest.mark.postgres
def test_backup_prunes_dumps_older_than_keep_days(tmp_path, test_database_url):
    backups = tmp_path / "backups"
    backups.mkdir()
    old, recent = backups / "crm-20000101T000000Z.dump", backups / "crm-20000102T000000Z.dump"
    for path, age_days in ((old, 15), (recent, 13)):
        path.write_bytes(b"")
        stamp = time.time() - age_days * 86400 - 3600
        os.utime(path, (stamp, stamp))

    result = run_backup(tmp_path, test_database_url)

    assert result.returncode == 0, result.stderr
    assert (old.exists(), recent.exists()) == (False, True)

"""The example deployment files parse and agree with each other and with the settings.

No root, systemd or nginx needed; where systemd-analyze or nginx is installed, they check the
files too (skipped otherwise).
"""
import ast
import configparser
import os
import re
import runpy
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from .support import DEPLOY_DIR, REPO_DIR, SERVER_APP_DIR, VENV_BIN

SYSTEMD_DIR = DEPLOY_DIR / "systemd"
UNIT_FILES = sorted(path.name for path in SYSTEMD_DIR.iterdir())
LONG_RUNNING = ["crm-web.service", "crm-worker.service", "crm-sender.service", "crm-beat.service"]
WORKERS = ["crm-worker.service", "crm-sender.service"]
NGINX_CONF = DEPLOY_DIR / "nginx" / "crm.conf"
ENV_EXAMPLE = DEPLOY_DIR / "crm.env.example"
ENV_FILE = "/etc/crm/crm.env"


# --- helpers --------------------------------------------------------------------------------
def load_unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read(SYSTEMD_DIR / name, encoding="utf-8")
    return unit


def exec_start(name: str) -> list[str]:
    return shlex.split(load_unit(name)["Service"]["ExecStart"])


def load_gunicorn_conf(monkeypatch) -> dict:
    for name in ("GUNICORN_BIND", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    return runpy.run_path(str(DEPLOY_DIR / "gunicorn.conf.py"))


def strip_nginx_comment(line: str) -> str:
    """The line without its comment: a # outside quotes starts one."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:index]
    return line


def nginx_lines() -> list[str]:
    lines = (strip_nginx_comment(line).strip() for line in NGINX_CONF.read_text().splitlines())
    return [line for line in lines if line]


@dataclass
class Block:
    words: list[str]
    directives: list[str] = field(default_factory=list)
    children: list["Block"] = field(default_factory=list)

    def child(self, *words: str) -> "Block":
        matches = [block for block in self.children if block.words == list(words)]
        assert len(matches) == 1, f"expected one {words} block in {self.words}, found {matches}"
        return matches[0]


def nginx_config() -> Block:
    """The file as a tree of blocks; assumes one directive or block brace per line, as written."""
    stack = [Block(words=[])]
    for line in nginx_lines():
        if line.endswith("{"):
            block = Block(words=line[:-1].split())
            stack[-1].children.append(block)
            stack.append(block)
        elif line == "}":
            stack.pop()
        else:
            stack[-1].directives.append(line)
    return stack[0]


def nginx_server(listen: str) -> Block:
    servers = [block for block in nginx_config().children
               if block.words == ["server"] and listen in block.directives]
    assert len(servers) == 1, f"expected one server with {listen!r}"
    return servers[0]


def https_app_location() -> Block:
    return nginx_server("listen 443 ssl;").child("location", "/")


def env_example() -> dict[str, str]:
    """KEY=value lines, read the way systemd's EnvironmentFile= reads them."""
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, value = line.split("=", 1)
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        values[key] = value
    return values


def required_by_production() -> list[str]:
    """The names production.py insists on, read from its `for _name in (...)` loop."""
    source = (REPO_DIR / "crm" / "settings" / "production.py").read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple):
            return [element.value for element in node.iter.elts]
    raise AssertionError("production.py no longer lists its required variables in a for loop")


def socket_path() -> str:
    return load_unit("crm-web.socket")["Socket"]["ListenStream"]


# --- systemd units --------------------------------------------------------------------------
@pytest.mark.parametrize("name", UNIT_FILES)
def test_unit_parses_and_describes_itself(name):
    unit = load_unit(name)

    assert unit["Unit"]["Description"]


@pytest.mark.parametrize("name", LONG_RUNNING + ["crm-backup.service"])
def test_service_runs_as_unprivileged_user(name):
    service = load_unit(name)["Service"]

    assert (service["User"], service["Group"]) == ("crm", "crm")


@pytest.mark.parametrize("name", LONG_RUNNING + ["crm-backup.service"])
def test_service_reads_required_environment_file(name):
    # A leading "-" would make a missing file silently acceptable.
    assert load_unit(name)["Service"]["EnvironmentFile"] == ENV_FILE


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_service_defaults_to_production_settings(name):
    # crm/celery.py and manage.py default to the local settings; the unit must not.
    assert "DJANGO_SETTINGS_MODULE=crm.settings.production" in shlex.split(
        load_unit(name)["Service"]["Environment"])


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_service_restarts_after_a_crash(name):
    assert load_unit(name)["Service"]["Restart"] in {"always", "on-failure"}


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_service_runs_in_app_directory(name):
    # `celery -A crm` imports the crm package from the working directory.
    assert load_unit(name)["Service"]["WorkingDirectory"] == SERVER_APP_DIR


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_service_starts_at_boot(name):
    assert load_unit(name)["Install"]["WantedBy"] == "multi-user.target"


def test_web_runs_gunicorn_on_the_wsgi_app():
    argv = exec_start("crm-web.service")

    assert argv[0] == f"{SERVER_APP_DIR}/.venv/bin/gunicorn"
    assert argv[-1] == "crm.wsgi:application"


def test_web_uses_the_shipped_gunicorn_config():
    argv = exec_start("crm-web.service")

    config = argv[argv.index("--config") + 1]
    assert config == f"{SERVER_APP_DIR}/deploy/gunicorn.conf.py"


def test_web_reload_is_graceful_hup():
    assert load_unit("crm-web.service")["Service"]["ExecReload"] == "/bin/kill -s HUP $MAINPID"


def test_web_socket_accepts_only_nginx():
    socket = load_unit("crm-web.socket")["Socket"]

    assert (socket["SocketUser"], socket["SocketMode"]) == ("www-data", "0600")


def test_web_service_uses_its_socket_unit():
    assert load_unit("crm-web.service")["Unit"]["Requires"] == "crm-web.socket"


@pytest.mark.parametrize("name", WORKERS)
def test_worker_runs_celery_worker_for_crm_app(name):
    argv = exec_start(name)

    assert argv[:4] == [f"{SERVER_APP_DIR}/.venv/bin/celery", "-A", "crm", "worker"]


def test_the_worker_serves_every_queue_and_the_sender_only_email():
    """crm-worker (no -Q) takes every queue in CELERY_TASK_QUEUES, email included, so a
    deployment without crm-sender still sends; crm-sender takes only the sending tasks, with
    more processes than cores (they wait on the relay), as the Procfile does for `make run`."""
    from django.conf import settings

    from crm.celery import app

    worker, sender = exec_start("crm-worker.service"), exec_start("crm-sender.service")
    assert "-Q" not in worker and not any(arg.startswith("--queues") for arg in worker)
    assert {queue.name for queue in settings.CELERY_TASK_QUEUES} == {"celery", "email"}
    assert sender[sender.index("-Q") + 1] == "email"
    assert "--concurrency=${CRM_SENDER_CONCURRENCY}" in sender
    assert "--pool=prefork" in sender  # its children are what a killed batch is (reject_on_worker_lost)
    unit = load_unit("crm-sender.service")["Service"]
    assert "CRM_SENDER_CONCURRENCY=8" in unit["Environment"]
    for task in ("campaigns.send_run", "campaigns.send_due", "campaigns.recover_stuck"):
        assert app.amqp.router.route({}, task)["queue"].name == "email"
    assert app.amqp.router.route({}, "customers.score_chunk")["queue"].name == "celery"
    procfile = (REPO_DIR / "Procfile").read_text().splitlines()
    assert [line for line in procfile if line.startswith("sender:") and " -Q email " in line]


@pytest.mark.parametrize("name", WORKERS)
def test_worker_does_not_embed_beat(name):
    argv = exec_start(name)

    short_flags = [arg for arg in argv if re.fullmatch(r"-[A-Za-z]+", arg)]
    assert "--beat" not in argv
    assert not any("B" in flags for flags in short_flags)


@pytest.mark.parametrize("name", WORKERS)
def test_worker_stop_is_warm_shutdown(name):
    # SIGTERM only to the main process: it lets running tasks finish.
    service = load_unit(name)["Service"]

    assert service["KillMode"] == "mixed"
    assert int(service["TimeoutStopSec"]) >= 60


def test_beat_runs_celery_beat_with_the_leased_database_scheduler():
    argv = exec_start("crm-beat.service")

    assert argv[:4] == [f"{SERVER_APP_DIR}/.venv/bin/celery", "-A", "crm", "beat"]
    # The lease (crm/beat.py): a second beat stands by instead of sending everything twice.
    assert "--scheduler=crm.beat:LeasedDatabaseScheduler" in argv


def test_exactly_one_unit_runs_beat():
    services = [name for name in UNIT_FILES if name.endswith(".service")]

    runs_beat = [name for name in services
                 if {"beat", "-B", "--beat"} & set(exec_start(name))]
    assert runs_beat == ["crm-beat.service"]


def test_backup_service_runs_the_backup_script():
    assert exec_start("crm-backup.service") == [f"{SERVER_APP_DIR}/deploy/backup.sh"]


def test_backup_timer_runs_nightly_and_catches_up():
    timer = load_unit("crm-backup.timer")["Timer"]

    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:\d\d", timer["OnCalendar"])
    assert timer["Persistent"] == "true"


def test_systemd_analyze_verify_accepts_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # Point the units at this checkout so verify can check the executables exist.
    for name in UNIT_FILES:
        text = (SYSTEMD_DIR / name).read_text(encoding="utf-8")
        text = text.replace(f"{SERVER_APP_DIR}/.venv/bin", str(VENV_BIN))
        text = text.replace(SERVER_APP_DIR, str(REPO_DIR))
        (tmp_path / name).write_text(text, encoding="utf-8")

    result = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / name) for name in UNIT_FILES)],
        capture_output=True, text=True, timeout=60, check=False,
    )

    assert (result.returncode, result.stderr) == (0, "")


# --- gunicorn -------------------------------------------------------------------------------
def test_gunicorn_conf_serves_the_wsgi_app(monkeypatch):
    assert load_gunicorn_conf(monkeypatch)["wsgi_app"] == "crm.wsgi:application"


def test_gunicorn_binds_to_the_systemd_socket(monkeypatch):
    assert load_gunicorn_conf(monkeypatch)["bind"] == [f"unix:{socket_path()}"]


def test_gunicorn_workers_follow_cpu_count(monkeypatch):
    workers = load_gunicorn_conf(monkeypatch)["workers"]

    assert workers == min(2 * os.cpu_count() + 1, 9)


def test_gunicorn_workers_can_be_set_from_environment(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")

    assert runpy.run_path(str(DEPLOY_DIR / "gunicorn.conf.py"))["workers"] == 4


def test_gunicorn_does_not_preload_so_reload_loads_new_code(monkeypatch):
    assert load_gunicorn_conf(monkeypatch)["preload_app"] is False


def test_gunicorn_finishes_requests_before_systemd_kills_it(monkeypatch):
    graceful = load_gunicorn_conf(monkeypatch)["graceful_timeout"]

    assert graceful < int(load_unit("crm-web.service")["Service"]["TimeoutStopSec"])


def test_gunicorn_times_out_before_nginx_gives_up(monkeypatch):
    timeout = load_gunicorn_conf(monkeypatch)["timeout"]

    read_timeout = next(line for line in https_app_location().directives
                        if line.startswith("proxy_read_timeout"))
    assert timeout < int(re.search(r"\d+", read_timeout).group())


# --- nginx ----------------------------------------------------------------------------------
def test_nginx_braces_balance():
    depth = 0
    for line in nginx_lines():
        unquoted = re.sub(r'"[^"]*"|\'[^\']*\'', "", line)
        depth += unquoted.count("{") - unquoted.count("}")
        assert depth >= 0, line
    assert depth == 0


def test_nginx_every_directive_ends_with_semicolon():
    unterminated = [line for line in nginx_lines() if line[-1] not in ";{}"]

    assert unterminated == []


def test_nginx_upstream_is_the_gunicorn_socket():
    upstream = nginx_config().child("upstream", "crm_web")

    assert upstream.directives == [f"server unix:{socket_path()} fail_timeout=0;"]


def test_nginx_proxies_the_app_to_the_upstream():
    assert "proxy_pass http://crm_web;" in https_app_location().directives


def test_nginx_sets_forwarded_proto_for_django():
    directives = https_app_location().directives

    assert "proxy_set_header X-Forwarded-Proto $scheme;" in directives
    assert "proxy_set_header Host $host;" in directives
    # One address, not an appended list a client could spoof (the login lock-out counts it).
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in directives


def test_nginx_drops_client_scheme_headers_gunicorn_would_reject():
    directives = https_app_location().directives

    assert 'proxy_set_header X-Forwarded-Ssl "";' in directives
    assert 'proxy_set_header X-Forwarded-Protocol "";' in directives


def test_nginx_serves_static_from_static_root():
    static = nginx_server("listen 443 ssl;").child("location", "/static/")

    assert f"alias {env_example()['CRM_VAR_DIR']}/staticfiles/;" in static.directives


def test_nginx_redirects_plain_http_to_https():
    redirect = nginx_server("listen 80;").child("location", "/")

    assert redirect.directives == ["return 301 https://$host$request_uri;"]


def test_nginx_https_server_has_certificate_and_modern_protocols():
    directives = nginx_server("listen 443 ssl;").directives

    assert any(line.startswith("ssl_certificate ") for line in directives)
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in directives


def test_nginx_drops_unknown_host_names():
    catch_all = nginx_server("listen 80 default_server;")

    assert "return 444;" in catch_all.directives
    assert "ssl_reject_handshake on;" in catch_all.directives


def nginx_binary() -> str | None:
    return os.environ.get("CRM_NGINX") or shutil.which("nginx")


def test_nginx_accepts_the_config(tmp_path):
    nginx = nginx_binary()
    if nginx is None:
        pytest.skip("nginx is not installed (set CRM_NGINX to a binary to run this)")
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed for a throw-away certificate")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=crm.example.com", "-keyout", str(tmp_path / "key.pem"),
         "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )
    site = NGINX_CONF.read_text(encoding="utf-8")
    site = site.replace("/etc/letsencrypt/live/crm.example.com/fullchain.pem",
                        str(tmp_path / "cert.pem"))
    site = site.replace("/etc/letsencrypt/live/crm.example.com/privkey.pem",
                        str(tmp_path / "key.pem"))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "crm.conf").write_text(site, encoding="utf-8")
    temp = " ".join(f"{kind}_temp_path {tmp_path}/{kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{ {temp} access_log {tmp_path}/access.log; include {tmp_path}/crm.conf; }}\n",
        encoding="utf-8",
    )

    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
         "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, timeout=60, check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr


# --- environment file -----------------------------------------------------------------------
@pytest.mark.parametrize("name", required_by_production())
def test_env_example_sets_every_variable_production_requires(name):
    assert name in env_example()


def test_env_example_selects_production_settings():
    assert env_example()["DJANGO_SETTINGS_MODULE"] == "crm.settings.production"


def test_env_example_leaves_secret_key_empty():
    # Empty fails loudly; a sample value would be copied into production by someone.
    assert env_example()["DJANGO_SECRET_KEY"] == ""


def test_env_example_url_passwords_are_placeholders():
    passwords = {urlsplit(value).password for value in env_example().values() if "://" in value}

    assert passwords <= {None, "CHANGE-ME"}


def test_env_example_contains_no_token_like_value():
    tokens = [value for value in env_example().values()
              if re.search(r"[A-Za-z0-9_\-+/=]{32,}", value)]

    assert tokens == []


def test_env_example_avoids_syntax_systemd_and_sh_read_differently():
    lines = [line for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]

    assert [line for line in lines if not re.fullmatch(r"[A-Z][A-Z0-9_]*=.*", line)] == []
    assert [line for line in lines if "$" in line or "\\" in line or '"' in line] == []


def test_env_example_reads_the_same_in_sh():
    keys = sorted(env_example())
    script = 'set -a; . "$1"; set +a; shift; for key in "$@"; do printenv "$key" || echo; done'

    result = subprocess.run(
        ["sh", "-c", script, "sh", str(ENV_EXAMPLE), *keys],
        capture_output=True, text=True, timeout=30, check=True, env={"PATH": os.environ["PATH"]},
    )

    assert dict(zip(keys, result.stdout.splitlines(), strict=True)) == env_example()

"""Per-client limits through a real proxy hop: clients -> nginx (the proxy headers of
deploy/nginx/crm.conf) -> gunicorn on a unix socket (deploy/gunicorn.conf.py), where the app
sees no client address but the X-Forwarded-For nginx wrote.

Clients are told apart the way nginx tells them apart, by their TCP source address: each one
binds its own loopback address (127.0.0.2, 127.0.0.3, ...).
"""
import http.client
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core import signing

from crm.tests.servers import accepts, free_port
from support.public import _SALT, LIMIT_PER_HOUR

from .support import DEPLOY_DIR, REPO_DIR, VENV_BIN
from .test_service_files import https_app_location

pytestmark = [pytest.mark.slow, pytest.mark.nginx]

NGINX = os.environ.get("CRM_NGINX", "/usr/sbin/nginx")
SECRET_KEY = "behind-nginx-test-only"
PASSWORD = "correct-horse-battery"
ANON_API_RATE = 2


def shipped_proxy_directives() -> list[str]:
    """The proxy_* lines of the example site's app location (what it sends upstream), except
    where to: the headers under test are the shipped ones."""
    directives = [line for line in https_app_location().directives
                  if line.startswith("proxy_") and not line.startswith("proxy_pass ")]
    assert any(line.startswith("proxy_set_header X-Forwarded-For ") for line in directives)
    return directives


def nginx_conf(prefix: Path, port: int, upstream: Path) -> str:
    # As root nginx would run its workers as nobody, who may not connect to the socket.
    user = "user root;" if os.geteuid() == 0 else ""
    proxy = "\n            ".join(shipped_proxy_directives())
    temp = "\n        ".join(f"{kind}_temp_path {prefix / kind};"
                             for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""
    {user}
    daemon off;
    worker_processes 1;
    pid {prefix / 'nginx.pid'};
    error_log {prefix / 'error.log'} warn;
    events {{ worker_connections 64; }}
    http {{
        access_log {prefix / 'access.log'};
        {temp}
        upstream crm_web {{ server unix:{upstream} fail_timeout=0; }}
        server {{
            listen 127.0.0.1:{port};
            location / {{
            proxy_pass http://crm_web;
            {proxy}
            }}
        }}
    }}
    """


def run_manage(environ: dict[str, str], *args: str) -> None:
    subprocess.run([str(VENV_BIN / "python"), "manage.py", *args], cwd=REPO_DIR, env=environ,
                   check=True, capture_output=True, timeout=300)


def wait_until_up(check, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited: {log.read_text()}")
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not start: {log.read_text()}")


@dataclass
class Stack:
    port: int
    database: Path

    def client(self, source: str) -> "Client":
        return Client(self.port, source)

    def attempts(self, username: str) -> list[tuple[str, int]]:
        with sqlite3.connect(self.database) as db:
            return db.execute("SELECT ip_address, failures_since_start FROM axes_accessattempt "
                              "WHERE username = ? ORDER BY id", (username,)).fetchall()


@dataclass
class Client:
    """A browser on one source address: keeps its cookies, sends the CSRF token."""
    port: int
    source: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                                source_address=(self.source, 0))
        headers = {"Host": "127.0.0.1", **(headers or {})}
        body = None
        if form is not None:
            form = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **form}
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.body = response.read()
        connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response

    def log_in(self, username: str, password: str, forged_for: str = "") -> int:
        if "csrftoken" not in self.cookies:
            assert self.request("GET", "/login/").status == 200
        headers = {"X-Forwarded-For": forged_for} if forged_for else {}
        return self.request("POST", "/login/", {"username": username, "password": password},
                            headers).status


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # Short: a unix socket path must fit in 108 bytes.
    prefix = Path(tempfile.mkdtemp(prefix="crm-nginx-"))
    socket_path = prefix / "web.sock"
    database = prefix / "db.sqlite3"
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(prefix),
        "DJANGO_SETTINGS_MODULE": "crm.settings.test",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{database}",
        "CRM_VAR_DIR": str(prefix),
        "CRM_TRUSTED_PROXY_COUNT": "1",  # as production settings default to
        "CRM_API_THROTTLE_ANON": f"{ANON_API_RATE}/minute",
        "GUNICORN_BIND": f"unix:{socket_path}",
        # One process: the test settings count rate limits in a per-process cache.
        "WEB_CONCURRENCY": "1",
    }
    run_manage(environ, "migrate", "--no-input")
    run_manage(environ, "shell", "-c",
               f"from accounts.models import User; User.objects.create_user('sally', "
               f"password='{PASSWORD}')")
    port = free_port()
    (prefix / "nginx.conf").write_text(nginx_conf(prefix, port, socket_path))
    processes = []
    try:
        gunicorn_log = prefix / "gunicorn.log"
        with gunicorn_log.open("w") as log:
            processes.append(subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "--config", str(DEPLOY_DIR / "gunicorn.conf.py")],
                cwd=REPO_DIR, env=environ, stdout=log, stderr=subprocess.STDOUT))
        wait_until_up(socket_path.exists, processes[-1], gunicorn_log, "gunicorn")
        nginx_log = prefix / "nginx.log"
        with nginx_log.open("w") as log:
            processes.append(subprocess.Popen(
                [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                 "-e", str(prefix / "error.log")],
                stdout=log, stderr=subprocess.STDOUT))
        wait_until_up(lambda: accepts(port), processes[-1], nginx_log, "nginx")
        yield Stack(port, database)
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(prefix, ignore_errors=True)


def test_thirty_wrong_passwords_lock_the_attacker_out(stack):
    attacker = stack.client("127.0.0.2")
    # Each try claims another address in X-Forwarded-For: nginx replaces it by the real one.
    wrong = [attacker.log_in("sally", "wrong", forged_for=f"10.0.0.{n}") for n in range(30)]

    right = attacker.log_in("sally", PASSWORD, forged_for="10.0.0.99")

    assert wrong[:4] == [200] * 4 and set(wrong[4:]) == {429}
    assert right == 429
    # One row that counts every try (the right password included), not one row per try.
    assert stack.attempts("sally") == [("127.0.0.2", 31)]


def test_the_attacker_does_not_lock_out_the_user_elsewhere(stack):
    attacker = stack.client("127.0.0.3")
    for _ in range(6):
        attacker.log_in("sally", "wrong")

    assert stack.client("127.0.0.4").log_in("sally", PASSWORD) == 302


def _public_form(client: Client, email: str) -> int:
    if "csrftoken" not in client.cookies:
        assert client.request("GET", "/cases/contact-us/").status == 200
    started = signing.dumps(time.time() - 10, key=SECRET_KEY, salt=_SALT)
    return client.request("POST", "/cases/contact-us/", {
        "email": email, "name": "", "subject": "Broken zip", "message": "It broke.",
        "website": "", "started": started}).status


def test_one_spammer_does_not_close_the_support_form_for_everybody(stack):
    spammer = stack.client("127.0.0.5")
    statuses = [_public_form(spammer, f"spam{n}@example.com") for n in range(LIMIT_PER_HOUR + 1)]

    customer = _public_form(stack.client("127.0.0.6"), "ayse@example.com")

    assert statuses == [200] * LIMIT_PER_HOUR + [429]
    assert customer == 200


def test_anonymous_api_throttle_is_per_client(stack):
    if time.time() % 60 > 50:  # the counters are per minute: stay inside one
        time.sleep(61 - time.time() % 60)
    guesser = stack.client("127.0.0.7")
    guesses = [guesser.request("GET", "/api/contacts/",
                               headers={"X-Forwarded-For": f"10.0.0.{n}"}).status
               for n in range(ANON_API_RATE + 1)]

    other = stack.client("127.0.0.8").request("GET", "/api/contacts/").status

    assert guesses == [401] * ANON_API_RATE + [429]
    assert other == 401

"""A real PostgreSQL outage, production-like: gunicorn with deploy/gunicorn.conf.py and
crm.settings.production on a throw-away cluster of the test's own, which the test stops with
`pg_ctl stop -m immediate` (a crash) and starts again.

While it is down, the balancer's /healthz says 503 and every page says "retry in a minute" with
a 503 and Retry-After instead of a bare 500; once it is back, the same signed-in browser and
API token work again within seconds, with no restart of the app.
"""
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crm.tests.servers import PostgresCluster, postgres_binary, postgres_cluster, redis_server
from crm.tests.workers import wait_until
from deploy.tests.support import DEPLOY_DIR, REPO_DIR, VENV_BIN, production_environ

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

HOST = "crm.example.com"
PASSWORD = "correct-horse-battery"
MESSAGE = "The CRM is temporarily unavailable. Please try again in a minute."
# The user, their role and an API token, made in the same process as the migrations.
SETUP = f"""
from django.core.management import call_command
call_command("migrate", verbosity=0)
from accounts.tests.factories import ManagerFactory
from rest_framework.authtoken.models import Token
user = ManagerFactory(username="marta", password={PASSWORD!r})
print(Token.objects.create(user=user).key)
"""


@dataclass
class Browser:
    """Speaks to gunicorn's socket as nginx does (HTTPS proxy headers), keeps its cookies."""
    socket_path: Path
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, *, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None, https: bool = True):
        connection = http.client.HTTPConnection("localhost", timeout=30)
        connection.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.sock.settimeout(30)
        connection.sock.connect(str(self.socket_path))
        headers = {"Host": HOST, **({"X-Forwarded-Proto": "https"} if https else {}),
                   **(headers or {})}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(
                {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **form})
            headers |= {"Content-Type": "application/x-www-form-urlencoded",
                        "Origin": f"https://{HOST}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.text = response.read().decode()
        connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)


@dataclass
class Site:
    cluster: PostgresCluster
    socket_path: Path
    token: str

    def browser(self) -> Browser:
        return Browser(self.socket_path)


def _require_binaries() -> None:
    missing = [name for name in ("initdb", "pg_ctl", "createdb") if not postgres_binary(name)]
    missing += [] if shutil.which("redis-server") else ["redis-server"]
    if missing:
        message = f"needs {', '.join(missing)} to run servers of its own"
        if os.environ.get("CRM_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _run(environ: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([str(VENV_BIN / "python"), "manage.py", *args], cwd=REPO_DIR,
                            env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    _require_binaries()
    var_dir = Path(tempfile.mkdtemp(prefix="crm-outage-"))  # short: a socket path's limit
    socket_path = var_dir / "web.sock"
    with postgres_cluster() as cluster, redis_server() as redis:
        environ = production_environ(
            var_dir, DATABASE_URL=cluster.create_database("crm"), REDIS_URL=redis.url,
            GUNICORN_BIND=f"unix:{socket_path}", WEB_CONCURRENCY="1")
        # Both take seconds: side by side.
        setup, static = _run(environ, "shell", "-c", SETUP), _run(
            environ, "collectstatic", "--no-input")
        token = _finish(setup).strip().splitlines()[-1]
        _finish(static)
        log = var_dir / "gunicorn.log"
        with log.open("w") as log_file:
            gunicorn = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "--config", str(DEPLOY_DIR / "gunicorn.conf.py")],
                cwd=REPO_DIR, env=environ, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            assert wait_until(socket_path.exists, timeout=30), log.read_text()
            yield Site(cluster, socket_path, token)
        finally:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
            shutil.rmtree(var_dir, ignore_errors=True)


def _assert_unavailable_page(response) -> None:
    assert response.status == 503, response.text[:500]
    assert response.getheader("Retry-After") == "60"
    assert MESSAGE in response.text


def test_a_database_outage_is_a_503_everywhere_and_over_when_it_comes_back(site):
    staff, api_headers = site.browser(), {"Authorization": f"Token {site.token}"}
    assert staff.get("/login/").status == 200
    assert staff.request("POST", "/login/", form={"username": "marta",
                                                  "password": PASSWORD}).status == 302
    assert staff.get("/contacts/").status == 200
    assert site.browser().get("/api/contacts/", headers=api_headers).status == 200
    # A balancer that ends TLS probes over plain HTTP: no redirect to https.
    assert site.browser().get("/healthz", https=False).status == 200

    site.cluster.stop_immediately()

    probe = site.browser().get("/healthz", https=False)
    assert (probe.status, probe.text) == (503, "database: unavailable\nbroker: ok\n")
    for path in ("/contacts/", "/admin/", "/status/", "/login/"):
        _assert_unavailable_page(staff.get(path))
    visitor = site.browser()
    assert visitor.get("/login/").status == 200  # the form needs no database; signing in does
    _assert_unavailable_page(visitor.request("POST", "/login/", form={
        "username": "marta", "password": PASSWORD}))
    api = site.browser().get("/api/contacts/", headers=api_headers)
    assert (api.status, api.getheader("Retry-After")) == (503, "60")
    assert json.loads(api.text) == {"detail": MESSAGE}
    turkish = staff.get("/contacts/", headers={"Accept-Language": "tr"})
    assert turkish.status == 503 and '<html lang="tr">' in turkish.text

    site.cluster.start()

    assert wait_until(lambda: site.browser().get("/healthz").status == 200, timeout=10)
    assert staff.get("/contacts/").status == 200  # still signed in
    assert site.browser().get("/api/contacts/", headers=api_headers).status == 200

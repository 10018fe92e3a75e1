"""The production stack for real: collectstatic, then gunicorn with deploy/gunicorn.conf.py and
crm.settings.production on a unix socket, spoken to the way nginx speaks to it."""
import http.client
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import DEPLOY_DIR, REPO_DIR, VENV_BIN, production_environ

pytestmark = pytest.mark.slow

HOST = "crm.example.com"
BEHIND_TLS_PROXY = {"Host": HOST, "X-Forwarded-Proto": "https"}


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path):
        super().__init__("localhost", timeout=30)
        self.path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Site:
    def __init__(self, socket_path: Path, static_root: Path):
        self.socket_path = socket_path
        self.static_root = static_root

    def get(self, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
        connection = UnixHTTPConnection(self.socket_path)
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        connection.close()
        return response


def wait_for_socket(path: Path, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {log.read_text()}")
        if path.exists():
            return
        time.sleep(0.1)
    raise AssertionError("gunicorn did not open its socket")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    var_dir = tmp_path_factory.mktemp("var")
    socket_path = var_dir / "web.sock"
    environ = production_environ(var_dir, GUNICORN_BIND=f"unix:{socket_path}",
                                 WEB_CONCURRENCY="1")
    subprocess.run([str(VENV_BIN / "python"), "manage.py", "collectstatic", "--no-input"],
                   cwd=REPO_DIR, env=environ, check=True, capture_output=True, timeout=300)
    log = var_dir / "gunicorn.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--config", str(DEPLOY_DIR / "gunicorn.conf.py")],
            cwd=REPO_DIR, env=environ, stdout=log_file, stderr=subprocess.STDOUT,
        )
    try:
        wait_for_socket(socket_path, process, log)
        yield Site(socket_path, var_dir / "staticfiles")
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_gunicorn_accepts_the_config_with_production_settings(tmp_path):
    result = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "--check-config", "--config",
         str(DEPLOY_DIR / "gunicorn.conf.py")],
        cwd=REPO_DIR, env=production_environ(tmp_path), capture_output=True, text=True,
        timeout=120, check=False,
    )

    assert result.returncode == 0, result.stderr


def test_request_through_tls_proxy_gets_the_login_page(site):
    response = site.get("/login/", BEHIND_TLS_PROXY)

    assert response.status == 200


def test_response_carries_hsts(site):
    response = site.get("/login/", BEHIND_TLS_PROXY)

    assert response.getheader("Strict-Transport-Security") == (
        "max-age=31536000; includeSubDomains; preload")


def test_csrf_cookie_is_secure(site):
    response = site.get("/login/", BEHIND_TLS_PROXY)

    cookie = response.getheader("Set-Cookie")
    assert cookie.startswith("csrftoken=")
    assert "; Secure" in cookie


def test_plain_http_is_redirected_to_https(site):
    response = site.get("/login/", {"Host": HOST})

    assert (response.status, response.getheader("Location")) == (
        301, f"https://{HOST}/login/")


def test_unknown_host_is_refused(site):
    response = site.get("/login/", {"Host": "attacker.example.net", "X-Forwarded-Proto": "https"})

    assert response.status == 400


def test_contradicting_scheme_headers_are_refused_by_gunicorn(site):
    # Why the nginx config clears X-Forwarded-Ssl: a client-sent one would break requests.
    response = site.get("/login/", {**BEHIND_TLS_PROXY, "X-Forwarded-Ssl": "off"})

    assert response.status == 400


def test_hashed_static_file_is_served_with_long_cache(site):
    manifest = json.loads((site.static_root / "staticfiles.json").read_text())
    hashed = manifest["paths"]["vendor/bootstrap/css/bootstrap.min.css"]

    response = site.get(f"/static/{hashed}", BEHIND_TLS_PROXY)

    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/css")
    assert "immutable" in response.getheader("Cache-Control")

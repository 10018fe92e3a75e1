"""/healthz, the load balancer's probe: 200 only while the database and the broker answer,
503 naming what failed otherwise; anonymous, cheap and quick either way."""
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import RequestFactory

from crm.celery import app
from crm.public_url import PublicURLCheckMiddleware
from crm.tests.servers import free_port, redis_server

pytestmark = pytest.mark.django_db

REPO_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def broker_url(monkeypatch):
    """Point the app at another broker for one test."""
    def point_at(url: str) -> None:
        monkeypatch.setitem(app.conf, "broker_url", url)
    return point_at


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections (the kernel does) and never says a word: a hung Redis."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def test_a_healthy_machine_answers_200_to_an_anonymous_probe(client, django_assert_num_queries):
    # One query, the probe's own SELECT 1: no middleware reads a session, a user or axes.
    with django_assert_num_queries(1):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"database: ok\nbroker: ok\n"
    assert "no-cache" in response["Cache-Control"]
    assert response.cookies == {}


def test_head_works_and_post_is_refused(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_broker_on_a_closed_port_answers_503_at_once_without_its_address(client, broker_url):
    broker_url(f"redis://:hunter2@127.0.0.1:{free_port()}/0")

    started = time.monotonic()
    response = client.get("/healthz")

    assert time.monotonic() - started < 1.5
    assert response.status_code == 503
    assert response.content == b"database: ok\nbroker: unavailable\n"


def test_a_broker_that_does_not_answer_fails_the_probe_within_its_timeout(
        client, broker_url, silent_server):
    broker_url(f"redis://127.0.0.1:{silent_server}/0")

    started = time.monotonic()
    response = client.get("/healthz")

    assert time.monotonic() - started < 4
    assert response.status_code == 503


def test_an_unreachable_database_answers_503(client, monkeypatch, caplog):
    def refuse():
        raise OperationalError('connection to server at "db.internal", port 5432 failed: '
                               "Connection refused")
    monkeypatch.setattr(connection, "cursor", refuse)

    with caplog.at_level(logging.WARNING, logger="crm.views"):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.content == b"database: unavailable\nbroker: ok\n"
    assert "Connection refused" in caplog.text  # the details are for the log only


def test_a_probe_by_address_or_plain_http_does_not_warn_about_the_public_url(settings, caplog):
    settings.CRM_PUBLIC_URL = "https://crm.example.com"
    settings.ALLOWED_HOSTS = ["*"]
    middleware = PublicURLCheckMiddleware(lambda request: HttpResponse())

    with caplog.at_level(logging.WARNING, logger="crm.public_url"):
        middleware(RequestFactory().get("/healthz", HTTP_HOST="10.0.0.5"))
        assert caplog.records == []
        middleware(RequestFactory().get("/login/", HTTP_HOST="10.0.0.5"))

    assert len(caplog.records) == 1  # other pages are still compared


# A fresh process each time, as a gunicorn worker: its first checks fill kombu's connection
# pool, Redis is killed and started again, and the next checks must see a working broker.
_PROBE = """
import sys, django
django.setup()
from django.test import Client
from crm.health import worker_check
client = Client()
for line in sys.stdin:
    status = client.get("/healthz").status_code
    detail = worker_check(timeout=0.5).detail if line.strip() == "with worker" else ""
    print(status, detail, flush=True)
"""


@pytest.mark.redis
def test_the_first_probe_after_a_redis_restart_is_healthy(tmp_path):
    with redis_server() as redis:
        environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings.test",
                   "REDIS_URL": redis.url, "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
                   "CRM_VAR_DIR": str(tmp_path)}
        probe = subprocess.Popen([sys.executable, "-c", _PROBE], env=environ, text=True,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO_DIR)
        try:
            def ask(what: str) -> str:
                probe.stdin.write(f"{what}\n")
                probe.stdin.flush()
                return probe.stdout.readline().strip()

            assert ask("with worker") == "200 no worker answered"
            redis.kill()
            assert ask("healthz") == "503"
            redis.start()

            # The broker answers, and /status/'s worker check says what is really wrong, not
            # "Connection closed by server" from a connection that died with the old Redis.
            assert ask("with worker") == "200 no worker answered"
        finally:
            probe.stdin.close()
            probe.wait(timeout=30)

"""Links in emails follow the port the app runs on, and a mismatch is said out loud."""
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from crm.public_url import PublicURLCheckMiddleware, check_public_url_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("public", "port", "warns"), [
    ("http://127.0.0.1:8000", "8123", True),     # make run PORT=8123 with a stale setting
    ("http://localhost:8000/", "8123", True),
    ("http://127.0.0.1:8123", "8123", False),
    ("https://crm.example.com", "8000", False),  # behind a proxy: the app's port is not public
    ("http://127.0.0.1:8000", "", False),        # not started with a PORT: nothing to compare
    ("crm.example.com", "", True),               # not an address at all
])
def test_the_start_up_check_compares_the_public_url_with_the_port(settings, monkeypatch,
                                                                  public, port, warns):
    settings.CRM_PUBLIC_URL = public
    monkeypatch.setenv("PORT", port)

    warnings = check_public_url_port()

    assert [w.id for w in warnings] == (["crm.W002"] if warns else [])


def _serve(middleware, host: str, *, secure: bool = False) -> None:
    middleware(RequestFactory().get("/", HTTP_HOST=host, secure=secure))


def test_the_first_request_on_another_address_logs_a_warning_once_per_host(settings, caplog):
    settings.CRM_PUBLIC_URL = "http://127.0.0.1:8000"
    settings.ALLOWED_HOSTS = ["*"]
    middleware = PublicURLCheckMiddleware(lambda request: HttpResponse())

    with caplog.at_level(logging.WARNING, logger="crm.public_url"):
        _serve(middleware, "127.0.0.1:8000")
        assert caplog.records == []
        _serve(middleware, "127.0.0.1:8123")
        _serve(middleware, "127.0.0.1:8123")

    [record] = caplog.records
    assert "127.0.0.1:8123" in record.getMessage()
    assert "CRM_PUBLIC_URL is http://127.0.0.1:8000" in record.getMessage()


def test_default_ports_are_the_same_address(settings, caplog):
    settings.CRM_PUBLIC_URL = "https://crm.example.com/"
    settings.ALLOWED_HOSTS = ["crm.example.com"]
    middleware = PublicURLCheckMiddleware(lambda request: HttpResponse())

    with caplog.at_level(logging.WARNING, logger="crm.public_url"):
        _serve(middleware, "crm.example.com", secure=True)
        _serve(middleware, "CRM.example.com:443", secure=True)

    assert caplog.records == []


def _environment(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CRM_PUBLIC_URL", "PORT")}
    return {**env, **extra}


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
def test_make_run_passes_its_port_to_the_links_unless_set():
    def dry_run(**env) -> str:
        return subprocess.run(["make", "-n", "run", "PORT=8123"], cwd=ROOT, check=True,
                              capture_output=True, text=True, env=_environment(**env)).stdout

    started = [line for line in dry_run().splitlines() if "honcho" in line]
    kept = [line for line in dry_run(CRM_PUBLIC_URL="https://crm.example.com").splitlines()
            if "honcho" in line]

    assert started and "CRM_PUBLIC_URL='http://127.0.0.1:8123'" in started[0]
    assert kept and "CRM_PUBLIC_URL='https://crm.example.com'" in kept[0]


def test_unset_the_setting_follows_the_port_the_server_is_started_on():
    code = "from django.conf import settings; print(settings.CRM_PUBLIC_URL)"
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, check=True,
        capture_output=True, text=True,
        env=_environment(PORT="8123", DJANGO_SETTINGS_MODULE="crm.settings.local")).stdout

    assert out.strip() == "http://127.0.0.1:8123"

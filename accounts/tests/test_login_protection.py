"""Brute force on the login page: five wrong passwords lock that username from that address."""
import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import SalesStaffFactory

pytestmark = pytest.mark.django_db
LOGIN = reverse("login")
PASSWORD = "correct-horse-battery"


def _try(client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client):
    SalesStaffFactory(username="sally")
    for _ in range(4):
        assert _try(client, "sally", "wrong").status_code == 200  # the form again, with an error
    assert _try(client, "sally", "wrong").status_code == 429  # the fifth locks

    locked = _try(client, "sally", PASSWORD)

    assert locked.status_code == 429
    assert "Too many attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_other_people_can_still_log_in(client):
    SalesStaffFactory(username="sally")
    SalesStaffFactory(username="sam")
    for _ in range(5):
        _try(client, "sally", "wrong")

    response = _try(client, "sam", PASSWORD)

    assert response.status_code == 302


def test_a_good_login_forgets_earlier_mistakes(client):
    SalesStaffFactory(username="sally")
    for _ in range(4):
        _try(client, "sally", "wrong")
    assert _try(client, "sally", PASSWORD).status_code == 302
    client.logout()

    for _ in range(4):
        _try(client, "sally", "wrong")

    assert _try(client, "sally", PASSWORD).status_code == 302


# --- Behind the proxy ---------------------------------------------------------------------------
ATTACKER = "203.0.113.66"
VICTIM = "198.51.100.10"


@pytest.fixture(params=["", "127.0.0.1"], ids=["unix-socket", "tcp-proxy"])
def behind_nginx(request, settings):
    """The proxy's own address as gunicorn sees it: none on a unix socket, loopback on TCP."""
    settings.CRM_TRUSTED_PROXY_COUNT = 1
    return request.param


def _try_from(client, peer: str, address: str, username: str, password: str, forged: str = ""):
    # What nginx sends: the client's own X-Forwarded-For (if any), then the address it saw.
    forwarded = f"{forged}, {address}" if forged else address
    return client.post(LOGIN, {"username": username, "password": password},
                       REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)


def test_behind_the_proxy_five_wrong_passwords_lock_the_attacker(client, behind_nginx):
    SalesStaffFactory(username="sally")
    for _ in range(5):
        _try_from(client, behind_nginx, ATTACKER, "sally", "wrong")

    locked = _try_from(client, behind_nginx, ATTACKER, "sally", PASSWORD)

    assert locked.status_code == 429
    assert AccessAttempt.objects.get().ip_address == ATTACKER  # one row, counting


def test_behind_the_proxy_the_victim_still_logs_in_from_elsewhere(client, behind_nginx):
    SalesStaffFactory(username="sally")
    for _ in range(5):
        _try_from(client, behind_nginx, ATTACKER, "sally", "wrong")

    response = _try_from(Client(), behind_nginx, VICTIM, "sally", PASSWORD)

    assert response.status_code == 302


def test_a_forged_forwarded_for_does_not_escape_the_lock(client, behind_nginx):
    SalesStaffFactory(username="sally")
    for n in range(5):
        _try_from(client, behind_nginx, ATTACKER, "sally", "wrong", forged=f"10.0.0.{n}")

    locked = _try_from(client, behind_nginx, ATTACKER, "sally", PASSWORD, forged="10.0.0.99")

    assert locked.status_code == 429


def test_without_any_client_address_the_lock_errs_on_the_safe_side(client, settings, caplog):
    # Misconfigured: a unix socket and no proxy count. Every client looks the same; guessing
    # stays limited (the user is locked for everybody) and the log says what to fix.
    settings.CRM_TRUSTED_PROXY_COUNT = 0
    SalesStaffFactory(username="sally")
    for n in range(5):
        _try_from(client, "", f"203.0.113.{n}", "sally", "wrong")

    response = _try_from(Client(), "", VICTIM, "sally", PASSWORD)

    assert response.status_code == 429
    assert "CRM_TRUSTED_PROXY_COUNT" in caplog.text

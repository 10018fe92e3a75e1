"""Brute force on the login page: five wrong passwords lock that username from that address."""
import pytest
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

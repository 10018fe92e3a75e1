"""Rates come from settings (CRM_API_THROTTLE_USER / _ANON), so an environment can change them."""
import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_user_over_the_rate_gets_429(sales_api, settings):
    settings.CRM_API_THROTTLE_USER = "2/minute"

    statuses = [sales_api.get("/api/contacts/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_anonymous_over_the_rate_gets_429(anonymous_api, settings):
    settings.CRM_API_THROTTLE_ANON = "1/minute"

    statuses = [anonymous_api.get("/api/contacts/").status_code for _ in range(2)]

    assert statuses == [401, 429]


def test_rate_is_per_user(sales_api, manager_api, settings):
    settings.CRM_API_THROTTLE_USER = "1/minute"

    assert sales_api.get("/api/contacts/").status_code == 200
    assert manager_api.get("/api/contacts/").status_code == 200
    assert sales_api.get("/api/contacts/").status_code == 429


def test_guessing_tokens_is_slowed_down(settings):
    settings.CRM_API_THROTTLE_ANON = "2/minute"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    statuses = [client.get("/api/contacts/").status_code for _ in range(3)]

    assert statuses == [401, 401, 429]


def test_refused_requests_of_a_user_count_too(no_role_api, settings):
    settings.CRM_API_THROTTLE_USER = "1/minute"

    statuses = [no_role_api.get("/api/contacts/").status_code for _ in range(2)]

    assert statuses == [403, 429]


def test_a_new_window_lets_the_caller_in_again(sales_api, settings, monkeypatch):
    from api.throttling import UserThrottle

    settings.CRM_API_THROTTLE_USER = "1/minute"
    now = [60.0 * 16_666]  # the start of a minute
    monkeypatch.setattr(UserThrottle, "timer", lambda self: now[0])

    first, second = (sales_api.get("/api/contacts/") for _ in range(2))
    now[0] += 60
    third = sales_api.get("/api/contacts/")

    assert [first.status_code, second.status_code, third.status_code] == [200, 429, 200]
    assert second["Retry-After"] == "60"

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


@pytest.fixture
def redis_throttle(settings, monkeypatch):
    """The user throttle counting in a real Redis (the suite's cache is in-process memory)."""
    from django.core.cache.backends.redis import RedisCache

    from api.throttling import UserThrottle

    redis_cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "throttle-test"})
    redis_cache.clear()
    monkeypatch.setattr(UserThrottle, "cache", redis_cache)
    yield redis_cache._cache.get_client(write=True)
    redis_cache.clear()


@pytest.mark.redis
def test_redis_counts_the_rate_in_one_key_that_expires_with_its_window(
        sales_api, settings, redis_throttle):
    settings.CRM_API_THROTTLE_USER = "2/minute"

    statuses = [sales_api.get("/api/contacts/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    [key] = list(redis_throttle.scan_iter(match="throttle-test:*throttle_user*"))
    assert int(redis_throttle.get(key)) == 3
    assert 0 < redis_throttle.ttl(key) <= 61

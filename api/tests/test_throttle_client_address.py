"""Anonymous callers are throttled per client address as the trusted proxy reports it: a forged
X-Forwarded-For neither escapes the limit nor pins it on somebody else."""
import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
GUESSER = "203.0.113.66"
SHOP = "198.51.100.10"


@pytest.fixture(autouse=True)
def behind_nginx(settings):
    settings.CRM_TRUSTED_PROXY_COUNT = 1
    settings.CRM_API_THROTTLE_ANON = "2/minute"


def _get(address: str, forged: str = "") -> int:
    forwarded = f"{forged}, {address}" if forged else address
    return APIClient().get("/api/contacts/", REMOTE_ADDR="",
                           HTTP_X_FORWARDED_FOR=forwarded).status_code


def test_a_forged_forwarded_for_does_not_escape_the_limit():
    statuses = [_get(GUESSER, forged=f"10.0.0.{n}") for n in range(3)]

    assert statuses == [401, 401, 429]


def test_another_client_is_not_slowed_by_the_first():
    for _ in range(3):
        _get(GUESSER)

    assert _get(SHOP) == 401


def test_the_same_limit_key_as_the_login_lock_out(settings):
    # Without a proxy count the TCP peer counts, whatever the header says.
    settings.CRM_TRUSTED_PROXY_COUNT = 0
    statuses = [APIClient().get("/api/contacts/", REMOTE_ADDR="192.0.2.5",
                                HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
                for n in range(3)]

    assert statuses == [401, 401, 429]

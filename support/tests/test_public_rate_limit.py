"""The public form's hourly limit is per client address as the proxy reports it: one spammer
must not close the form for every customer."""
import time

import pytest
from django.core import signing
from django.core.cache import cache
from django.urls import reverse

from support.public import _SALT, LIMIT_PER_HOUR

pytestmark = pytest.mark.django_db
URL = reverse("support:public_case")
SPAMMER = "203.0.113.66"
CUSTOMER = "198.51.100.10"


@pytest.fixture(autouse=True)
def behind_nginx(settings):
    settings.CRM_TRUSTED_PROXY_COUNT = 1
    cache.clear()
    yield
    cache.clear()


def _post(client, address: str, peer: str = "127.0.0.1", forged: str = ""):
    data = {"email": "ayse@example.com", "name": "", "subject": "Broken zip",
            "message": "The zip of my jacket broke.", "website": "",
            "started": signing.dumps(time.time() - 10, salt=_SALT)}
    forwarded = f"{forged}, {address}" if forged else address
    return client.post(URL, data, REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)


@pytest.mark.parametrize("peer", ["", "127.0.0.1"], ids=["unix-socket", "tcp-proxy"])
def test_a_spammer_is_limited_but_another_customer_is_not(client, peer):
    for _ in range(LIMIT_PER_HOUR):
        assert _post(client, SPAMMER, peer).status_code == 200
    assert _post(client, SPAMMER, peer).status_code == 429

    response = _post(client, CUSTOMER, peer)

    assert response.status_code == 200  # accepted: 400 is an invalid form, 429 the limit


def test_a_forged_forwarded_for_does_not_reset_the_limit(client):
    for n in range(LIMIT_PER_HOUR):
        _post(client, SPAMMER, forged=f"10.0.0.{n}")

    assert _post(client, SPAMMER, forged="10.0.0.99").status_code == 429

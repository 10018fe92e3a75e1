"""IdeaSoft's refresh token works once: two processes (two workers, or a worker and the web
door) meeting the same expired access token renew it once, under the store's row lock; the
second finds the first one's tokens instead of spending the used refresh token and asking a
manager to authorise the app again. On PostgreSQL, with real row locks."""

import pytest

from crm.tests.concurrency import at_once
from shops.http import ShopHTTP
from shops.models import Store
from shops.platforms.ideasoft import IdeaSoftPlatform
from shops.tests.fakes.ideasoft import FakeIdeaSoftAPI

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def api():
    with FakeIdeaSoftAPI(client_secret="s3cret") as fake:
        yield fake


def test_two_processes_meeting_the_expired_token_renew_it_once(api):
    store = Store(platform="ideasoft", name="Kahveci", key="kahveci", base_url=api.base_url)
    store.set_credentials(api.credentials)
    store.save()
    api.add_orders(3)
    api.expire_access_token()
    api.slow_next(0.3)  # the first read is slow: both meet the expired token
    def worker(_index: int) -> int:
        # A process of its own: its platform (no memory shared) and its own store row read.
        platform, access = IdeaSoftPlatform(), Store.objects.get(pk=store.pk).access()
        return len(platform.orders_page(access, ShopHTTP(timeout=5), cursor=None).orders)

    results, errors = at_once(worker, threads=2)

    assert errors == [] and results == [3, 3]
    assert [form["grant_type"] for form in api.token_requests] == ["refresh_token"]
    store.refresh_from_db()
    assert store.credentials()["access_token"] == api.access_token
    assert store.credentials()["refresh_token"] == api.refresh_token

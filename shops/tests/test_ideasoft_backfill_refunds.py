"""IdeaSoft's orders list carries no refunds (they are refund requests, objects of their own):
after its orders, a backfill reads the approved refund requests and applies each refunded
order's refunds once, resuming there after a crash, not from the first order page."""
import datetime as dt
from decimal import Decimal

import pytest

from customers.models import Purchase, PurchaseLine
from shops.models import ShopOrder, Store, SyncJob
from shops.services.sync import REFUNDS_PHASE, sync_job_run, sync_start
from shops.tests.fakes.ideasoft import FakeIdeaSoftAPI
from shops.tests.helpers import run_job

pytestmark = pytest.mark.django_db

ISTANBUL = dt.timezone(dt.timedelta(hours=3))


@pytest.fixture
def api():
    with FakeIdeaSoftAPI() as fake:
        yield fake


def _store(api) -> Store:
    store = Store(platform="ideasoft", name="Lokumcu", key="lokumcu", base_url=api.base_url)
    store.set_credentials(api.credentials)
    store.save()
    return store


def _history(api) -> None:
    for order_id in range(1301, 1306):
        api.add_order(order_id, email=f"alici{order_id}@example.com",
                      created_at="2026-06-01T10:00:00+0300")
    # Returned long ago: one coffee of order 1302, and the whole of a fee on 1304; one still
    # waiting for approval on 1305 is not a refund.
    api.add_refund_request(1302, 501, items=((13021, 1),), updated_at="2026-06-10T10:00:00+0300")
    api.add_refund_request(1304, 502, fee=50, updated_at="2026-06-11T10:00:00+0300")
    api.add_refund_request(1305, 503, status="waiting_for_approval", fee=50)


def test_a_backfill_applies_the_refunds_of_old_orders_once(api):
    _history(api)
    store = _store(api)

    job = run_job(store, SyncJob.Kind.BACKFILL)

    assert job.status == SyncJob.Status.DONE, job.error
    refunded = dict(Purchase.objects.filter(source=store.source, refunded_amount__gt=0)
                    .values_list("external_id", "refunded_amount"))
    assert set(refunded) == {"1302", "1304"}
    assert refunded["1304"] == Decimal("50")
    line = PurchaseLine.objects.filter(purchase__external_id="1302").order_by("pk").first()
    assert line.refunded_quantity == 1
    assert ShopOrder.objects.get(store=store, order_id="1302").refund_ids == ["501"]

    again = run_job(store, SyncJob.Kind.BACKFILL)  # a second backfill changes nothing
    assert again.status == SyncJob.Status.DONE
    assert dict(Purchase.objects.filter(source=store.source, refunded_amount__gt=0)
                .values_list("external_id", "refunded_amount")) == refunded


def test_a_backfill_stopped_in_its_refunds_resumes_there(api):
    _history(api)
    store = _store(api)
    job = sync_start(store=store, kind=SyncJob.Kind.BACKFILL)
    SyncJob.objects.filter(pk=job.pk).update(cursor=REFUNDS_PHASE)  # its orders were read

    sync_job_run(job.pk)

    job.refresh_from_db()
    assert job.status == SyncJob.Status.DONE
    paths = [request.path for request in api.requests]
    assert "/admin-api/orders" not in paths  # no order page read again
    assert paths.count("/admin-api/order_refund_requests") >= 1
    # Orders never seen before are fetched and recorded with their refunds.
    assert set(Purchase.objects.filter(source=store.source).values_list(
        "external_id", flat=True)) == {"1302", "1304"}

"""An order in: once per order whatever the door (backfill, webhook, poll), out-of-order and
stale versions, pending then paid, cancellations, guests, orders without an email."""
import datetime as dt
from decimal import Decimal

import pytest

from customers.models import Contact, Product, Purchase, PurchaseLine
from shops.models import ShopOrder, SyncJob
from shops.services.orders import NO_EMAIL
from shops.tests.helpers import deliver, run_job
from shops.tests.stub_platform import order_json

pytestmark = pytest.mark.django_db


def _purchase(store, order_id: int) -> Purchase:
    return Purchase.objects.get(source=store.source, external_id=str(order_id))


def test_backfill_webhook_and_poll_record_each_order_once_with_its_lines(driver):
    store = driver.store()
    for order_id in range(1, 4):
        driver.put_order(order_json(order_id, email=f"buyer{order_id}@example.com"))

    backfill = run_job(store, SyncJob.Kind.BACKFILL)
    deliver(store, *driver.order_delivery(order_json(2, email="buyer2@example.com"),
                                          created=True))
    poll = run_job(store, SyncJob.Kind.POLL)

    assert backfill.status == SyncJob.Status.DONE and backfill.purchases_created == 3
    assert poll.status == SyncJob.Status.DONE and poll.purchases_created == 0
    assert Purchase.objects.filter(source=store.source).count() == 3
    assert PurchaseLine.objects.count() == 9
    assert Product.objects.filter(store=store.key).count() == 3
    assert ShopOrder.objects.filter(store=store).count() == 3
    purchase = _purchase(store, 2)
    # 2 x 120 + (450 - 50) + 1.5 x 80: what the lines add up to
    assert purchase.amount == Decimal("760.00")
    shop_order = ShopOrder.objects.get(store=store, order_id="2")
    assert shop_order.purchase == purchase
    assert sorted(shop_order.line_map) == ["2-1", "2-2", "2-3"]
    assert set(shop_order.line_map.values()) == set(purchase.lines.values_list("pk", flat=True))


def test_webhook_first_then_backfill_adds_nothing(driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(7), created=True))
    driver.put_order(order_json(7))

    job = run_job(store, SyncJob.Kind.BACKFILL)

    assert job.purchases_created == 0
    assert Purchase.objects.filter(source=store.source).count() == 1
    assert PurchaseLine.objects.count() == 3


def test_a_backfill_records_the_past_and_a_webhook_the_present(driver):
    store = driver.store()
    driver.put_order(order_json(1))

    run_job(store, SyncJob.Kind.BACKFILL)

    purchase = _purchase(store, 1)
    assert purchase.channel_label == "web"
    assert purchase.purchased_at == dt.datetime.fromisoformat("2026-11-02T10:00:00+03:00")
    assert Product.objects.get(store=store.key, sku="FINCAN").name == "Fincan takımı"


def test_updated_before_created_records_the_latest_and_ignores_the_older(driver):
    store = driver.store()
    newer = order_json(5, updated_at="2026-11-02T12:00:00+03:00",
                       refunds=[{"id": "r1", "amount": "240.00", "lines": [["5-1", "2"]]}])
    older = order_json(5)

    deliver(store, *driver.order_delivery(newer))
    delivery = deliver(store, *driver.order_delivery(older, created=True))

    purchase = _purchase(store, 5)
    assert purchase.refunded_amount == Decimal("240.00")
    assert delivery.status == "processed" and "older" in delivery.error
    shop_order = ShopOrder.objects.get(store=store, order_id="5")
    assert shop_order.platform_updated_at == dt.datetime.fromisoformat(
        "2026-11-02T12:00:00+03:00")


def test_a_stale_update_changes_nothing(driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(
        6, state="cancelled", updated_at="2026-11-03T10:00:00+03:00")))
    deliver(store, *driver.order_delivery(order_json(
        6, state="paid", updated_at="2026-11-02T11:00:00+03:00")))

    assert not Purchase.objects.filter(source=store.source).exists()
    assert ShopOrder.objects.get(store=store, order_id="6").state == "cancelled"


def test_pending_then_paid_is_recorded_once_paid(driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(8, state="pending"), created=True))
    assert not Purchase.objects.filter(source=store.source).exists()
    assert ShopOrder.objects.get(store=store, order_id="8").state == "pending"

    deliver(store, *driver.order_delivery(order_json(
        8, state="paid", updated_at="2026-11-02T10:05:00+03:00")))

    assert _purchase(store, 8).amount == Decimal("760.00")
    assert ShopOrder.objects.get(store=store, order_id="8").state == "paid"


def test_cancelled_after_paid_is_refunded_in_full(driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(9), created=True))
    deliver(store, *driver.order_delivery(order_json(
        9, state="cancelled", updated_at="2026-11-04T10:00:00+03:00")))

    purchase = _purchase(store, 9)
    assert purchase.refunded_at is not None
    assert purchase.refunded_amount == purchase.amount
    assert set(purchase.lines.values_list("refunded_quantity", flat=True)) == {
        Decimal("2"), Decimal("1"), Decimal("1.5")}


def test_cancelled_before_paid_is_never_a_purchase(driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(10, state="cancelled"), created=True))

    assert not Purchase.objects.filter(source=store.source).exists()
    assert ShopOrder.objects.get(store=store, order_id="10").purchase is None


def test_a_guest_checkout_becomes_a_contact_by_email(driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(
        11, email="Guest.Buyer@Example.com", first_name="Misafir", last_name="Alıcı"),
        created=True))

    contact = Contact.objects.get(email="guest.buyer@example.com")
    assert (contact.first_name, contact.last_name) == ("Misafir", "Alıcı")
    assert _purchase(store, 11).contact == contact


def test_an_order_without_email_is_kept_unrecorded_with_its_reason(driver):
    store = driver.store()
    driver.put_order(order_json(12, email=""))

    deliver(store, *driver.order_delivery(order_json(13, email=""), created=True))
    run_job(store, SyncJob.Kind.BACKFILL)

    assert not Purchase.objects.filter(source=store.source).exists()
    for order_id in ("12", "13"):
        shop_order = ShopOrder.objects.get(store=store, order_id=order_id)
        assert shop_order.purchase is None
        assert shop_order.unrecorded_reason == NO_EMAIL


def test_an_order_with_refused_lines_is_kept_with_the_reason_and_recorded_once_fixed(driver):
    store = driver.store()
    bad = order_json(14, lines=[{"id": "14-1", "sku": "X", "name": "X", "quantity": "0",
                                 "unit_price": "10"}])
    deliver(store, *driver.order_delivery(bad, created=True))
    shop_order = ShopOrder.objects.get(store=store, order_id="14")
    assert shop_order.purchase is None and "quantity" in shop_order.unrecorded_reason

    fixed = order_json(14, updated_at="2026-11-02T11:00:00+03:00",
                       lines=[{"id": "14-1", "sku": "X", "name": "X", "quantity": "1",
                               "unit_price": "10"}])
    deliver(store, *driver.order_delivery(fixed))

    shop_order.refresh_from_db()
    assert shop_order.purchase is not None and shop_order.unrecorded_reason == ""


def test_the_store_keeps_the_last_order_seen(driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(15, created_at="2026-11-05T09:00:00+03:00")))
    deliver(store, *driver.order_delivery(order_json(16, created_at="2026-11-01T09:00:00+03:00")))

    store.refresh_from_db()
    assert store.last_order_at == dt.datetime.fromisoformat("2026-11-05T09:00:00+03:00")
    assert store.last_webhook_at is not None


def test_a_historical_order_paid_later_is_recorded_through_the_import(driver):
    """A backfill meeting an order it saw pending (a known ShopOrder without a purchase)."""
    from shops.services.orders import order_ingest
    from shops.tests.stub_platform import order_from_json

    store = driver.store()
    order_ingest(store, order_from_json(order_json(17, state="pending")), historical=True)

    outcome = order_ingest(store, order_from_json(order_json(
        17, updated_at="2026-11-02T12:00:00+03:00")), historical=True)

    assert outcome.purchase_created
    assert _purchase(store, 17).lines.count() == 3
    assert len(ShopOrder.objects.get(store=store, order_id="17").line_map) == 3

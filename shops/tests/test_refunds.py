"""Refunds: applied once by id, lines mapped, capped at what is left, an order unseen waits."""
from decimal import Decimal

import pytest

from customers.models import Purchase
from shops.models import ShopOrder, WebhookDelivery
from shops.services.deliveries import MAX_ATTEMPTS, delivery_process
from shops.tests.helpers import deliver
from shops.tests.stub_platform import order_json

pytestmark = pytest.mark.django_db


def _purchase(store, order_id):
    return Purchase.objects.get(source=store.source, external_id=str(order_id))


def test_a_refund_delivered_twice_counts_once(driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(1), created=True))
    refund = {"id": "r-1", "amount": "100.00"}

    deliver(store, *driver.refund_delivery(1, refund))
    deliver(store, *driver.refund_delivery(1, refund))  # another delivery id, same refund
    deliver(store, *driver.order_delivery(order_json(  # the order naming it again
        1, updated_at="2026-11-03T10:00:00+03:00", refunds=[refund])))

    purchase = _purchase(store, 1)
    assert purchase.refunded_amount == Decimal("100.00")
    assert ShopOrder.objects.get(store=store, order_id="1").refund_ids == ["r-1"]


def test_line_refunds_are_mapped_to_the_purchase_lines(driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(2), created=True))

    deliver(store, *driver.refund_delivery(2, {"id": "r-2", "amount": "120.00",
                                              "lines": [["2-1", "1"]]}))

    purchase = _purchase(store, 2)
    line_map = ShopOrder.objects.get(store=store, order_id="2").line_map
    refunded = dict(purchase.lines.values_list("pk", "refunded_quantity"))
    assert refunded[line_map["2-1"]] == Decimal("1")
    assert refunded[line_map["2-2"]] == Decimal("0")
    assert purchase.refunded_amount == Decimal("120.00")
    assert purchase.refunded_at is None


def test_a_refund_over_what_is_left_refunds_what_is_left(driver):
    """Shipping refunded too: the platform's amount is above the merchandise."""
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(3), created=True))
    deliver(store, *driver.refund_delivery(3, {"id": "r-3a", "amount": "160.00"}))

    deliver(store, *driver.refund_delivery(3, {"id": "r-3b", "amount": "700.00"}))

    purchase = _purchase(store, 3)
    assert purchase.refunded_amount == purchase.amount == Decimal("760.00")
    assert purchase.refunded_at is not None


def test_line_quantities_over_what_is_left_are_capped(driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(4), created=True))
    deliver(store, *driver.refund_delivery(4, {"id": "r-4a", "amount": "120.00",
                                              "lines": [["4-1", "1"]]}))

    deliver(store, *driver.refund_delivery(4, {"id": "r-4b", "amount": "240.00",
                                              "lines": [["4-1", "2"]]}))

    purchase = _purchase(store, 4)
    line_map = ShopOrder.objects.get(store=store, order_id="4").line_map
    assert purchase.lines.get(pk=line_map["4-1"]).refunded_quantity == Decimal("2")
    assert purchase.refunded_amount == Decimal("360.00")


def test_a_refund_of_an_order_not_seen_is_fetched_from_the_api(driver):
    store = driver.store()
    driver.put_order(order_json(5))

    delivery = deliver(store, *driver.refund_delivery(5, {"id": "r-5", "amount": "50.00"}))

    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert _purchase(store, 5).refunded_amount == Decimal("50.00")


def test_a_refund_of_an_order_nowhere_yet_waits_and_is_applied_later(driver):
    store = driver.store()
    delivery = deliver(store, *driver.refund_delivery(6, {"id": "r-6", "amount": "50.00"}))
    assert delivery.status == WebhookDelivery.Status.RECEIVED
    assert "not seen yet" in delivery.error

    deliver(store, *driver.order_delivery(order_json(6), created=True))
    delivery_process(delivery.pk)  # the sweep's retry

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert _purchase(store, 6).refunded_amount == Decimal("50.00")


def test_a_refund_waiting_too_long_fails_visibly(driver):
    store = driver.store()
    delivery = deliver(store, *driver.refund_delivery(7, {"id": "r-7", "amount": "5.00"}))
    for _attempt in range(MAX_ATTEMPTS):
        delivery_process(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == MAX_ATTEMPTS

"""WooCommerce's order JSON carries only a summary of its refunds: each one's total, which
counts a refunded shipping charge as if it were goods, and no lines. A backfill and a webhook
fetch such an order with its refunds in full (/orders/<id>/refunds), so the purchase is
refunded by the goods only, line by line."""
import copy
import json
from decimal import Decimal

import pytest
from django.test import Client

from customers.models import Purchase, PurchaseLine
from shops.models import Store, SyncJob
from shops.services.deliveries import delivery_process
from shops.models import WebhookDelivery
from shops.tests.fakes import woocommerce as woo_fake
from shops.tests.helpers import run_job
from shops.platforms.woocommerce import sign

pytestmark = pytest.mark.django_db

SECRET = "whsec-refund-details"


@pytest.fixture
def api():
    with woo_fake.FakeWooAPI() as fake:
        refund = copy.deepcopy(woo_fake.payload("refunds.json")[0])
        # 108.00 of coffee and 49.90 of shipping given back: the summary says -157.90.
        refund["amount"] = "157.90"
        refund["shipping_lines"] = [{"id": 1312, "method_title": "Yurtiçi Kargo",
                                     "total": "-41.58", "total_tax": "-8.32"}]
        fake.refunds[1207] = [refund]
        order = fake.add_order(1207)
        order["refunds"] = [{"id": refund["id"], "reason": refund["reason"],
                             "total": "-157.90"}]
        yield fake


def _store(api) -> Store:
    store = Store(platform="woocommerce", name="Kahve", key="kahve", base_url=api.base_url)
    store.set_credentials({"consumer_key": api.consumer_key,
                           "consumer_secret": api.consumer_secret})
    store.set_webhook_secret(SECRET)
    store.save()
    return store


def _refunded(purchase: Purchase) -> tuple[Decimal, list[Decimal]]:
    purchase.refresh_from_db()
    lines = list(PurchaseLine.objects.filter(purchase=purchase).order_by("pk")
                 .values_list("refunded_quantity", flat=True))
    return purchase.refunded_amount, lines


def test_a_backfill_refunds_the_goods_not_the_shipping_and_names_the_line(api):
    store = _store(api)

    job = run_job(store, SyncJob.Kind.BACKFILL)

    assert job.status == SyncJob.Status.DONE
    purchase = Purchase.objects.get(source=store.source, external_id="1207")
    assert _refunded(purchase) == (Decimal("108.00"), [Decimal(1), Decimal(0)])
    assert "/wp-json/wc/v3/orders/1207/refunds" in [request.path for request in api.requests]


def test_an_order_webhook_with_a_refund_is_fetched_and_applied_the_same_way(api, client):
    store = _store(api)
    body = json.dumps(api.orders[1207]).encode()
    headers = {"HTTP_X_WC_WEBHOOK_TOPIC": "order.updated",
               "HTTP_X_WC_WEBHOOK_SIGNATURE": sign(SECRET, body),
               "HTTP_X_WC_WEBHOOK_DELIVERY_ID": "d-1", "HTTP_X_WC_WEBHOOK_ID": "9",
               "HTTP_X_WC_WEBHOOK_RESOURCE": "order", "HTTP_X_WC_WEBHOOK_EVENT": "updated"}

    response = Client().post(f"/shops/webhooks/{store.webhook_token}/", body,
                             content_type="application/json", **headers)
    for delivery in WebhookDelivery.objects.filter(store=store):
        delivery_process(delivery.pk)

    assert response.status_code in (200, 202)
    purchase = Purchase.objects.get(source=store.source, external_id="1207")
    assert _refunded(purchase) == (Decimal("108.00"), [Decimal(1), Decimal(0)])

"""The connector's rules on PostgreSQL: the bulk path (COPY staging, set-based merge), real
row locks and advisory locks, concurrent deliveries of one order."""
import threading

import pytest
from django.db import connection

from customers.models import Product, Purchase, PurchaseLine
from shops.models import ShopOrder, SyncJob, WebhookDelivery
from shops.services.deliveries import delivery_process
from shops.tests.helpers import _Headers, deliver, run_job
from shops.tests.stub_platform import order_json

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_backfill_webhook_and_poll_record_each_order_once(driver):
    store = driver.store()
    for order_id in range(1, 121):
        driver.put_order(order_json(order_id, email=f"p{order_id % 9}@example.com",
                                    refunds=[{"id": "r", "amount": "10"}] if order_id == 3
                                    else None))

    backfill = run_job(store, SyncJob.Kind.BACKFILL)
    deliver(store, *driver.order_delivery(order_json(5, email="p5@example.com")))
    poll = run_job(store, SyncJob.Kind.POLL)

    assert (backfill.status, backfill.purchases_created) == (SyncJob.Status.DONE, 120)
    assert poll.purchases_created == 0
    assert Purchase.objects.count() == 120
    assert PurchaseLine.objects.count() == 360
    assert Product.objects.filter(store=store.key).count() == 3
    assert Purchase.objects.get(external_id="3").refunded_amount == 10
    assert all(len(line_map) == 3 for line_map in
               ShopOrder.objects.values_list("line_map", flat=True))


def test_concurrent_deliveries_of_one_order_make_one_purchase(driver):
    store = driver.store()
    platform = store.platform_impl
    from shops.services.deliveries import delivery_receive

    deliveries = []
    for number in range(6):
        headers, body = driver.order_delivery(order_json(1), delivery_id=f"d{number}")
        deliveries.append(delivery_receive(store, platform.delivery_meta(_Headers(headers)),
                                           body)[0].pk)
    errors = []

    def process(delivery_id):
        try:
            delivery_process(delivery_id)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=process, args=(pk,)) for pk in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Purchase.objects.count() == 1 and PurchaseLine.objects.count() == 3
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"processed"}

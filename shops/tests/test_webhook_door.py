"""The door: signature, size, unknown stores, and a broker that is down."""
import datetime as dt
import logging
from unittest import mock

import pytest
from django.test import Client

from customers.models import Purchase
from shops.models import WebhookDelivery
from shops.services.sync import deliveries_sweep
from shops.tests.helpers import post
from shops.tests.stub_platform import order_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)


def test_a_signed_delivery_is_stored_queued_and_answered_200(client, driver,
                                                             django_capture_on_commit_callbacks):
    store = driver.store()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, store, *driver.order_delivery(order_json(1)), driver)

    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PROCESSED  # the (eager) worker ran
    assert Purchase.objects.count() == 1


@pytest.mark.parametrize("signature", ["bad", None])
def test_a_bad_or_missing_signature_is_401_logged_and_nothing_stored(client, driver, caplog,
                                                                     signature):
    store = driver.store()
    headers, body = driver.order_delivery(order_json(1))
    headers = {name: value for name, value in headers.items() if "Signature" not in name}
    if signature:
        headers["X-Stub-Signature"] = signature

    with caplog.at_level(logging.WARNING, logger="shops.views"):
        response = post(client, store, headers, body, driver)

    assert response.status_code == 401
    assert not WebhookDelivery.objects.exists()
    assert f"Shop webhook for store {store.key} refused (HTTP 401)" in caplog.text


def test_signed_with_another_secret_is_401(client, driver):
    store = driver.store()
    headers, body = driver.delivery("order.updated", order_json(1), secret="not-the-secret")
    assert post(client, store, headers, body, driver).status_code == 401


def test_a_10_mb_body_is_413_and_not_stored(client, driver):
    store = driver.store()
    headers, body = driver.delivery("order.updated", b"x" * (10 * 1024 * 1024))

    response = post(client, store, headers, body, driver)

    assert response.status_code == 413
    assert not WebhookDelivery.objects.exists()


def test_a_body_over_the_limit_without_content_length_is_413(driver, rf, settings):
    from shops.views import webhook

    settings.CRM_SHOPS_WEBHOOK_MAX_BYTES = 1000
    store = driver.store()
    headers, body = driver.delivery("order.updated", b"y" * 5000)
    request = rf.post("/", data=body, content_type="application/json",
                      **driver.wsgi_headers(headers))
    del request.META["CONTENT_LENGTH"]

    assert webhook(request, token=store.webhook_token).status_code == 413


def test_unknown_or_inactive_store_is_404(client, driver):
    store = driver.store()
    headers, body = driver.order_delivery(order_json(1))
    assert client.post("/shops/webhooks/nope/", data=body, content_type="application/json",
                       **driver.wsgi_headers(headers)).status_code == 404
    store.active = False
    store.save()
    assert post(client, store, headers, body, driver).status_code == 404


def test_get_is_refused(client, driver):
    store = driver.store()
    assert client.get(f"/shops/webhooks/{store.webhook_token}/").status_code == 405


def test_the_broker_down_still_answers_200_and_the_sweep_processes_it(
        client, driver, django_capture_on_commit_callbacks):
    from shops import tasks

    store = driver.store()
    with mock.patch.object(tasks.delivery_process_task, "apply_async",
                           side_effect=ConnectionError("broker down")), \
            django_capture_on_commit_callbacks(execute=True):
        response = post(client, store, *driver.order_delivery(order_json(1)), driver)

    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.RECEIVED
    WebhookDelivery.objects.update(received_at=delivery.received_at - dt.timedelta(minutes=2))

    queued, _deleted = deliveries_sweep()

    delivery.refresh_from_db()
    assert queued == 1 and delivery.status == WebhookDelivery.Status.PROCESSED
    assert Purchase.objects.count() == 1


def test_the_sweep_deletes_processed_deliveries_after_the_retention(driver, settings):
    from django.utils import timezone

    from shops.tests.helpers import deliver

    settings.CRM_SHOPS_DELIVERY_RETENTION_DAYS = 30
    store = driver.store()
    old = deliver(store, *driver.order_delivery(order_json(1)))
    recent = deliver(store, *driver.order_delivery(order_json(2)))
    WebhookDelivery.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - dt.timedelta(days=31))

    _queued, deleted = deliveries_sweep()

    assert deleted == 1
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [recent.pk]

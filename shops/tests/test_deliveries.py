"""Deliveries: the same one twice is one row, processing twice applies once, a malformed body
fails visibly with nothing else changed, the privacy topics."""
import pytest

from customers.models import Contact, Purchase
from privacy.models import PrivacyLog
from shops.models import ShopOrder, Store, WebhookDelivery
from shops.services.deliveries import delivery_process, delivery_receive
from shops.tests.helpers import _Headers, deliver
from shops.tests.stub_platform import order_json
from support.models import Case

pytestmark = pytest.mark.django_db


def _receive(store, headers, body):
    platform = store.platform_impl
    return delivery_receive(store, platform.delivery_meta(_Headers(headers)), body)


def test_the_same_delivery_twice_is_one_row_and_one_purchase(driver):
    store = driver.store()
    headers, body = driver.order_delivery(order_json(1), created=True, delivery_id="d-1")

    first, created = _receive(store, headers, body)
    again, created_again = _receive(store, headers, body)
    delivery_process(first.pk)
    delivery_process(again.pk)

    assert (created, created_again) == (True, False) and first.pk == again.pk
    assert WebhookDelivery.objects.count() == 1
    assert Purchase.objects.count() == 1


def test_a_delivery_without_an_id_is_known_by_its_body(driver):
    store = driver.store()
    headers, body = driver.order_delivery(order_json(1), delivery_id="")

    first, _ = _receive(store, headers, body)
    again, created = _receive(store, headers, body)

    assert first.pk == again.pk and not created
    assert first.delivery_id.startswith("sha256:")


def test_processing_twice_applies_once(driver):
    store = driver.store()
    delivery = deliver(store, *driver.refund_delivery(1, {"id": "r", "amount": "1"}))
    deliver(store, *driver.order_delivery(order_json(1), created=True))
    delivery_process(delivery.pk)
    delivery_process(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert Purchase.objects.get().refunded_amount == 1


def test_a_malformed_body_fails_visibly_and_changes_nothing_else(driver):
    store = driver.store()

    delivery = deliver(store, *driver.malformed_delivery())

    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "malformed" in delivery.error
    assert not ShopOrder.objects.exists() and not Purchase.objects.exists()
    assert not Contact.objects.exists()


def test_a_ping_is_ignored(driver):
    store = driver.store()
    delivery = deliver(store, *driver.delivery("ping", {}))
    assert delivery.status == WebhookDelivery.Status.IGNORED


def test_customer_redact_erases_the_contact_and_the_bodies_naming_them(driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(1, email="gone@example.com"),
                                          created=True))
    kept = deliver(store, *driver.order_delivery(order_json(2, email="stays@example.com"),
                                                 created=True))
    contact = Contact.objects.get(email="gone@example.com")

    redact = deliver(store, *driver.redact_delivery(["gone@example.com"]))

    contact.refresh_from_db()
    assert redact.status == WebhookDelivery.Status.PROCESSED
    assert contact.email.endswith("@erased.invalid")
    assert PrivacyLog.objects.filter(contact_ref=contact.pk, action="erase").exists()
    assert not ShopOrder.objects.filter(order_id="1").exists()  # the order ids are personal
    assert Purchase.objects.filter(external_id="1").exists()  # the figures stay
    bodies = dict(WebhookDelivery.objects.values_list("pk", "body"))
    assert all(b"gone@example.com" not in bytes(body) for body in bodies.values())
    assert b"stays@example.com" in bytes(bodies[kept.pk])


def test_a_data_request_opens_a_case_for_each_contact_held(driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(1, email="asks@example.com"),
                                          created=True))

    delivery = deliver(store, *driver.data_request_delivery(
        ["asks@example.com", "unknown@example.com"]))

    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert "1 of 2" in delivery.error
    case = Case.objects.get()
    assert case.contact.email == "asks@example.com" and store.name in case.subject


def test_shop_redact_forgets_the_stores_secrets_and_bodies(driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(1), created=True))

    deliver(store, *driver.shop_redact_delivery())

    store = Store.objects.get(pk=store.pk)
    assert not store.active
    assert store.credentials_encrypted == "" and store.webhook_secret_encrypted == ""
    assert all(bytes(body) == b"" for body in
               WebhookDelivery.objects.values_list("body", flat=True))
    assert Purchase.objects.count() == 1  # its orders stay as purchases

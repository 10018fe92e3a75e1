"""Shopify's consent update names the customer by id and may leave the email address out
(a customer the shop knew by phone then): the customer is read from the store by id, and the
update's own consent goes to the ledger for the contact with that email."""
import copy
import json

import pytest

from customers.consent.models import ConsentMethod, ConsentRecord
from customers.models import Contact
from shops.models import Store, WebhookDelivery
from shops.tests.fakes import shopify as shopify_fake
from shops.tests.helpers import deliver

pytestmark = pytest.mark.django_db

SECRET = "whsec-consent"
TOPIC = "customers/email_marketing_consent/update"


@pytest.fixture
def api():
    with shopify_fake.FakeShopify() as fake:
        yield fake


def _store(api) -> Store:
    store = Store(platform="shopify", name="Anadolu", key="anadolu", base_url=api.base_url)
    store.set_credentials({"access_token": api.token, "api_secret_key": SECRET})
    store.set_webhook_secret(SECRET)
    store.save()
    return store


def _update_without_email() -> bytes:
    update = copy.deepcopy(shopify_fake.payload("customers_email_marketing_consent_update"))
    update["email_address"] = None
    return json.dumps(update).encode()


def test_a_consent_update_without_email_is_read_by_id_and_recorded(api):
    store = _store(api)
    customer = copy.deepcopy(shopify_fake.payload("customers_update"))
    # In the store now: the customer with an email, whose consent reads as not yet changed.
    customer.update(id=706405506930370084, email="mehmet.demir@example.com",
                    email_marketing_consent=None)
    api.customers[customer["id"]] = customer
    body = _update_without_email()

    deliver(store, shopify_fake.webhook_headers(body, topic=TOPIC, secret=SECRET), body)

    contact = Contact.objects.get(email="mehmet.demir@example.com")
    record = ConsentRecord.objects.get(contact=contact)
    assert contact.marketing_consent is True
    assert (record.method, record.evidence) == (
        ConsentMethod.SHOP, "Shopify customer 706405506930370084: "
                            "email_marketing_consent=subscribed (single_opt_in)")
    assert "/admin/api/2025-07/customers/706405506930370084.json" in [
        request.path for request in api.requests]


def test_a_customer_the_store_no_longer_has_is_left_out_with_the_reason(api):
    store = _store(api)
    body = _update_without_email()

    deliver(store, shopify_fake.webhook_headers(body, topic=TOPIC, secret=SECRET), body)

    assert not ConsentRecord.objects.exists()
    delivery = WebhookDelivery.objects.get()
    assert "no email" in delivery.error

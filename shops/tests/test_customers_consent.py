"""Customers and their consent from the shop: the contact by email, blanks filled, the
ledger entry with the platform's evidence, never over a later decision."""
import datetime as dt

import pytest

from customers.consent.models import ConsentMethod, ConsentRecord
from customers.consent.services import consent_record
from customers.models import Contact
from customers.tests.factories import ContactFactory
from shops.tests.helpers import deliver
from shops.tests.stub_platform import order_json

pytestmark = pytest.mark.django_db

GIVEN = {"given": True, "at": "2026-11-01T09:00:00+03:00",
         "evidence": "stub customer 42: accepts_marketing=true"}


def test_consent_given_in_the_shop_goes_to_the_ledger_with_its_evidence(driver):
    store = driver.store()
    deliver(store, *driver.customer_delivery({"email": "ece@example.com", "id": "42",
                                              "first_name": "Ece", "consent": GIVEN}))

    contact = Contact.objects.get(email="ece@example.com")
    record = ConsentRecord.objects.get(contact=contact)
    assert contact.marketing_consent is True
    assert (record.method, record.source, record.evidence) == (
        ConsentMethod.SHOP, store.source, GIVEN["evidence"])
    assert record.occurred_at == dt.datetime.fromisoformat(GIVEN["at"])


def test_consent_sent_again_writes_nothing_more(driver):
    store = driver.store()
    customer = {"email": "ece@example.com", "consent": GIVEN}
    deliver(store, *driver.customer_delivery(customer))
    deliver(store, *driver.customer_delivery(customer))
    deliver(store, *driver.order_delivery(order_json(1, email="ece@example.com",
                                                     consent=GIVEN), created=True))

    assert ConsentRecord.objects.count() == 1


def test_an_older_shop_consent_never_overrides_a_later_withdrawal(driver):
    store = driver.store()
    contact = ContactFactory(email="ece@example.com")
    consent_record(contact=contact, given=False, method=ConsentMethod.UNSUBSCRIBE_LINK,
                   occurred_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))

    deliver(store, *driver.customer_delivery({"email": "ece@example.com", "consent": GIVEN}))

    contact.refresh_from_db()
    assert contact.marketing_consent is False
    assert not ConsentRecord.objects.filter(method=ConsentMethod.SHOP).exists()


def test_a_withdrawal_in_the_shop_is_recorded(driver):
    store = driver.store()
    deliver(store, *driver.customer_delivery({"email": "ece@example.com", "consent": GIVEN}))

    deliver(store, *driver.customer_delivery({"email": "ece@example.com", "consent": {
        "given": False, "at": "2026-11-10T09:00:00+03:00", "evidence": "unsubscribed"}}))

    contact = Contact.objects.get(email="ece@example.com")
    assert contact.marketing_consent is False
    assert ConsentRecord.objects.filter(contact=contact).count() == 2


def test_a_customer_fills_blanks_and_never_overwrites(driver):
    store = driver.store()
    ContactFactory(email="ece@example.com", first_name="Ece", last_name="", phone="")

    deliver(store, *driver.customer_delivery({
        "email": "ece@example.com", "first_name": "Other", "last_name": "Kaya",
        "phone": "+90 532 000 0000"}))

    contact = Contact.objects.get(email="ece@example.com")
    assert (contact.first_name, contact.last_name) == ("Ece", "Kaya")
    assert contact.phone.endswith("5320000000")


def test_an_unusable_phone_still_fills_the_names(driver):
    store = driver.store()
    deliver(store, *driver.customer_delivery({"email": "ece@example.com", "first_name": "Ece",
                                              "phone": "not a phone"}))
    contact = Contact.objects.get(email="ece@example.com")
    assert contact.first_name == "Ece" and contact.phone == ""

"""A shop's order by the buyer's email (customers.services.purchase_record_by_email)."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import Contact, Purchase, Stage
from customers.services.purchases import purchase_record_by_email
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _order(**changes) -> dict:
    return {"email": "ayse@example.com", "purchased_at": timezone.now() - dt.timedelta(days=2),
            "amount": Decimal("40.00"), "currency": "USD", "source": "shop",
            "external_id": "1001", **changes}


def test_new_buyer_becomes_a_one_time_buyer_with_their_names():
    result = purchase_record_by_email(**_order(email="  Ayse@Example.COM ",
                                               first_name=" Ayşe ", last_name="Yılmaz"))

    contact = Contact.objects.get()
    assert result.created
    assert result.purchase.pk is not None
    assert result.purchase.contact == contact
    assert (contact.email, contact.first_name, contact.last_name) == (
        "ayse@example.com", "Ayşe", "Yılmaz")
    assert contact.stage == Stage.ONE_TIME
    assert contact.total_spent == Decimal("40.00")


def test_known_buyer_keeps_their_names_and_gains_the_purchase():
    known = ContactFactory(email="ayse@example.com", first_name="Ayşe")
    purchase_record_by_email(**_order(external_id="1000",
                                      purchased_at=timezone.now() - dt.timedelta(days=30)))

    purchase_record_by_email(**_order(first_name="Someone", last_name="Else"))

    known.refresh_from_db()
    assert Contact.objects.count() == 1
    assert known.first_name == "Ayşe"
    assert known.purchase_count == 2
    assert known.stage == Stage.REPEAT


def test_a_retry_answers_with_the_first_record_and_counts_nothing_twice():
    first = purchase_record_by_email(**_order())

    again = purchase_record_by_email(**_order(amount=Decimal("99")))

    assert not again.created
    assert again.purchase.pk == first.purchase.pk
    assert Purchase.objects.count() == 1
    assert Contact.objects.get().total_spent == Decimal("40.00")


def test_an_order_known_under_another_buyer_creates_no_contact():
    purchase_record_by_email(**_order())

    again = purchase_record_by_email(**_order(email="someone-else@example.com"))

    assert not again.created
    assert list(Contact.objects.values_list("email", flat=True)) == ["ayse@example.com"]


def test_a_refused_purchase_leaves_no_new_contact_behind():
    with pytest.raises(ValidationError) as refused:
        purchase_record_by_email(**_order(currency="XXX"))

    assert "currency" in refused.value.message_dict
    assert not Contact.objects.exists()
    assert not Purchase.objects.exists()


def test_orders_without_an_external_id_are_each_recorded():
    for days_ago in (3, 2):
        purchase_record_by_email(**_order(external_id=None,
                                          purchased_at=timezone.now() - dt.timedelta(days=days_ago)))

    assert Purchase.objects.count() == 2
    assert Contact.objects.get().purchase_count == 2

"""Concurrent purchase inserts for one contact keep its figures exact (PostgreSQL row locks)."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.tests.concurrency import at_once
from customers.models import Contact, Stage
from customers.services.purchases import purchase_record, purchase_record_by_email
from customers.tests.factories import ContactFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 12


def _run_in_threads(work) -> list[BaseException]:
    return at_once(work, threads=THREADS)[1]


def test_concurrent_purchases_on_different_days_are_all_counted():
    contact = ContactFactory()
    start = timezone.now() - dt.timedelta(days=100)

    errors = _run_in_threads(lambda i: purchase_record(
        contact=Contact.objects.get(pk=contact.pk), purchased_at=start + dt.timedelta(days=i),
        amount=Decimal("1.25"), currency="USD"))

    contact.refresh_from_db()
    assert errors == []
    assert contact.purchase_count == THREADS
    assert contact.stage == Stage.REPEAT
    assert contact.total_spent == Decimal("1.25") * THREADS
    assert contact.first_purchase_at == start
    assert contact.last_purchase_at == start + dt.timedelta(days=THREADS - 1)


def test_concurrent_retries_of_one_order_create_one_purchase():
    contact = ContactFactory()
    when = timezone.now() - dt.timedelta(days=1)
    results = []

    errors = _run_in_threads(lambda i: results.append(purchase_record(
        contact=Contact.objects.get(pk=contact.pk), purchased_at=when, amount=Decimal("30"),
        currency="USD", source="shop", external_id="order-42")))

    contact.refresh_from_db()
    assert errors == []
    assert sum(result.created for result in results) == 1
    assert contact.purchases.count() == 1
    assert contact.total_spent == Decimal("30")


def test_concurrent_orders_of_a_new_buyer_make_one_contact_and_count_every_order():
    start = timezone.now() - dt.timedelta(days=100)

    errors = _run_in_threads(lambda i: purchase_record_by_email(
        email="New.Buyer@Example.com", purchased_at=start + dt.timedelta(days=i),
        amount=Decimal("2"), currency="USD", source="shop", external_id=f"order-{i}"))

    assert errors == []
    contact = Contact.objects.get()
    assert contact.email == "new.buyer@example.com"
    assert contact.purchase_count == THREADS
    assert contact.total_spent == Decimal("2") * THREADS

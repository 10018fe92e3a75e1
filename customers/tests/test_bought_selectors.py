"""Reads of what contacts bought (customers.bought.selectors): the usual products, what
others bought with them, and which (contact, product) are due for a reorder; refunds left out."""
import datetime as dt

import pytest
from django.utils import timezone

from customers.bought.pairs import product_pairs_refresh, product_reorder_refresh
from customers.bought.selectors import also_bought, reorder_due, usual_products
from customers.models import Product
from customers.services.refunds import purchase_refund
from customers.tests.bought import buy, line
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.CRM_BASE_CURRENCY = "USD"
    settings.CRM_COOCCURRENCE_MIN_SUPPORT = 2
    settings.CRM_REORDER_MIN_CONTACTS = 2
    settings.CRM_REORDER_CATCH_UP_DAYS = 14


def _pairs_shop():
    """Two contacts bought TEA with HONEY, two TEA with POT and CUP: pairs of support 2."""
    for _ in range(2):
        buy(ContactFactory(), "TEA", "HONEY")
    for _ in range(2):
        buy(ContactFactory(), "TEA", "POT", "CUP")
    product_pairs_refresh()


def _names(found: dict, contact) -> list[str]:
    return [ref.name for ref in found.get(contact.pk, [])]


def test_usual_products_are_the_ones_in_most_purchases_ties_to_the_latest():
    contact = ContactFactory()
    buy(contact, "TEA", "HONEY", days_ago=30)
    buy(contact, "TEA", "POT", days_ago=20)
    buy(contact, "TEA", "CUP", days_ago=10)
    buy(contact, "SOAP", days_ago=5)
    buy(contact, lines=[line("TEA", quantity=5)], days_ago=40)  # quantity is not purchases

    # TEA in 4 purchases; then SOAP, CUP, POT, HONEY once each: the latest first.
    assert _names(usual_products([contact.pk]), contact) == ["Tea", "Soap", "Cup"]


def test_refunded_lines_and_purchases_do_not_count():
    contact = ContactFactory()
    buy(contact, "SOAP", days_ago=30)
    purchase_refund(purchase=buy(contact, "TEA", "HONEY", days_ago=20))
    partly = buy(contact, "TEA", "POT", days_ago=10)
    purchase_refund(purchase=partly, lines={partly.lines.get(product__sku="TEA").pk: 1})

    assert _names(usual_products([contact.pk]), contact) == ["Pot", "Soap"]


def test_usual_products_for_a_batch_is_two_queries(django_assert_num_queries):
    contacts = [ContactFactory() for _ in range(5)]
    for contact in contacts:
        buy(contact, "TEA", "HONEY")

    with django_assert_num_queries(2):
        found = usual_products([c.pk for c in contacts])
    assert all(len(found[c.pk]) == 2 for c in contacts)


def test_also_bought_excludes_what_the_contact_had_and_ranks_by_lift():
    _pairs_shop()
    contact = ContactFactory()
    buy(contact, "TEA", "POT")

    # With TEA and POT bought: CUP (lift 2 from POT) before HONEY (lift 1 from TEA).
    assert _names(also_bought([contact.pk]), contact) == ["Cup", "Honey"]


def test_also_bought_is_empty_without_lines_or_pairs():
    contact = ContactFactory()
    assert also_bought([contact.pk]) == {}


def test_due_with_the_contacts_own_interval():
    contact = ContactFactory()
    buy(contact, "TEA", days_ago=50)
    buy(contact, "TEA", days_ago=30)  # own interval 20: due 10 days ago
    today = timezone.localdate()

    [due] = reorder_due(today=today)

    assert (due.contact_id, due.product_id, due.interval_days) == (
        contact.pk, Product.objects.get(sku="TEA").pk, 20)
    assert due.due_on == due.last_purchased_on + dt.timedelta(days=20)
    assert reorder_due(today=today, catch_up_days=5) == []  # too late by then
    assert reorder_due(today=today - dt.timedelta(days=11)) == []  # not yet


def test_due_with_the_products_interval_when_bought_once():
    for _ in range(2):
        regular = ContactFactory()
        buy(regular, "HONEY", days_ago=200)
        buy(regular, "HONEY", days_ago=170)
    newcomer = ContactFactory()
    buy(newcomer, "HONEY", days_ago=30)
    product_reorder_refresh()

    due = reorder_due(today=timezone.localdate())

    assert [(d.contact_id, d.interval_days) for d in due] == [(newcomer.pk, 30)]

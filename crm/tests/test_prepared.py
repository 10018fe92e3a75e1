"""crm.prepared.PreparedLookup: compiled once, answers like the queryset it was built from."""
import pytest
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat

from customers.models import Contact, Purchase
from customers.tests.factories import ContactFactory, record_purchase
from crm.prepared import PreparedLookup

pytestmark = pytest.mark.django_db

BY_EMAIL = PreparedLookup(lambda email: Contact.objects.filter(email=email), email="stand-in")


def test_each_run_uses_its_own_values():
    ann, bob = ContactFactory(email="ann@example.com"), ContactFactory(email="bob@example.com")

    assert BY_EMAIL.first(email="ann@example.com") == ann
    assert BY_EMAIL.first(email="bob@example.com") == bob
    assert BY_EMAIL.first(email="nobody@example.com") is None


def test_instances_match_the_orm_field_by_field():
    purchase = record_purchase(ContactFactory(), days_ago=3)
    lookup = PreparedLookup(
        lambda pk: Purchase.objects.select_related("contact")
        .annotate(label=Concat("source", Value("/"), "currency")).filter(pk=pk),
        pk=-1)

    found = lookup.first(pk=purchase.pk)
    expected = Purchase.objects.select_related("contact").get(pk=purchase.pk)

    for field in Purchase._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert found.contact.email == expected.contact.email  # from the same row: no query
    assert found.label == f"{purchase.source}/{purchase.currency}"
    assert found._state.adding is False


def test_a_placeholder_must_appear_exactly_once():
    ContactFactory(email="ann@example.com")
    ambiguous = PreparedLookup(
        lambda email: Contact.objects.filter(email=email, first_name=email), email="same")

    with pytest.raises(RuntimeError):
        ambiguous.first(email="ann@example.com")


def test_wrong_values_are_refused():
    with pytest.raises(TypeError):
        BY_EMAIL.first(mail="ann@example.com")


@pytest.mark.django_db(transaction=True)  # autocommit outside the atomic block, as in production
def test_a_locking_lookup_refuses_to_run_outside_a_transaction():
    locked = PreparedLookup(lambda email: Contact.objects.select_for_update().filter(email=email),
                            email="stand-in")
    ContactFactory(email="ann@example.com")
    with transaction.atomic():
        assert locked.first(email="ann@example.com").email == "ann@example.com"

    if transaction.get_connection().features.has_select_for_update:
        with pytest.raises(RuntimeError):
            locked.first(email="ann@example.com")

"""Partial refunds: the purchase still counts, its value drops everywhere values are used."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from customers.models import CurrencyRate, Purchase, Stage
from customers.scoring.store import day_rows
from customers.services.purchases import purchase_record
from customers.services.refunds import purchase_refund
from customers.stats import contacts_with_drift
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.CRM_BASE_CURRENCY = "USD"


def _two_purchases():
    contact = ContactFactory()
    first = record_purchase(contact, days_ago=30, amount="100.00")
    second = record_purchase(contact, days_ago=2, amount="40.00")
    return contact, first, second


def test_a_partial_refund_lowers_the_value_and_keeps_the_purchase_counting():
    contact, first, _second = _two_purchases()

    purchase_refund(purchase=first, amount=Decimal("25.00"))

    contact.refresh_from_db()
    first.refresh_from_db()
    assert (first.refunded_amount, first.refunded_amount_base) == (Decimal("25"), Decimal("25"))
    assert first.refunded_at is None and not first.is_refunded
    assert (contact.purchase_count, contact.stage) == (2, Stage.REPEAT)
    assert contact.total_spent == Decimal("115.00")
    assert not contacts_with_drift().exists()


def test_refunds_add_up_and_the_whole_amount_is_a_full_refund():
    contact, _first, second = _two_purchases()

    purchase_refund(purchase=second, amount=Decimal("15"))
    purchase_refund(purchase=second, amount=Decimal("25"))

    contact.refresh_from_db()
    second.refresh_from_db()
    assert second.is_refunded and second.refunded_amount == Decimal("40")
    assert (contact.purchase_count, contact.stage) == (1, Stage.ONE_TIME)
    assert contact.total_spent == Decimal("100.00")


def test_a_full_refund_after_a_partial_one_refunds_the_rest():
    _contact, first, _second = _two_purchases()
    purchase_refund(purchase=first, amount=Decimal("30"))

    purchase_refund(purchase=first)

    first.refresh_from_db()
    assert first.is_refunded and first.refunded_amount == Decimal("100")


@pytest.mark.parametrize(("amount", "message"), [
    (Decimal("100.01"), "At most $100.00 of this purchase can still be refunded."),
    (Decimal("0"), "Give an amount to refund above zero."),
    (Decimal("-5"), "Amount cannot be negative"),
    (Decimal("1.001"), "USD amounts have at most 2 decimal places."),
])
def test_a_refund_that_cannot_be_is_refused_and_changes_nothing(amount, message):
    contact, first, _second = _two_purchases()

    with pytest.raises(ValidationError) as refused:
        purchase_refund(purchase=first, amount=amount)

    first.refresh_from_db()
    contact.refresh_from_db()
    assert message in " ".join(refused.value.messages)
    assert first.refunded_amount == 0 and contact.total_spent == Decimal("140.00")


def test_a_foreign_currency_refund_is_converted_like_the_purchase(settings):
    CurrencyRate.objects.create(currency="EUR", rate=Decimal("1.2"))
    contact = ContactFactory()
    purchase = purchase_record(contact=contact, purchased_at=timezone.now() - dt.timedelta(days=1),
                               amount=Decimal("50"), currency="EUR").purchase

    purchase_refund(purchase=purchase, amount=Decimal("10"))

    purchase.refresh_from_db()
    contact.refresh_from_db()
    assert purchase.refunded_amount_base == Decimal("12.000")
    assert contact.total_spent == Decimal("48.000")


def test_scores_and_kpis_see_the_value_after_the_refund():
    _contact, first, _second = _two_purchases()

    purchase_refund(purchase=first, amount=Decimal("60"))

    rows = day_rows(as_of=timezone.localdate())
    assert sorted(rows.spend.tolist()) == [40.0, 40.0]


def test_managers_refund_part_of_a_purchase_in_the_admin(client, manager):
    contact, first, _second = _two_purchases()
    client.force_login(manager)
    url = reverse("admin:customers_purchase_change", args=[first.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields
            if form[name].value() is not None and name != "purchased_at"}
    local = timezone.localtime(first.purchased_at)
    data.update({"purchased_at_0": local.strftime("%Y-%m-%d"),
                 "purchased_at_1": local.strftime("%H:%M:%S")})

    too_much = client.post(url, {**data, "refund_amount": "150"})
    too_precise = client.post(url, {**data, "refund_amount": "1.001"})
    done = client.post(url, {**data, "refund_amount": "30"})

    assert too_much.status_code == too_precise.status_code == 200  # the form, with the reason
    assert "At most $100.00 of this purchase can still be refunded." in (
        too_much.content.decode())
    assert "USD amounts have at most 2 decimal places." in too_precise.content.decode()
    assert done.status_code == 302
    first.refresh_from_db()
    contact.refresh_from_db()
    assert first.refunded_amount == Decimal("30") and contact.total_spent == Decimal("110.00")


def test_the_api_shows_what_was_refunded(client, sales_user):
    from api.tests.helpers import token_client

    _contact, first, _second = _two_purchases()
    purchase_refund(purchase=first, amount=Decimal("12.50"))

    rows = token_client(sales_user).get(f"/api/purchases/?contact={first.contact_id}").json()

    refunded = {row["id"]: row["refunded_amount"] for row in rows["results"]}
    assert refunded[first.pk] == "12.500"
    assert Purchase.objects.get(pk=first.pk).refunded_amount == Decimal("12.5")

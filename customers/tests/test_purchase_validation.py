"""Bad purchase input gets a clear error per field and stores nothing."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import CurrencyRate, Purchase
from customers.services.purchases import purchase_record
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _record(contact, **overrides):
    values = {"purchased_at": timezone.now(), "amount": Decimal("10"), "currency": "USD"}
    values.update(overrides)
    return purchase_record(contact=contact, **values)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount": Decimal("-1")}, "amount", "cannot be negative"),
        ({"amount": Decimal("1.234")}, "amount", "at most 2 decimal places"),
        ({"amount": Decimal("100.5"), "currency": "JPY"}, "amount", "at most 0 decimal places"),
        ({"amount": Decimal("NaN")}, "amount", "finite"),
        ({"amount": Decimal("1e12")}, "amount", "too large"),
        ({"currency": "XYZ"}, "currency", "Unknown currency XYZ"),
        ({"currency": ""}, "currency", "Currency is required"),
        ({"currency": "TLX"}, "currency", "Unknown currency TLX"),
        ({"purchased_at": timezone.now() + dt.timedelta(days=3)}, "purchased_at", "future"),
        ({"purchased_at": dt.datetime(1969, 12, 31, tzinfo=dt.timezone.utc)}, "purchased_at", "before 1970"),
        ({"purchased_at": dt.datetime(2024, 1, 1, 12, 0)}, "purchased_at", "needs a time zone"),
    ],
)
def test_bad_purchase_is_rejected_with_a_clear_error(overrides, field, message):
    contact = ContactFactory()

    with pytest.raises(ValidationError) as caught:
        _record(contact, **overrides)

    assert message in " ".join(caught.value.message_dict[field])
    assert Purchase.objects.count() == 0
    contact.refresh_from_db()
    assert contact.purchase_count == 0


def test_lower_case_currency_is_accepted_and_stored_upper_case():
    purchase = _record(ContactFactory(), currency="usd").purchase

    assert purchase.currency == "USD"


def test_jpy_amount_with_trailing_zero_decimals_is_accepted(settings):
    settings.CRM_BASE_CURRENCY = "JPY"

    purchase = _record(ContactFactory(), amount=Decimal("1500.00"), currency="JPY").purchase

    assert purchase.amount == Decimal("1500")


def test_foreign_currency_is_converted_to_base_for_totals():
    CurrencyRate.objects.create(currency="EUR", rate=Decimal("1.10"))
    contact = ContactFactory()

    purchase = _record(contact, amount=Decimal("20.00"), currency="EUR").purchase

    contact.refresh_from_db()
    assert (purchase.amount, purchase.currency) == (Decimal("20.00"), "EUR")
    assert purchase.amount_base == Decimal("22.000")
    assert contact.total_spent == Decimal("22.000")


def test_same_external_id_from_same_source_is_recorded_once():
    contact = ContactFactory()
    first = _record(contact, source="shop", external_id="order-1")

    again = _record(contact, source="shop", external_id="order-1", amount=Decimal("99"))

    assert first.created is True
    assert again.created is False
    assert again.purchase == first.purchase
    assert Purchase.objects.count() == 1
    contact.refresh_from_db()
    assert contact.total_spent == Decimal("10")


def test_same_external_id_from_another_source_is_another_purchase():
    contact = ContactFactory()
    _record(contact, source="shop", external_id="1")

    other = _record(contact, source="marketplace", external_id="1")

    assert other.created is True
    assert Purchase.objects.count() == 2


def test_blank_external_id_never_deduplicates():
    contact = ContactFactory()
    _record(contact, external_id="  ")
    _record(contact, external_id="")

    assert Purchase.objects.filter(external_id__isnull=True).count() == 2


def test_four_place_currency_is_kept_to_the_three_places_we_store():
    CurrencyRate.objects.create(currency="CLF", rate=Decimal("40.5"))
    contact = ContactFactory()

    purchase = _record(contact, amount=Decimal("1.125"), currency="CLF").purchase
    with pytest.raises(ValidationError) as caught:
        _record(contact, amount=Decimal("1.1255"), currency="CLF")

    assert purchase.amount == Decimal("1.125")
    assert "at most 3 decimal places" in " ".join(caught.value.message_dict["amount"])
    assert Purchase.objects.count() == 1

"""The purchase import with exchange rates per day: rates loaded once per currency, each row
converted at its purchase day's rate or staged provisional (NULL), on SQLite and on
PostgreSQL (COPY), and converted later with the contacts' figures right."""
import datetime as dt
from decimal import Decimal

import pytest

from customers.imports.purchases import purchases_import_csv
from customers.models import Contact, CurrencyRate, Purchase
from customers.services.rates import rates_save
from customers.stats import contacts_with_drift

ROWS = """email,purchased_at,amount,currency,external_id
ayse@example.com,2026-12-04T10:00:00+00:00,1000.00,TRY,A-1
ayse@example.com,2026-11-20T10:00:00+00:00,500.00,try,A-2
ayse@example.com,2026-11-21T10:00:00+00:00,30.00,EUR,A-3
can@example.com,2026-11-20T11:00:00+00:00,250.00,TRY,C-1
can@example.com,2026-12-04T11:00:00+00:00,100.00,AED,C-2
deniz@example.com,2026-12-04T12:00:00+00:00,10.00,TLX,D-1
"""


def _import(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(ROWS, encoding="utf-8")
    return purchases_import_csv(file=path, source="shop", skip_invalid=True)


def _check(tmp_path, django_assert_max_num_queries=None):
    CurrencyRate.objects.create(currency="TRY", day=dt.date(2026, 12, 3), rate=Decimal("0.02"),
                                source="ecb")
    result = _import(tmp_path)
    assert result.purchases_created == 5
    assert result.errors == [(7, "deniz@example.com", [
        "Unknown currency TLX: use an ISO 4217 code such as USD, EUR or TRY."])]
    base = dict(Purchase.objects.values_list("external_id", "amount_base"))
    assert base == {"A-1": Decimal("20.000"), "A-2": None, "A-3": Decimal("30.000"),
                    "C-1": None, "C-2": None}
    figures = dict(Contact.objects.values_list("email", "total_spent"))
    assert figures == {"ayse@example.com": Decimal("50.000"), "can@example.com": Decimal("0")}
    assert Contact.objects.get(email="can@example.com").purchase_count == 2

    saved, converted = rates_save({"TRY": Decimal("0.025"), "AED": Decimal("0.25")},
                                  day=dt.date(2026, 11, 20), source="manual")
    assert (saved, converted) == (2, 3)
    base = dict(Purchase.objects.values_list("external_id", "amount_base"))
    assert base == {"A-1": Decimal("20.000"), "A-2": Decimal("12.500"),
                    "A-3": Decimal("30.000"), "C-1": Decimal("6.250"), "C-2": Decimal("25.000")}
    figures = dict(Contact.objects.values_list("email", "total_spent"))
    assert figures == {"ayse@example.com": Decimal("62.500"),
                       "can@example.com": Decimal("31.250")}
    assert not contacts_with_drift().exists()


@pytest.mark.django_db
def test_import_converts_per_day_or_stages_provisional_sqlite(tmp_path, settings):
    settings.CRM_BASE_CURRENCY = "EUR"
    _check(tmp_path)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_import_converts_per_day_or_stages_provisional_postgres(tmp_path, settings):
    settings.CRM_BASE_CURRENCY = "EUR"
    _check(tmp_path)


@pytest.mark.django_db
def test_rates_are_read_once_per_currency_not_per_row(tmp_path, settings,
                                                      django_assert_max_num_queries):
    settings.CRM_BASE_CURRENCY = "EUR"
    rows = "".join(f"x{n}@example.com,2026-12-0{1 + n % 4}T10:00:00+00:00,10.00,"
                   f"{('TRY', 'USD', 'GBP')[n % 3]},X-{n}\n" for n in range(300))
    path = tmp_path / "many.csv"
    path.write_text("email,purchased_at,amount,currency,external_id\n" + rows)
    from customers.imports import purchase_rows

    calls = []
    real = purchase_rows.RateBook._load

    def counting(self, currency):
        if currency not in self._rates:
            calls.append(currency)
        return real(self, currency)

    purchase_rows.RateBook._load = counting
    try:
        result = purchases_import_csv(file=path, source="shop")
    finally:
        purchase_rows.RateBook._load = real
    assert result.purchases_created == 300
    assert sorted(calls) == ["GBP", "TRY", "USD"]

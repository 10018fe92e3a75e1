"""Admin helpers: a paginator that never scans a big table, and streamed, safe CSV."""
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from crm import admin_tools
from crm.admin_tools import (
    EstimatedCountPaginator,
    csv_lines,
    estimated_row_count,
    with_probing_dates,
)
from customers.models import Contact, Purchase
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_contacts():
    return ContactFactory.create_batch(5)


def test_unfiltered_big_table_uses_the_estimate(monkeypatch, five_contacts,
                                                django_assert_num_queries):
    monkeypatch.setattr(admin_tools, "estimated_row_count", lambda model, using: 2_000_000)
    paginator = EstimatedCountPaginator(Contact.objects.all(), 100)
    with django_assert_num_queries(0):
        assert paginator.count == 2_000_000
    assert paginator.num_pages == 20_000


def test_small_estimate_counts_for_real(monkeypatch, five_contacts):
    monkeypatch.setattr(admin_tools, "estimated_row_count", lambda model, using: 4)
    assert EstimatedCountPaginator(Contact.objects.all(), 100).count == 5


def test_unknown_estimate_counts_for_real(monkeypatch, five_contacts):
    monkeypatch.setattr(admin_tools, "estimated_row_count", lambda model, using: None)
    assert EstimatedCountPaginator(Contact.objects.all(), 100).count == 5


def test_filtered_queryset_counts_for_real(monkeypatch, five_contacts):
    monkeypatch.setattr(admin_tools, "estimated_row_count", lambda model, using: 2_000_000)
    filtered = Contact.objects.filter(pk__in=[c.pk for c in five_contacts[:2]])
    assert EstimatedCountPaginator(filtered, 100).count == 2


def test_filtered_count_stops_at_the_cap(five_contacts):
    class Capped(EstimatedCountPaginator):
        count_cap = 3

    assert Capped(Contact.objects.filter(pk__gt=0), 100).count == 3


def test_lists_are_counted_normally():
    assert EstimatedCountPaginator([1, 2, 3], 2).count == 3


def test_no_estimate_off_postgresql():
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL has an estimate")
    assert estimated_row_count(Contact) is None


@pytest.mark.postgres
def test_postgres_estimate_follows_analyze(five_contacts):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_contact")
    assert estimated_row_count(Contact) == 5


@pytest.mark.postgres
def test_postgres_paginator_uses_reltuples_without_count(five_contacts, django_assert_num_queries):
    class LowThreshold(EstimatedCountPaginator):
        estimate_threshold = 1

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_contact")
    with django_assert_num_queries(1) as captured:
        assert LowThreshold(Contact.objects.all(), 100).count == 5
    assert "pg_class" in captured.captured_queries[0]["sql"]


def test_csv_lines_start_with_a_bom_and_escape_cells():
    lines = list(csv_lines(["name", "n"], [["=1+1", -2], ["ok", 3]]))
    assert "".join(lines) == "\ufeffname,n\r\n'=1+1,-2\r\nok,3\r\n"


def test_csv_lines_are_batched():
    rows = [[n] for n in range(1001)]
    chunks = list(csv_lines(["n"], rows))
    # header, then 500 + 500 + 1 rows
    assert [chunk.count("\r\n") for chunk in chunks] == [1, 500, 500, 1]


# --- Date hierarchy by probing --------------------------------------------------------------

def _purchases_at(*moments):
    from customers.services.purchases import purchase_record

    contact = ContactFactory()
    for moment in moments:
        purchase_record(contact=contact, purchased_at=moment, amount=Decimal("1"),
                        currency="USD")
    return Purchase.objects.all()


@pytest.mark.parametrize("kind", ["year", "month"])
def test_probing_dates_match_django_across_a_time_zone(kind):
    purchases = _purchases_at(
        dt.datetime(2020, 3, 5, 12, tzinfo=dt.timezone.utc),
        dt.datetime(2022, 7, 1, 0, tzinfo=dt.timezone.utc),
        # 02:30 on 1 January 2024 in Istanbul: another year and month there.
        dt.datetime(2023, 12, 31, 23, 30, tzinfo=dt.timezone.utc),
    )
    with timezone.override(ZoneInfo("Europe/Istanbul")):
        expected = list(purchases.datetimes("purchased_at", kind))
        probed = with_probing_dates(purchases).datetimes("purchased_at", kind)
    assert probed == expected
    assert [d.year for d in probed][-1] == 2024


def test_probing_dates_skip_empty_years():
    purchases = _purchases_at(dt.datetime(2020, 3, 5, tzinfo=dt.timezone.utc),
                              dt.datetime(2022, 3, 5, tzinfo=dt.timezone.utc))
    years = with_probing_dates(purchases).datetimes("purchased_at", "year")
    assert [d.year for d in years] == [2020, 2022]


def test_probing_dates_respect_filters():
    purchases = _purchases_at(dt.datetime(2020, 3, 5, tzinfo=dt.timezone.utc),
                              dt.datetime(2022, 3, 5, tzinfo=dt.timezone.utc))
    later = with_probing_dates(purchases).filter(purchased_at__year=2022)
    assert [d.year for d in later.datetimes("purchased_at", "year")] == [2022]


def test_probing_dates_of_nothing():
    assert with_probing_dates(Purchase.objects.all()).datetimes("purchased_at", "year") == []


def test_probing_queryset_keeps_the_models_methods():
    assert with_probing_dates(Purchase.objects.all()).counted().model is Purchase


def test_csv_for_turkish_readers_uses_decimal_commas_and_semicolons():
    from crm.admin_tools import csv_format_for_language

    turkish = csv_format_for_language("tr")
    lines = "".join(csv_lines(["ad", "tutar", "olasılık", "adet"],
                              [["Ayşe; Kaya", Decimal("-1234.50"), 0.25, 3]], turkish))
    # A negative number stays a number (not escaped); text with the delimiter is quoted.
    assert lines == '\ufeffad;tutar;olasılık;adet\r\n"Ayşe; Kaya";-1234,50;0,25;3\r\n'


def test_csv_for_english_readers_keeps_dots_and_commas():
    from crm.admin_tools import csv_format_for_language

    english = csv_format_for_language("en")
    lines = "".join(csv_lines(["name", "amount"], [["Kaya, Ayşe", Decimal("12.50")]], english))
    assert lines == '\ufeffname,amount\r\n"Kaya, Ayşe",12.50\r\n'

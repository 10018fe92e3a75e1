"""Dates as spreadsheets write them (customers.normalise, customers.imports.dates): 05.12.2026,
05.12.2026 14:30, 5/12/2026, 05/12/2026 14:30:00 and Excel date numbers, read day-first when
the shop or the file is day-first; an ambiguous file is refused with the question asked, a
file mixing both orders is refused naming lines of each; ISO dates read as they always did."""
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import translation

from customers.imports.purchases import purchases_import_csv, purchases_import_rows
from customers.imports.reading import ImportRefused
from customers.models import CurrencyRate, ImportJob, Purchase
from customers.normalise import parse_purchase_time, shop_day_first
from customers.tests.doors import upload_csv

pytestmark = pytest.mark.django_db

HEADER = "email,purchased_at,amount,currency,channel\n"
TURKISH_SHOP = override_settings(LANGUAGE_CODE="tr", TIME_ZONE="Europe/Istanbul")
ISTANBUL = ZoneInfo("Europe/Istanbul")
QUESTION = ("Are dates day-first (05.12.2026 = 5 December) or month-first? Choose on the import "
            "form or with --date-order. Nothing was imported.")


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone.utc)


def write(tmp_path, rows: list[str], header: str = HEADER):
    path = tmp_path / "orders.csv"
    path.write_text(header + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def days() -> list[tuple[str, dt.date]]:
    return sorted(Purchase.objects.values_list("contact__email", "purchased_on"))


# --- Reading one date ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "order", "expected"), [
    ("05.12.2026", "day-first", local(2026, 12, 5)),
    ("05.12.2026", "month-first", local(2026, 5, 12)),
    ("05.12.2026 14:30", "day-first", local(2026, 12, 5, 14, 30)),
    ("5/12/2026", "day-first", local(2026, 12, 5)),
    ("05/12/2026 14:30:00", "day-first", local(2026, 12, 5, 14, 30)),
    ("5-12-2026 9:05", "month-first", local(2026, 5, 12, 9, 5)),
    ("25.11.2026", "auto", local(2026, 11, 25)),
    ("11/25/2026", "auto", local(2026, 11, 25)),
    ("46361", "day-first", local(2026, 12, 5)),
    ("46361.5", "month-first", local(2026, 12, 5, 12)),
    ("46361.75", "auto", local(2026, 12, 5, 18)),
    ("2026-12-05", "month-first", local(2026, 12, 5)),  # ISO: the same in any order
    ("2026-12-05T14:30:00+03:00", "day-first", local(2026, 12, 5, 11, 30)),
])
def test_spreadsheet_dates_are_read_in_the_order_given(text, order, expected):
    assert parse_purchase_time(text, date_order=order) == expected


@pytest.mark.parametrize(("text", "order", "reason"), [
    ("31.02.2026", "day-first", "Purchase date 31.02.2026 is not a date read day-first"),
    ("12/25/2025", "day-first", "Purchase date 12/25/2025 is not a date read day-first"),
    ("25.12.2025", "month-first", "Purchase date 25.12.2025 is not a date read month-first"),
    ("05.12.2026 25:00", "day-first", "Purchase date 05.12.2026 25:00 is not a date read"),
    ("05.12.26", "day-first", "Purchase date 05.12.26 is not a date this import reads"),
    ("05.12.2026", "auto", "Purchase date 05.12.2026 could be read day-first or month-first"),
    ("٠٥.١٢.٢٠٢٦", "day-first", "is not a date this import reads"),
])
def test_a_date_that_does_not_read_says_why(text, order, reason):
    with pytest.raises(ValidationError) as refused:
        parse_purchase_time(text, date_order=order)

    assert reason in refused.value.messages[0]


def test_without_a_date_order_only_iso_is_read_as_before():
    with pytest.raises(ValidationError, match="is not an ISO 8601 date"):
        parse_purchase_time("05.12.2026")


@pytest.mark.parametrize(("language", "zone", "day_first"), [
    ("tr", "UTC", True), ("en", "Europe/Istanbul", True), ("en-gb", "UTC", True),
    ("de", "America/New_York", True), ("en", "UTC", False), ("en-us", "America/Chicago", False),
])
def test_the_shop_is_day_first_by_its_language_or_time_zone(language, zone, day_first):
    with override_settings(LANGUAGE_CODE=language, TIME_ZONE=zone):
        assert shop_day_first() is day_first


# --- A whole file ----------------------------------------------------------------------------

@TURKISH_SHOP
def test_a_turkish_shops_file_with_its_own_channels_and_dates_imports_every_row(tmp_path):
    CurrencyRate.objects.create(currency="EUR", rate=Decimal("1.08"))
    path = write(tmp_path, [
        "a@example.com,05.12.2026 14:30,100.00,USD,web",
        "b@example.com,05.12.2026 14:30,250.50,EUR,app",
        "c@example.com,01.12.2026 09:15,99.90,USD,Trendyol",
        "d@example.com,5/12/2026,10.00,USD,mağaza",
        "e@example.com,46360.5,10.00,USD,Instagram",
        "f@example.com,2026-12-03T10:00:00+03:00,10.00,USD,Hepsiburada",
    ])

    result = purchases_import_csv(file=path)

    assert (result.imported, result.rows_invalid, result.purchases_created) == (True, 0, 6)
    assert Purchase.objects.get(contact__email="a@example.com").purchased_at == dt.datetime(
        2026, 12, 5, 14, 30, tzinfo=ISTANBUL)
    assert days() == [("a@example.com", dt.date(2026, 12, 5)),
                      ("b@example.com", dt.date(2026, 12, 5)),
                      ("c@example.com", dt.date(2026, 12, 1)),
                      ("d@example.com", dt.date(2026, 12, 5)),
                      ("e@example.com", dt.date(2026, 12, 4)),
                      ("f@example.com", dt.date(2026, 12, 3))]
    assert sorted(Purchase.objects.values_list("channel_label", "channel")) == [
        ("Hepsiburada", "marketplace"), ("Instagram", "online"), ("Trendyol", "marketplace"),
        ("app", "online"), ("mağaza", "store"), ("web", "online")]


@TURKISH_SHOP
def test_a_turkish_shops_lira_file_on_a_fresh_install_imports_every_row_then_converts(tmp_path):
    # Issue #17's "done when": TRY amounts (no rate known yet on a USD-base install), the
    # shop's own channels and Turkish spreadsheet dates, through the command users run.
    from customers.services.rates import rates_save

    path = write(tmp_path, [
        "a@example.com,05.12.2026 14:30,1250.00,TRY,web",
        "b@example.com,04.12.2026 09:00,899.90,TRY,app",
        "c@example.com,03.12.2026 18:45,2499.00,TRY,Trendyol",
    ])

    call_command("import_purchases", str(path), stdout=io.StringIO())

    purchases = Purchase.objects.order_by("contact__email")
    assert [(p.amount, p.currency, p.amount_base, p.channel_label, p.purchased_on)
            for p in purchases] == [
        (Decimal("1250.000"), "TRY", None, "web", dt.date(2026, 12, 5)),
        (Decimal("899.900"), "TRY", None, "app", dt.date(2026, 12, 4)),
        (Decimal("2499.000"), "TRY", None, "Trendyol", dt.date(2026, 12, 3))]
    rates_save({"TRY": Decimal("0.025")}, day=dt.date(2026, 12, 3), source=CurrencyRate.Source.TCMB)
    assert list(purchases.values_list("amount_base", flat=True)) == [
        Decimal("31.250"), Decimal("22.498"), Decimal("62.475")]


def test_a_file_that_never_tells_is_refused_with_the_question(tmp_path):
    path = write(tmp_path, ["a@example.com,05.12.2026,10.00,USD,web",
                            "b@example.com,2026-12-01,10.00,USD,web",
                            "c@example.com,01/02/2026 10:00,10.00,USD,web"])

    with pytest.raises(ImportRefused) as refused:
        purchases_import_csv(file=path, skip_invalid=True)

    assert str(refused.value) == QUESTION
    assert not Purchase.objects.exists()


@pytest.mark.parametrize(("proof", "order"), [("13.11.2026", "day-first"),
                                              ("11/13/2026", "month-first")])
def test_a_file_that_proves_its_order_is_read_so_even_rows_before_the_proof(tmp_path, proof,
                                                                            order):
    rows = [f"r{n}@example.com,05.12.2026,10.00,USD,web" for n in range(2000)]
    path = write(tmp_path, [*rows, f"proof@example.com,{proof},10.00,USD,web",
                            "iso@example.com,2026-01-02,10.00,USD,web"])

    result = purchases_import_csv(file=path)

    expected = dt.date(2026, 12, 5) if order == "day-first" else dt.date(2026, 5, 12)
    assert (result.imported, result.purchases_created) == (True, 2002)
    assert set(Purchase.objects.exclude(contact__email__in=["proof@example.com",
                                                            "iso@example.com"])
               .values_list("purchased_on", flat=True)) == {expected}
    assert Purchase.objects.get(contact__email="proof@example.com").purchased_on == dt.date(
        2026, 11, 13)


def test_a_file_mixing_both_orders_is_refused_naming_lines_of_each(tmp_path):
    path = write(tmp_path, ["a@example.com,13.11.2026,10.00,USD,web",
                            "b@example.com,05.12.2026,10.00,USD,web",
                            "c@example.com,11/14/2026,10.00,USD,web",
                            "d@example.com,25.11.2026,10.00,USD,web"])

    # The messages in English here: a Turkish shop's default language would word them in Turkish.
    with TURKISH_SHOP, translation.override("en"), pytest.raises(ImportRefused) as refused:
        purchases_import_csv(file=path, skip_invalid=True)

    assert str(refused.value) == (
        "The file writes dates both day-first (line 2: 13.11.2026) and month-first (line 4: "
        "11/14/2026): write every date the same way. Nothing was imported.")
    assert not Purchase.objects.exists()


@TURKISH_SHOP
def test_a_turkish_shop_reads_a_file_that_never_tells_day_first(tmp_path):
    path = write(tmp_path, ["a@example.com,05.12.2026,10.00,USD,web",
                            "b@example.com,01/02/2026 10:00,10.00,USD,web"])

    assert purchases_import_csv(file=path).imported
    assert days() == [("a@example.com", dt.date(2026, 12, 5)),
                      ("b@example.com", dt.date(2026, 2, 1))]


@TURKISH_SHOP
@pytest.mark.parametrize(("date", "reason"), [
    ("11/14/2026", "Purchase date 11/14/2026 is not a date read day-first (day.month.year, "
                   "such as 31.05.2024); if the file writes month first, choose month-first "
                   "on the import form or with --date-order."),
    ("31.02.2026", "Purchase date 31.02.2026 is not a date read day-first (day.month.year, "
                   "such as 31.05.2024); if the file writes month first, choose month-first "
                   "on the import form or with --date-order."),
    ("05.12.26", "Purchase date 05.12.26 is not a date this import reads: write 2024-05-31 or "
                 "2024-05-31 14:30 (ISO 8601), 31.05.2024 14:30 or 31/05/2024, or an Excel "
                 "date number."),
])
def test_a_date_that_does_not_read_is_a_row_reason(tmp_path, date, reason):
    path = write(tmp_path, ["a@example.com,05.12.2026,10.00,USD,web",
                            f"b@example.com,{date},10.00,USD,web"])

    with translation.override("en"):  # the Turkish shop's default language words it in Turkish
        result = purchases_import_csv(file=path)

    assert not result.imported
    assert result.errors == [(3, "b@example.com", [reason])]


def test_the_order_can_be_chosen_for_a_file(tmp_path):
    path = write(tmp_path, ["a@example.com,05.12.2026,10.00,USD,web"])

    assert purchases_import_csv(file=path, date_order="month-first").imported
    assert days() == [("a@example.com", dt.date(2026, 5, 12))]
    with pytest.raises(ImportRefused, match="Unknown date order"):
        purchases_import_csv(file=path, date_order="sideways")


def test_rows_from_code_read_the_same(tmp_path):
    rows = [{"email": "a@example.com", "purchased_at": "05.12.2026 14:30", "amount": "10",
             "currency": "USD"}]

    with pytest.raises(ImportRefused, match="Are dates day-first"):
        purchases_import_rows(rows=rows, source="shop")
    assert purchases_import_rows(rows=rows, source="shop", date_order="day-first").imported
    assert days() == [("a@example.com", dt.date(2026, 12, 5))]


def test_the_command_takes_date_order(tmp_path):
    path = write(tmp_path, ["a@example.com,05.12.2026 14:30,10.00,USD,web"])

    with pytest.raises(CommandError, match="Are dates day-first"):
        call_command("import_purchases", str(path), stdout=io.StringIO(),
                     stderr=io.StringIO())
    call_command("import_purchases", str(path), "--date-order", "day-first",
                 stdout=io.StringIO(), stderr=io.StringIO())

    assert days() == [("a@example.com", dt.date(2026, 12, 5))]


def test_the_upload_form_takes_date_order(manager, django_capture_on_commit_callbacks):
    text = HEADER + "a@example.com,05.12.2026 14:30,10.00,USD,Trendyol\n"

    with django_capture_on_commit_callbacks(execute=True):
        upload_csv(manager, kind="purchases", text=text, date_order="day-first")

    assert ImportJob.objects.get().date_order == "day-first"
    assert days() == [("a@example.com", dt.date(2026, 12, 5))]

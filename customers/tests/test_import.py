"""Purchase import: rows become contacts and purchases, exactly once, with exact figures."""
import datetime as dt
from decimal import Decimal

import pytest

from customers.imports import purchase_rows, purchase_staging, reading
from customers.imports.purchases import ImportResult, purchases_import_csv, purchases_import_rows
from customers.models import Contact, CurrencyRate, Purchase, Stage
from customers.stats import contacts_with_drift
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
HEADER = "email,purchased_at,amount,currency,external_id,first_name,last_name,channel\n"


@pytest.fixture
def write(tmp_path):
    def write(body: str, header: str = HEADER, name: str = "purchases.csv"):
        path = tmp_path / name
        path.write_text(header + body, encoding="utf-8")
        return path
    return write


def import_text(write, body: str, header: str = HEADER, **options) -> ImportResult:
    return purchases_import_csv(file=write(body, header=header), **options)


# --- Happy path -----------------------------------------------------------------------------

HAPPY = (
    "ann@example.com,2025-03-01T10:00:00+00:00,10.00,USD,A-1,Ann,Lee,\n"
    "ann@example.com,2025-03-01T18:00:00+00:00,5.50,USD,A-2,,,store\n"
    "ann@example.com,2025-04-02,20,USD,A-3,,,\n"
    "bob@example.com,2025-05-05T12:00:00+00:00,7.25,USD,B-1,Bob,,phone\n"
)


def test_creates_contacts_and_purchases(write):
    result = import_text(write, HAPPY)

    assert result == ImportResult(
        rows_read=4, rows_valid=4, rows_invalid=0, purchases_created=4, purchases_existing=0,
        rows_duplicate=0, contacts_created=2, errors=[], imported=True)
    assert sorted(Contact.objects.values_list("email", "first_name", "last_name")) == [
        ("ann@example.com", "Ann", "Lee"), ("bob@example.com", "Bob", "")]
    assert sorted(Purchase.objects.values_list("external_id", "amount", "channel", "source")) == [
        ("A-1", Decimal("10.00"), "online", "csv"), ("A-2", Decimal("5.50"), "store", "csv"),
        ("A-3", Decimal("20"), "online", "csv"), ("B-1", Decimal("7.25"), "phone", "csv")]


def test_same_day_purchases_count_once_and_figures_are_exact(write):
    import_text(write, HAPPY)

    ann = Contact.objects.get(email="ann@example.com")
    bob = Contact.objects.get(email="bob@example.com")
    assert (ann.purchase_count, ann.stage, ann.total_spent) == (2, Stage.REPEAT, Decimal("35.50"))
    assert ann.first_purchase_at == dt.datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert ann.last_purchase_at == dt.datetime(2025, 4, 2, tzinfo=UTC)
    assert (bob.purchase_count, bob.stage, bob.total_spent) == (1, Stage.ONE_TIME, Decimal("7.25"))
    assert list(contacts_with_drift()) == []


def test_rerunning_the_same_file_changes_nothing(write):
    path = write(HAPPY)
    purchases_import_csv(file=path)
    contacts_before = list(Contact.objects.order_by("id").values())
    purchases_before = list(Purchase.objects.order_by("id").values())

    result = purchases_import_csv(file=path)

    assert (result.purchases_created, result.purchases_existing, result.contacts_created) == (
        0, 4, 0)
    assert list(Contact.objects.order_by("id").values()) == contacts_before
    assert list(Purchase.objects.order_by("id").values()) == purchases_before


def test_rerunning_a_file_without_external_ids_changes_nothing(write):
    body = "ann@example.com,2025-03-01,10.00,USD,,Ann,,\nann@example.com,2025-03-02,10,USD,,,,\n"
    purchases_import_csv(file=write(body))

    result = purchases_import_csv(file=write(body))

    assert (result.purchases_created, result.purchases_existing) == (0, 2)
    assert Purchase.objects.count() == 2


def test_rows_without_external_id_get_a_derived_one(write):
    import_text(write, "ann@example.com,2025-03-01T10:00:00+00:00,10.00,USD,,,,\n")

    assert Purchase.objects.get().external_id == purchase_rows._derived_id(
        "ann@example.com", "2025-03-01 10:00:00+00:00", Decimal("10.00"), "USD")


def test_derived_id_ignores_formatting_of_the_same_order(write):
    import_text(write, "ann@example.com,2025-03-01T13:00:00+03:00,10.00,USD,,,,\n")

    result = import_text(write, "ANN@example.com,2025-03-01T10:00:00Z,10,usd,,,,\n")

    assert (result.purchases_created, result.purchases_existing) == (0, 1)


def test_exact_duplicate_rows_without_external_id_count_as_one_purchase(write):
    row = "ann@example.com,2025-03-01T10:00:00+00:00,10.00,USD,,,,\n"

    result = import_text(write, row + row)

    assert (result.rows_valid, result.purchases_created, result.rows_duplicate) == (2, 1, 1)
    assert Contact.objects.get().total_spent == Decimal("10.00")


def test_of_exact_duplicate_rows_the_first_is_kept(write):
    import_text(write, "ann@example.com,2025-03-01T10:00:00Z,10.00,USD,,,,store\n"
                       "ann@example.com,2025-03-01T10:00:00Z,10.00,USD,,,,phone\n")

    assert list(Purchase.objects.values_list("channel", flat=True)) == ["store"]


def test_repeated_external_id_in_one_file_is_an_error_on_the_later_line(write):
    body = ("ann@example.com,2025-03-01,10.00,USD,A-1,,,\n"
            "bob@example.com,2025-03-02,99.00,USD,A-1,,,\n")

    result = import_text(write, body)

    assert result.errors == [
        (3, "bob@example.com", ["External id A-1 is already used on line 2 of this file."])]
    assert (result.imported, Purchase.objects.count()) == (False, 0)


def test_repeated_external_id_with_skip_invalid_keeps_the_first(write):
    body = ("ann@example.com,2025-03-01,10.00,USD,A-1,,,\n"
            "bob@example.com,2025-03-02,99.00,USD,A-1,,,\n")

    result = import_text(write, body, skip_invalid=True)

    assert (result.rows_valid, result.rows_invalid, result.purchases_created) == (1, 1, 1)
    assert list(Purchase.objects.values_list("contact__email", "amount")) == [
        ("ann@example.com", Decimal("10.00"))]
    assert list(Contact.objects.values_list("email", flat=True)) == ["ann@example.com"]


def test_known_external_id_of_another_contact_is_left_alone(write):
    import_text(write, "ann@example.com,2025-03-01,10.00,USD,A-1,,,\n")

    result = import_text(write, "bob@example.com,2025-03-02,99.00,USD,A-1,,,\n")

    assert (result.purchases_created, result.purchases_existing, result.contacts_created) == (
        0, 1, 1)
    bob = Contact.objects.get(email="bob@example.com")
    assert (bob.purchase_count, bob.stage) == (0, Stage.PROSPECT)
    assert list(contacts_with_drift()) == []


def test_source_sets_the_purchases_source_and_scopes_external_ids(write):
    path = write("ann@example.com,2025-03-01,10.00,USD,A-1,,,\n")
    purchases_import_csv(file=path)

    result = purchases_import_csv(file=path, source="shopify")

    assert result.purchases_created == 1
    assert sorted(Purchase.objects.values_list("source", flat=True)) == ["csv", "shopify"]


@pytest.mark.parametrize("source", ["", "   ", "x" * 33])
def test_source_must_fit_the_column(write, source):
    with pytest.raises(reading.ImportRefused, match="source must be 1 to 32 characters"):
        import_text(write, "ann@example.com,2025-03-01,10.00,USD,A-1,,,\n", source=source)


def test_optional_quantity_and_code_are_stored(write):
    header = "email,purchased_at,amount,currency,quantity,code\n"

    import_text(write, "ann@example.com,2025-03-01,10.00,USD,3,SPRING\n", header=header)

    assert list(Purchase.objects.values_list("quantity", "code", "channel")) == [
        (3, "SPRING", "online")]


def test_channel_is_case_insensitive_and_empty_means_online(write):
    import_text(write, "ann@example.com,2025-03-01,1,USD,A-1,,,Store\n"
                       "ann@example.com,2025-03-02,1,USD,A-2,,, \n")

    assert sorted(Purchase.objects.values_list("external_id", "channel")) == [
        ("A-1", "store"), ("A-2", "online")]


def test_foreign_currency_is_converted_with_the_rate(write):
    CurrencyRate.objects.create(currency="EUR", rate=Decimal("1.08"))

    import_text(write, "ann@example.com,2025-03-01,10.05,eur,A-1,,,\n")

    purchase = Purchase.objects.get()
    assert (purchase.currency, purchase.amount, purchase.amount_base) == (
        "EUR", Decimal("10.05"), Decimal("10.854"))
    assert Contact.objects.get().total_spent == Decimal("10.854")


# --- Contacts and names ---------------------------------------------------------------------

def test_existing_contact_is_matched_whatever_the_capitalisation(write):
    contact = ContactFactory(email="ann@example.com")

    result = import_text(write, "  ANN@Example.COM ,2025-03-01,10.00,USD,A-1,,,\n")

    assert result.contacts_created == 0
    assert list(Purchase.objects.values_list("contact_id", flat=True)) == [contact.pk]


def test_existing_blank_name_is_filled_and_a_name_is_never_overwritten(write):
    ContactFactory(email="ann@example.com", first_name="Ann", last_name="")

    import_text(write, "ann@example.com,2025-03-01,10.00,USD,A-1,Annie,Lee,\n")

    assert Contact.objects.values_list("first_name", "last_name").get() == ("Ann", "Lee")


def test_new_contact_takes_the_first_non_blank_names_in_the_file(write):
    import_text(write, "ann@example.com,2025-03-01,1,USD,A-1,,,\n"
                       "ann@example.com,2025-03-02,1,USD,A-2,Ann,,\n"
                       "ann@example.com,2025-03-03,1,USD,A-3,Anna,Lee,\n")

    assert Contact.objects.values_list("first_name", "last_name").get() == ("Ann", "Lee")


def test_figures_of_an_existing_contact_include_earlier_purchases(write):
    contact = ContactFactory(email="ann@example.com")
    earlier = record_purchase(contact, days_ago=3, amount="4.00")

    import_text(write, "ann@example.com,2025-03-01T10:00:00+00:00,10.00,USD,A-1,,,\n")

    contact.refresh_from_db()
    assert (contact.purchase_count, contact.stage, contact.total_spent) == (
        2, Stage.REPEAT, Decimal("14.00"))
    assert contact.first_purchase_at == dt.datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert contact.last_purchase_at == earlier.purchased_at
    assert list(contacts_with_drift()) == []


def test_refunded_purchases_stay_out_of_the_figures(write):
    from customers.services.refunds import purchase_refund

    contact = ContactFactory(email="ann@example.com")
    purchase_refund(purchase=record_purchase(contact, days_ago=3, amount="4.00"))

    import_text(write, "ann@example.com,2025-03-01,10.00,USD,A-1,,,\n")

    contact.refresh_from_db()
    assert (contact.purchase_count, contact.total_spent) == (1, Decimal("10.00"))


# --- Time zones -----------------------------------------------------------------------------

def test_date_alone_is_that_day_in_the_shops_time_zone(write, settings):
    settings.TIME_ZONE = "Europe/Istanbul"

    import_text(write, "ann@example.com,2025-05-31,10.00,USD,A-1,,,\n")

    purchase = Purchase.objects.get()
    assert purchase.purchased_at == dt.datetime(2025, 5, 30, 21, 0, tzinfo=UTC)
    assert purchase.purchased_on == dt.date(2025, 5, 31)


def test_time_without_offset_is_shop_time(write, settings):
    settings.TIME_ZONE = "Europe/Istanbul"

    import_text(write, "ann@example.com,2025-05-31T01:30:00,10.00,USD,A-1,,,\n")

    purchase = Purchase.objects.get()
    assert purchase.purchased_at == dt.datetime(2025, 5, 30, 22, 30, tzinfo=UTC)
    assert purchase.purchased_on == dt.date(2025, 5, 31)


def test_offset_is_respected_and_the_day_is_the_shops(write, settings):
    settings.TIME_ZONE = "UTC"

    import_text(write, "ann@example.com,2025-05-31T01:30:00+03:00,10.00,USD,A-1,,,\n")

    purchase = Purchase.objects.get()
    assert purchase.purchased_at == dt.datetime(2025, 5, 30, 22, 30, tzinfo=UTC)
    assert purchase.purchased_on == dt.date(2025, 5, 30)


def test_days_are_counted_in_the_shops_time_zone(write, settings):
    settings.TIME_ZONE = "Europe/Istanbul"

    # 22:30 and 23:30 UTC on 30 May are 01:30 and 02:30 on 31 May in Istanbul: one day.
    import_text(write, "ann@example.com,2025-05-30T12:00:00Z,1,USD,A-1,,,\n"
                       "ann@example.com,2025-05-30T22:30:00Z,1,USD,A-2,,,\n"
                       "ann@example.com,2025-05-30T23:30:00Z,1,USD,A-3,,,\n")

    assert Contact.objects.get().purchase_count == 2


# --- Row errors -----------------------------------------------------------------------------

GOOD = "good@example.com,2025-03-01,10.00,USD,G-1,,,\n"


@pytest.mark.parametrize(("row", "reason"), [
    ("not-an-email,2025-03-01,10.00,USD,X-1,,,", "not-an-email is not a valid email address."),
    (",2025-03-01,10.00,USD,X-1,,,", "Email is required."),
    ("x@example.com,2025-03-01,-5.00,USD,X-1,,,",
     "Amount cannot be negative; record a refund instead."),
    ("x@example.com,2025-03-01,\"1,50\",USD,X-1,,,",
     "Amount 1,50 has a comma: write amounts like 1234.50, without thousands separators."),
    ("x@example.com,2025-03-01,ten,USD,X-1,,,", "Amount ten is not a number."),
    ("x@example.com,2025-03-01,NaN,USD,X-1,,,", "Amount must be a finite number."),
    ("x@example.com,2025-03-01,,USD,X-1,,,", "Amount is required."),
    ("x@example.com,2025-03-01,1.234,USD,X-1,,,", "USD amounts have at most 2 decimal places."),
    ("x@example.com,2025-03-01,100.5,JPY,X-1,,,", "JPY amounts have at most 0 decimal places."),
    ("x@example.com,2025-03-01,10.00,ABC,X-1,,,",
     "Unknown currency ABC: use an ISO 4217 code such as USD, EUR or TRY."),
    ("x@example.com,2025-03-01,10.00,,X-1,,,",
     "Currency is required (an ISO 4217 code such as USD)."),
    ("x@example.com,2025-03-01,10.00,TLX,X-1,,,",
     "Unknown currency TLX: use an ISO 4217 code such as USD, EUR or TRY."),
    # 31/05/2025 is read (day-first: customers.imports.dates); a two-digit year is not.
    ("x@example.com,31/05/25,10.00,USD,X-1,,,",
     "Purchase date 31/05/25 is not a date this import reads: write 2024-05-31 or "
     "2024-05-31 14:30 (ISO 8601), 31.05.2024 14:30 or 31/05/2024, or an Excel date number."),
    ("x@example.com,2999-01-01,10.00,USD,X-1,,,", "Purchase date is in the future."),
    ("x@example.com,1969-12-31,10.00,USD,X-1,,,", "Purchase date is before 1970."),
    ("x@example.com,0001-01-01,10.00,USD,X-1,,,", "Purchase date is before 1970."),
    ("x@example.com,,10.00,USD,X-1,,,", "Purchase date is required."),
    # An unknown label is no reason (customers.channels); only a label too long is.
    ("x@example.com,2025-03-01,10.00,USD,X-1,,," + "w" * 500,
     "Channel is longer than 100 characters: give the shop's name for the channel (such "
     "as web, app or Trendyol)."),
    ("x@example.com,2025-03-01,10.00,USD,X-1,,", "The row has 7 fields; the header has 8."),
    ("x@example.com,2025-03-01,10.00,USD,X-1,,,,", "The row has 9 fields; the header has 8."),
    ("x@example.com,2025-03-01,10.00,USD,X-1," + "A" * 151 + ",,",
     "first_name is longer than 150 characters."),
    ("x@example.com,2025-03-01,10.00,USD," + "9" * 129 + ",,,",
     "external_id is longer than 128 characters."),
    ("x@example.com,2025-03-01,10.00,USD,X-1,A\x00n,,", "first_name contains a NUL character."),
    ("x" * 250 + "@example.com,2025-03-01,10.00,USD,X-1,,,",
     "Email is longer than 254 characters."),
])
def test_bad_row_is_reported_with_line_and_reason(write, row, reason):
    result = import_text(write, GOOD + row + "\n")

    assert result.errors == [(3, row.split(",")[0][:254], [reason])]
    assert (result.rows_read, result.rows_valid, result.rows_invalid) == (2, 1, 1)
    assert (result.imported, Purchase.objects.count(), Contact.objects.count()) == (False, 0, 0)


@pytest.mark.parametrize(("value", "reason"), [
    ("0", "Quantity 0 is not a whole number of at least 1."),
    ("1.5", "Quantity 1.5 is not a whole number of at least 1."),
    ("-2", "Quantity -2 is not a whole number of at least 1."),
    ("9999999999", "Quantity 9999999999 is not a whole number of at least 1."),
])
def test_bad_quantity_is_reported(write, value, reason):
    header = "email,purchased_at,amount,currency,quantity\n"

    result = import_text(write, f"x@example.com,2025-03-01,10.00,USD,{value}\n", header=header)

    assert result.errors == [(2, "x@example.com", [reason])]


def test_every_reason_of_a_row_is_reported_in_column_order(write):
    result = import_text(write, "bad,2999-01-01,-1,USD,X-1,,," + "w" * 101 + "\n")

    assert result.errors == [(2, "bad", [
        "bad is not a valid email address.",
        "Purchase date is in the future.",
        "Amount cannot be negative; record a refund instead.",
        "Channel is longer than 100 characters: give the shop's name for the channel (such "
        "as web, app or Trendyol).",
    ])]


def test_by_default_nothing_is_imported_from_a_file_with_errors(write):
    ContactFactory(email="ann@example.com", first_name="", last_name="")

    result = import_text(write, "ann@example.com,2025-03-01,10.00,USD,A-1,Ann,Lee,\n"
                                "new@example.com,2025-03-01,10.00,USD,A-2,,,\n"
                                "bad,2025-03-01,10.00,USD,A-3,,,\n")

    assert (result.imported, result.rows_valid, result.rows_invalid) == (False, 2, 1)
    assert (result.purchases_created, result.contacts_created) == (0, 0)
    assert Purchase.objects.count() == 0
    assert list(Contact.objects.values_list("email", "first_name")) == [("ann@example.com", "")]


def test_skip_invalid_imports_only_the_good_rows(write):
    result = import_text(write, "ann@example.com,2025-03-01,10.00,USD,A-1,,,\n"
                                "bad,2025-03-01,10.00,USD,A-2,,,\n"
                                "bob@example.com,2025-03-01,-3,USD,A-3,,,\n"
                                "cem@example.com,2025-03-02,3,USD,A-4,,,\n", skip_invalid=True)

    assert (result.imported, result.rows_valid, result.rows_invalid) == (True, 2, 2)
    assert [line for line, _email, _reasons in result.errors] == [3, 4]
    assert sorted(Purchase.objects.values_list("external_id", flat=True)) == ["A-1", "A-4"]
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        "ann@example.com", "cem@example.com"]


def test_only_the_first_errors_are_kept_but_all_are_counted(write, monkeypatch):
    monkeypatch.setattr(reading, "MAX_ERRORS_KEPT", 2)

    result = import_text(write, "".join(f"bad{i},2025-03-01,1,USD,,,,\n" for i in range(5)))

    assert [line for line, _email, _reasons in result.errors] == [2, 3]
    assert (result.rows_invalid, result.errors_truncated) == (5, True)


# --- Batches, progress and the rows API -----------------------------------------------------

def test_rows_are_staged_in_batches_and_progress_is_reported(write, monkeypatch):
    monkeypatch.setattr(purchase_staging, "BATCH_ROWS", 2)
    seen = []
    body = "".join(f"c{i}@example.com,2025-03-01,1,USD,O-{i},,,\n" for i in range(5))

    result = import_text(write, body, progress=seen.append)

    assert seen == [2, 4, 5]
    assert (result.purchases_created, result.contacts_created) == (5, 5)


def test_blank_lines_and_empty_rows_are_skipped(write):
    result = import_text(write, "\nann@example.com,2025-03-01,1,USD,A-1,,,\n,,,,,,,\n\n")

    assert (result.rows_read, result.purchases_created) == (1, 1)


def test_header_only_imports_nothing(write):
    result = import_text(write, "")

    assert result == ImportResult(rows_read=0, rows_valid=0, rows_invalid=0, imported=True)


def test_import_rows_takes_dicts_keyed_by_column(write):
    rows = [
        {"Email": "ann@example.com", "purchased_at": "2025-03-01", "amount": "10.00",
         "currency": "USD", "external_id": "demo-1"},
        {"Email": "ann@example.com", "purchased_at": "2025-03-09", "amount": Decimal("2.5"),
         "currency": "USD", "external_id": "demo-2"},
    ]

    result = purchases_import_rows(rows=iter(rows), source="demo")

    assert (result.purchases_created, result.contacts_created) == (2, 1)
    assert sorted(Purchase.objects.values_list("source", "external_id", "amount")) == [
        ("demo", "demo-1", Decimal("10.00")), ("demo", "demo-2", Decimal("2.50"))]
    assert Contact.objects.get().purchase_count == 2


def test_import_rows_numbers_rows_from_first_line():
    rows = [{"email": "bad", "purchased_at": "2025-03-01", "amount": "1", "currency": "USD"}]

    result = purchases_import_rows(rows=rows, source="demo", first_line=7)

    assert result.errors == [(7, "bad", ["bad is not a valid email address."])]


def test_import_rows_of_nothing_imports_nothing():
    assert purchases_import_rows(rows=[], source="demo") == ImportResult(
        rows_read=0, rows_valid=0, rows_invalid=0, imported=True)


def test_import_rows_refuses_unknown_keys():
    rows = [{"email": "a@example.com", "purchased_at": "2025-03-01", "amount": "1",
             "currency": "USD", "colour": "red"}]

    with pytest.raises(reading.ImportRefused, match="unknown columns: colour"):
        purchases_import_rows(rows=rows, source="demo")

"""A checked purchase row: its values come in StagedRow's field order, which is also the
order of the staging table's columns (customers.imports.purchase_rows, purchase_staging)."""
import pytest

from customers.imports.purchase_rows import COLUMNS, DERIVED_ID_PREFIX, RowChecker, StagedRow

pytestmark = pytest.mark.django_db


def test_a_valid_row_gives_its_staged_values_by_name():
    checker = RowChecker(list(COLUMNS), aware_times=True)

    row = checker.check(7, [" Ann@Example.com ", "2025-03-01T10:00:00+00:00", "10.5", "usd",
                               "", "Ann", "Lee", "", "2", "SPRING"])

    assert isinstance(row, StagedRow)
    assert (row.line, row.email, row.first_name, row.last_name) == (
        7, "ann@example.com", "Ann", "Lee")
    assert row.external_id.startswith(DERIVED_ID_PREFIX) and row.derived == 1
    assert (row.purchased_at, row.amount, row.currency) == (
        "2025-03-01 10:00:00+00:00", "10.5", "USD")
    assert (row.quantity, row.channel, row.code) == (2, "online", "SPRING")


def test_an_invalid_row_gives_its_reasons():
    checker = RowChecker(list(COLUMNS), aware_times=True)

    outcome = checker.check(3, ["not-an-email", "2025-03-01", "1", "USD", "", "", "", "", "",
                                ""])

    assert isinstance(outcome, list) and outcome

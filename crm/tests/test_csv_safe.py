"""CSV injection: text that a spreadsheet would run as a formula comes out as plain text."""
from decimal import Decimal

import pytest

from crm.csv_safe import csv_safe, csv_safe_row


@pytest.mark.parametrize("value", [
    '=HYPERLINK("http://x")',
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    "\uff1d1+1",  # full-width equals sign
])
def test_formula_starts_get_an_apostrophe(value):
    assert csv_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["  =1+1", " +1", "\n@SUM(A1)", "\u00a0-2+3"])
def test_formula_after_leading_whitespace_gets_an_apostrophe(value):
    assert csv_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["Ada Lovelace", "ada@example.com", "a=b", "x-1", "", "'quoted"])
def test_ordinary_text_is_unchanged(value):
    assert csv_safe(value) == value


@pytest.mark.parametrize("value", [-12.5, -3, 0, Decimal("-12.500"), Decimal("7")])
def test_numbers_stay_numbers(value):
    assert csv_safe(value) is value


def test_text_that_looks_like_a_negative_number_is_escaped():
    # Only the program knows a column is numeric; text came from someone's input.
    assert csv_safe("-12.5") == "'-12.5"


def test_phone_number_text_is_escaped():
    assert csv_safe("+1 555 0100") == "'+1 555 0100"


def test_none_becomes_an_empty_cell():
    assert csv_safe(None) == ""


def test_booleans_are_text_not_numbers():
    assert csv_safe(True) == "True"


def test_other_objects_are_made_text_then_checked():
    class Named:
        def __str__(self):
            return "=evil()"

    assert csv_safe(Named()) == "'=evil()"


def test_row_is_escaped_cell_by_cell():
    assert csv_safe_row(["=1", 2, None, "ok"]) == ["'=1", 2, "", "ok"]


def test_string_subclasses_are_checked_too():
    from django.utils.safestring import mark_safe

    assert csv_safe(mark_safe("=1+1")) == "'=1+1"


def test_lazy_translations_are_checked_too():
    from django.utils.translation import gettext_lazy

    assert csv_safe(gettext_lazy("-not a formula-")) == "'-not a formula-"


# --- The writers ----------------------------------------------------------------------------

def written(writer_class, rows, **options) -> str:
    import io

    out = io.StringIO()
    writer_class(out, lineterminator="\n", **options).writerows(rows)
    return out.getvalue()


def test_writer_escapes_every_cell_and_keeps_numbers():
    from crm.csv_safe import SafeCSVWriter

    assert written(SafeCSVWriter, [['=HYPERLINK("http://x","y")', "@SUM(A1)", -3, None, "ok"],
                                   ("-12.5", Decimal("-1.50"))]) == (
        '"\'=HYPERLINK(""http://x"",""y"")",\'@SUM(A1),-3,,ok\n\'-12.5,-1.50\n')


def test_writer_takes_csv_formatting_options():
    from crm.csv_safe import SafeCSVWriter

    assert written(SafeCSVWriter, [["+1;2", "a"]], delimiter=";") == "\"'+1;2\";a\n"


def test_writer_writes_any_iterable_row_and_returns_what_csv_returns():
    import io

    from crm.csv_safe import SafeCSVWriter

    out = io.StringIO()
    assert SafeCSVWriter(out).writerow(cell for cell in ["=1", "b"]) == len("'=1,b\r\n")
    assert out.getvalue() == "'=1,b\r\n"


def test_dict_writer_escapes_header_and_cells_and_fills_missing_keys():
    import io

    from crm.csv_safe import SafeCSVDictWriter

    out = io.StringIO()
    writer = SafeCSVDictWriter(out, ["name", "=total"], lineterminator="\n")
    writer.writeheader()
    writer.writerows([{"name": "@SUM(A1)", "=total": -2}, {"name": "Ada"}])

    assert out.getvalue() == "name,'=total\n'@SUM(A1),-2\nAda,\n"


def test_localised_writer_writes_decimal_commas_after_escaping():
    from crm.csv_safe import SafeLocalisedCSVWriter

    rows = [[Decimal("-12.50"), -0.5, 3, "-12.5", "=1.5"]]

    assert written(SafeLocalisedCSVWriter, rows, decimal=",", delimiter=";") == (
        "-12,50;-0,5;3;'-12.5;'=1.5\n")
    assert written(SafeLocalisedCSVWriter, rows) == "-12.50,-0.5,3,'-12.5,'=1.5\n"

"""Cell values that a spreadsheet will show as text, never run as a formula (CSV injection).

Excel, LibreOffice and Google Sheets treat a cell starting with =, +, -, @ (and, in some
versions, a tab or carriage return before them) as a formula: a contact named
`=HYPERLINK("http://x","click")` would become a live link in the manager's spreadsheet. The
OWASP advice is to prefix such cells with an apostrophe, which the spreadsheet shows as plain
text. Spreadsheets also skip leading spaces before deciding, so " =1+1" is escaped too.

Decision on numbers: values whose Python type is a number (int, float, Decimal; not bool) are
returned unchanged, so -12.5 stays a number the spreadsheet can sum. Only the program decides
that a column is numeric; a *string* that looks like a number ("-12.5", "+1 555 0100") came from
someone's input and is escaped like any other text.

Pure standard library: every CSV the product writes for people goes through it
(SafeCSVWriter below).
"""
import csv
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

# The full-width forms are included because some spreadsheet locales treat them as formula
# starts too; escaping a few more harmless strings costs nothing.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
ESCAPE = "'"

Cell = str | int | float | Decimal


def csv_safe(value: object) -> Cell:
    """Return `value` ready for csv.writer: numbers unchanged, everything else safe text."""
    # Strings first and by exact type: this runs for every cell of exports of millions of rows.
    if value.__class__ is str:
        text = value
    elif value is None:
        return ""
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    else:
        text = str(value)
    return ESCAPE + text if _starts_formula(text) else text


def _starts_formula(text: str) -> bool:
    # The raw first character first: "\t=..." must be caught before lstrip() drops the tab.
    if not text:
        return False
    first = text[0]
    if first in FORMULA_STARTS:
        return True
    return first.isspace() and text.lstrip()[:1] in FORMULA_STARTS


def csv_safe_row(values: list[object] | tuple[object, ...]) -> list[Cell]:
    return [csv_safe(value) for value in values]


class SafeCSVWriter:
    """csv.writer for files people open: every cell goes through csv_safe().

    The one writer for CSV that leaves the product (exports, rejected-rows reports, privacy
    zips): a module that writes CSV for people takes this, never csv.writer itself.
    """

    def __init__(self, file: Any, **fmtparams: Any):
        self._writer = csv.writer(file, **fmtparams)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow(csv_safe_row(tuple(row)))

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeCSVDictWriter:
    """csv.DictWriter's interface over SafeCSVWriter: missing keys are empty cells."""

    def __init__(self, file: Any, fieldnames: Sequence[str], **fmtparams: Any):
        self.fieldnames = list(fieldnames)
        self._writer = SafeCSVWriter(file, **fmtparams)

    def writeheader(self) -> Any:
        return self._writer.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, object]) -> Any:
        return self._writer.writerow(row.get(name, "") for name in self.fieldnames)

    def writerows(self, rows: Iterable[Mapping[str, object]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeLocalisedCSVWriter(SafeCSVWriter):
    """SafeCSVWriter for a spreadsheet whose locale writes decimals with `decimal` (Turkish,
    German: ","): Decimal and float cells are written with it, so they stay numbers there.

    Escaping comes first, on the number itself: a negative amount is still a number, never
    the text "-12,50" that would be escaped as a formula start.
    """

    def __init__(self, file: Any, *, decimal: str = ".", **fmtparams: Any):
        super().__init__(file, **fmtparams)
        self.decimal = decimal

    def writerow(self, row: Iterable[object]) -> Any:
        cells = csv_safe_row(tuple(row))
        if self.decimal != ".":
            cells = [str(cell).replace(".", self.decimal) if isinstance(cell, Decimal | float)
                     else cell for cell in cells]
        return self._writer.writerow(cells)

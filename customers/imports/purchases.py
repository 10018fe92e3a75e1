"""Bulk purchase import: a CSV file (or rows from code) in, contacts and purchases out.

Used by `manage.py import_purchases`, the demo-data loader and the browser upload. The rules:

- Columns (header names are trimmed and case-insensitive): email, purchased_at, amount, currency
  are required; external_id, first_name, last_name, channel, quantity, code are optional. Any
  other column refuses the whole file: a typo in a header must not silently drop a column.
- Limits, so that no upload can hold a worker: a header of more than CRM_IMPORT_MAX_COLUMNS
  columns, or any line longer than CRM_IMPORT_MAX_LINE_BYTES, refuses the file as soon as it
  is read (the long line is not read further); every check of the header is linear.
- Each row is checked with the same functions as the dashboard (customers.normalise,
  customers.money); a row's errors are all reported, with its line number (the line it starts
  on). Result.errors keeps the first MAX_ERRORS_KEPT, sorted by line; errors_file gets every
  one as CSV (line, email, reasons), repeated external ids last. Blank lines and rows of empty
  cells are skipped.
- All or nothing by default: one bad row and nothing is imported. With skip_invalid the valid
  rows are imported and the bad ones reported. A file that is not UTF-8 (with or without BOM)
  or is not well-formed CSV is refused as a whole, naming the line.
- Idempotent: (source, external_id) identifies a purchase. A row without external_id gets
  "row:" + sha1(email, UTC instant, amount, currency), so re-importing the same file adds
  nothing, and exact duplicate rows without external_id count as one purchase (the first).
  An external_id given twice in one file is an error on the later lines.
- New contacts take their names from the file (first non-blank value); an existing contact's
  blank name is filled; a non-blank name is never overwritten.
- After the merge, as for a purchase recorded one at a time (customers.services), set-based
  and once per import: coupon and referral codes are applied (hooks.purchases_imported:
  campaigns), stage changes are announced (webhooks), and once the import commits the
  contacts it touched are re-scored from the last fitted models and their purchase events
  fire (first purchase, became a repeat client, Nth purchase: hooks.purchases_committed),
  through tasks taking a chunk of contact ids each.
- historical=True loads the past: purchases, figures, scores, redeemed coupons and referrals
  are recorded as facts, but nothing is announced or sent (no stage-change or coupon
  webhooks, no event campaigns, no referral reward coupons).

How it stays fast and right: rows are checked in Python without ORM objects and written in
batches to a temporary staging table (COPY on PostgreSQL), then merged with a few set-based
statements, all in one transaction. Contacts that already existed are locked in id order (as
customers.services does) before their purchases go in, and customers.stats refreshes their
figures. On PostgreSQL, new contacts are inserted after their purchases with figures
aggregated from exactly those purchases (same definition as customers.stats; the tests check
one against the other), which saves writing every new contact twice. Measured figures:
docs/benchmarks.md.
"""
import csv
import datetime as dt
import hashlib
import io
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from operator import itemgetter
from typing import BinaryIO, TextIO

from babel.numbers import get_currency_precision
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.csv_safe import SafeCSVWriter
from crm.tasks import queue_after_commit

from ..models import Channel, Contact, Purchase
from ..money import (
    MAX_AMOUNT, base_currency, normalise_currency, parse_amount, to_base, validate_amount,
)
from ..normalise import (
    EARLIEST_PURCHASE, normalise_email, parse_purchase_time, shop_timezone,
    validate_purchase_time,
)
from .. import hooks
from ..hooks import stage_watchers
from ..services import currency_rates
from ..stats import contacts_refresh_stats
from ..tasks import purchases_imported_task

REQUIRED_COLUMNS = ("email", "purchased_at", "amount", "currency")
OPTIONAL_COLUMNS = ("external_id", "first_name", "last_name", "channel", "quantity", "code")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_ERRORS_KEPT = 1000  # in ImportResult.errors; errors_file gets every one
BATCH_ROWS = 10_000
DERIVED_ID_PREFIX = "row:"

_READ_BYTES = 1 << 20
_UTF8_BOM = b"\xef\xbb\xbf"
_MAX_QUANTITY = 2**31 - 1
# Addresses of this common shape always pass Django's validate_email; others take the full check.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_TEXT_LIMITS = {
    "email": Contact._meta.get_field("email").max_length,
    "external_id": Purchase._meta.get_field("external_id").max_length,
    "first_name": Contact._meta.get_field("first_name").max_length,
    "last_name": Contact._meta.get_field("last_name").max_length,
    "code": Purchase._meta.get_field("code").max_length,
}
_SHORTEST_TEXT_LIMIT = min(_TEXT_LIMITS.values())

RowError = tuple[int, str, list[str]]


class ImportRefused(Exception):
    """The input as a whole cannot be imported (encoding, header, malformed CSV); nothing was."""


@dataclass(frozen=True)
class ImportResult:
    rows_read: int
    rows_valid: int
    rows_invalid: int
    purchases_created: int = 0
    purchases_existing: int = 0
    # Valid rows repeating an earlier row of the same input (same derived id): one purchase.
    rows_duplicate: int = 0
    contacts_created: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS_KEPT
    imported: bool = False
    dry_run: bool = False  # counts say what an import would do; nothing was written

    @property
    def errors_truncated(self) -> bool:
        return self.rows_invalid > len(self.errors)


# --- Public API -----------------------------------------------------------------------------

def purchases_import_csv(
    *, file: TextIO | BinaryIO | str | os.PathLike, source: str = "csv",
    skip_invalid: bool = False, errors_file: TextIO | None = None,
    progress: Callable[[int], None] | None = None, dry_run: bool = False,
    historical: bool = False, recorded_by=None,
) -> ImportResult:
    """Import a purchases CSV (a path, or a binary or text file object). See the module doc.

    progress(rows_read) is called after every batch, inside the import's transaction: it must
    not write through the default database connection (that would join the transaction).
    dry_run runs everything, merge included, then rolls back: the counts are the true ones.
    recorded_by (the user who uploaded the file) is stored on each new purchase, as the
    other doors store the user who recorded one.
    """
    with _opened(file) as stream:
        records, layout = csv_records(stream)
        try:
            _line, header = next(records)
        except StopIteration:
            raise ImportRefused(_("The file is empty: the first line must name the columns "
                                  "(email, purchased_at, amount, currency).")) from None
        columns = _columns(header)
        return _import(columns, records, source=source, skip_invalid=skip_invalid,
                       errors_file=errors_file, progress=progress, dry_run=dry_run,
                       decimal_comma=layout.decimal_comma, historical=historical,
                       recorded_by=recorded_by)


def purchases_import_rows(
    *, rows: Iterable[Mapping[str, str]], source: str, skip_invalid: bool = False,
    errors_file: TextIO | None = None, progress: Callable[[int], None] | None = None,
    first_line: int = 1, dry_run: bool = False, historical: bool = False,
) -> ImportResult:
    """Import rows given as dicts keyed by the CSV column names (all rows with the same keys).

    Errors name rows by number, counting from first_line.
    """
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return ImportResult(rows_read=0, rows_valid=0, rows_invalid=0, imported=True)
    keys = list(first)
    columns = _columns(keys)
    records = (
        (line, [_as_text(row.get(key)) for key in keys])
        for line, row in enumerate(chain([first], iterator), start=first_line)
    )
    return _import(columns, records, source=source, skip_invalid=skip_invalid,
                   errors_file=errors_file, progress=progress, dry_run=dry_run,
                   historical=historical)


# --- Reading --------------------------------------------------------------------------------

@contextmanager
def _opened(file) -> Iterator:
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as stream:
            yield stream
    else:
        yield file  # the caller's file: the caller closes it


@dataclass(frozen=True)
class CSVLayout:
    """How a file separates fields and writes decimals: spreadsheets saving CSV in a locale
    whose decimal separator is a comma (Turkish, German...) separate fields with ";" and
    write 1.234,50."""

    delimiter: str = ","
    decimal_comma: bool = False


def csv_records(stream) -> tuple[Iterator[tuple[int, list[str]]], CSVLayout]:
    """Numbered records of a CSV stream, and its layout, told by the header line: a header
    with more semicolons than commas is a semicolon file with decimal commas.

    A line longer than CRM_IMPORT_MAX_LINE_BYTES refuses the file as soon as it is met, after
    reading at most that much of it: a 1M-column header is refused without being parsed."""
    lines = _text_lines(stream, settings.CRM_IMPORT_MAX_LINE_BYTES)
    first = next(lines, "")
    layout = (CSVLayout(";", decimal_comma=True) if first.count(";") > first.count(",")
              else CSVLayout())
    reader = csv.reader(chain([first] if first else [], lines), delimiter=layout.delimiter,
                        strict=True)
    return _numbered(reader), layout


def _text_lines(stream, limit: int) -> Iterator[str]:
    if isinstance(stream.read(0), str):
        return _bounded_text_lines(stream, limit)
    # StringIO(newline="") splits lines as open(..., newline="") does, which csv expects.
    return chain.from_iterable(io.StringIO(text, newline="")
                               for text in _utf8_blocks(stream, limit))


def _bounded_text_lines(stream: TextIO, limit: int) -> Iterator[str]:
    """A text stream's lines, none read further than `limit` characters (+ its line end)."""
    number = 0
    while line := stream.readline(limit + 2):
        number += 1
        if len(line.rstrip("\r\n")) > limit:
            raise _line_too_long(number, limit, header=number == 1)
        yield line


def _utf8_blocks(stream: BinaryIO, limit: int) -> Iterator[str]:
    """Decode in large blocks cut at line ends, so a bad byte can be traced to its line; a
    line longer than `limit` bytes refuses the file before more of it is read."""
    data = stream.read(_READ_BYTES)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused(_("The file is UTF-16: save it as UTF-8 (CSV UTF-8) and import it "
                              "again. Nothing was imported."))
    data = data.removeprefix(_UTF8_BOM)
    lines_before = 0
    while data:
        more = stream.read(_READ_BYTES)
        cut = data.rfind(b"\n") + 1 if more else len(data)
        if cut == 0:
            # Old Mac files end lines with a lone CR; a CR at the very end may be half a CRLF.
            cut = data.rfind(b"\r", 0, len(data) - 1) + 1
        if cut == 0:
            _check_line_lengths(data, lines_before, limit)
            data += more  # a line longer than a block (but not than the limit): keep reading
            continue
        chunk, data = data[:cut], data[cut:] + more
        _check_line_lengths(chunk, lines_before, limit)
        yield _decode(chunk, lines_before)
        lines_before += chunk.count(b"\n")


def _check_line_lengths(chunk: bytes, lines_before: int, limit: int) -> None:
    """Refuse the file if a line of `chunk` (which starts a line) is longer than `limit` bytes.

    Cheap on real files: it looks for a stretch of limit/2 bytes without LF, one find() per
    stretch (a line longer than the limit contains such a stretch on the grid; a real file has
    none), and measures the line around one exactly, splitting it at CR too (old Mac files).
    """
    step = max(limit // 2, 1)
    probe = 0
    while probe + step <= len(chunk):
        if chunk.find(b"\n", probe, probe + step) != -1:
            probe += step
            continue
        start = chunk.rfind(b"\n", 0, probe) + 1
        end = chunk.find(b"\n", probe)
        end = len(chunk) if end == -1 else end
        line = chunk[start:end]
        if len(line) > limit and max(map(len, line.split(b"\r"))) > limit:
            # The first line, unless an old Mac file's later line (split at CR) is the long one.
            header = lines_before == start == 0 and len(line.split(b"\r", 1)[0]) > limit
            raise _line_too_long(lines_before + chunk.count(b"\n", 0, start) + 1, limit,
                                 header=header)
        probe = end + 1  # the grid starts again at the next line


def _line_too_long(line: int, limit: int, *, header: bool) -> ImportRefused:
    if header:
        return ImportRefused(
            _("The header line is longer than %(limit)d bytes: it should only name the "
              "columns, at most %(columns)d of them. Nothing was imported.")
            % {"limit": limit, "columns": settings.CRM_IMPORT_MAX_COLUMNS})
    return ImportRefused(
        _("Line %(line)d is longer than %(limit)d bytes, far longer than any row of an import: "
          "the file is probably damaged or not the one meant. Nothing was imported.")
        % {"line": line, "limit": limit})


def _decode(chunk: bytes, lines_before: int) -> str:
    try:
        return chunk.decode("utf-8")
    except UnicodeDecodeError as error:
        line = lines_before + chunk.count(b"\n", 0, error.start) + 1
        raise ImportRefused(
            _("Line %(line)d is not valid UTF-8: the file was probably saved in another "
              "encoding (such as Latin-1 or Windows-1254). Save it as UTF-8 (CSV UTF-8) and "
              "import it again. Nothing was imported.") % {"line": line}
        ) from None


def _numbered(reader) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, values); malformed CSV refuses the file, naming the line."""
    start = 1
    try:
        for values in reader:
            yield start, values
            start = reader.line_num + 1
    except csv.Error as error:
        raise ImportRefused(
            _("Line %(line)d is not valid CSV (%(error)s); perhaps a quote is not closed. "
              "Nothing was imported.") % {"line": start, "error": error}
        ) from None
    except UnicodeDecodeError:
        raise ImportRefused(
            _("Line %(line)d is not valid UTF-8: save the file as UTF-8 (CSV UTF-8) and "
              "import it again. Nothing was imported.") % {"line": start}
        ) from None


def _columns(header: list[str]) -> list[str]:
    """Normalised column names; refuse missing, unknown, unnamed or repeated columns."""
    return header_columns(header, required=REQUIRED_COLUMNS, allowed=COLUMNS)


def header_columns(header: list[str], *, required: Sequence[str],
                   allowed: Sequence[str]) -> list[str]:
    """A header line's column names, trimmed and lower-cased; any missing, unknown, unnamed
    or repeated column refuses the file, naming every problem at once (the first few names
    of each kind: the reason stays short whatever the header). Linear in the columns."""
    limit = settings.CRM_IMPORT_MAX_COLUMNS
    if len(header) > limit:
        raise ImportRefused(
            _("The header line has %(count)d columns; at most %(limit)d are allowed, and this "
              "import knows only %(allowed)s. Nothing was imported.")
            % {"count": len(header), "limit": limit, "allowed": ", ".join(allowed)})
    names = [str(name).strip().lower() for name in header]
    if names:
        names[0] = names[0].lstrip("\ufeff").strip()
    problems = []
    present, known = set(names), set(allowed)
    missing = [name for name in required if name not in present]
    if missing:
        problems.append(_("missing required columns: %(names)s") % {"names": ", ".join(missing)})
    unknown = [name for name in names if name and name not in known]
    if unknown:
        problems.append(_("unknown columns: %(names)s") % {"names": _some_names(unknown)})
    if "" in present:
        problems.append(_("column %(number)d has no name") % {"number": names.index("") + 1})
    repeated = sorted(name for name, count in Counter(names).items() if name and count > 1)
    if repeated:
        problems.append(_("repeated columns: %(names)s") % {"names": _some_names(repeated)})
    if problems:
        raise ImportRefused(
            _("The header line is not right (%(problems)s). Allowed columns: %(allowed)s. "
              "Nothing was imported.")
            % {"problems": "; ".join(problems), "allowed": ", ".join(allowed)}
        )
    return names


_NAMES_SHOWN = 10
_NAME_CHARS = 40


def _some_names(names: list[str]) -> str:
    """The first few names, each cut short, and how many more: for a reason people read."""
    shown = [name if len(name) <= _NAME_CHARS else name[:_NAME_CHARS] + "…"
             for name in names[:_NAMES_SHOWN]]
    text = ", ".join(shown)
    if len(names) > _NAMES_SHOWN:
        text += " " + ngettext("and %(count)d more", "and %(count)d more",
                               len(names) - _NAMES_SHOWN) % {"count": len(names) - _NAMES_SHOWN}
    return text


def _as_text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


# --- Checking rows --------------------------------------------------------------------------

class _RowChecker:
    """Turns one row's texts into staged values, or into the list of everything wrong with it.

    This runs a million times per big file, so the common shapes take cheap paths; anything
    else goes through the shared validators (customers.normalise, customers.money), which also
    word the errors.
    """

    def __init__(self, columns: list[str], *, aware_times: bool, decimal_comma: bool = False):
        self.width = len(columns)
        self.decimal_comma = decimal_comma
        self.email_at = columns.index("email")
        # Absent optional columns read the "" appended to every row at index `width`.
        self.fields = itemgetter(*(columns.index(name) if name in columns else self.width
                                   for name in COLUMNS))
        now = timezone.now()
        self.now = now
        self.latest = now + dt.timedelta(hours=settings.CRM_FUTURE_TOLERANCE_HOURS)
        self.rates = currency_rates()
        self.shop_zone = shop_timezone()
        self.aware = aware_times  # PostgreSQL takes "+00:00"; SQLite stores naive UTC text
        self.channels = frozenset(Channel.values)
        self.base = base_currency()
        self._currencies: dict[str, str | list[str]] = {}
        self._plain_amounts: dict[str, re.Pattern] = {}

    def email_text(self, values: list[str]) -> str:
        return values[self.email_at] if self.email_at < len(values) else ""

    def check(self, line: int, values: list[str]) -> tuple | list[str]:
        reasons: list[str] = []
        if len(values) != self.width:
            reasons.append(_("The row has %(found)d fields; the header has %(expected)d.")
                           % {"found": len(values), "expected": self.width})
            values = (values + [""] * self.width)[:self.width]
        (email_text, when_text, amount_text, currency_text, external_id, first_name,
         last_name, channel, quantity, code) = self.fields(values + [""])
        email = self._email(email_text, reasons)
        times = self._time(when_text, reasons)
        money = self._money(amount_text, currency_text, reasons)
        if channel not in self.channels:
            channel = self._channel(channel, reasons)
        quantity = self._quantity(quantity, reasons) if quantity else 1
        texts = (external_id.strip(), first_name.strip(), last_name.strip(), code.strip())
        if max(map(len, texts)) > _SHORTEST_TEXT_LIMIT or "\x00" in "".join(texts):
            self._check_texts(texts, reasons)
        if reasons:
            return reasons
        amount, currency, amount_base = money
        external_id, first_name, last_name, code = texts
        when, moment = times
        # The shop-local day, as customers.normalise.shop_day computes it.
        day = (when if when.tzinfo is self.shop_zone else when.astimezone(self.shop_zone)).date()
        instant = moment.isoformat(" ")  # "2024-05-31 11:30:00+00:00"
        derived = not external_id
        if derived:
            external_id = _derived_id(email, instant, amount, currency)
        return (
            line, email, first_name, last_name, external_id, int(derived),
            instant if self.aware else instant[:-6], day.isoformat(), format(amount, "f"), currency,
            format(amount_base, "f"), quantity, channel, code,
        )

    def _email(self, text: str, reasons: list[str]) -> str | None:
        email = text.strip().lower()
        if not _PLAIN_EMAIL.fullmatch(email):
            try:
                email = normalise_email(text)
            except ValidationError as error:
                reasons.extend(error.messages)
                return None
        if len(email) > _TEXT_LIMITS["email"]:
            reasons.append(_("Email is longer than %(limit)d characters.")
                           % {"limit": _TEXT_LIMITS["email"]})
            return None
        return email

    def _time(self, text: str, reasons: list[str]) -> tuple[dt.datetime, dt.datetime] | None:
        """The moment in UTC (bounds checked there: comparing one zone is cheapest)."""
        try:
            when = parse_purchase_time(text)
            moment = when.astimezone(dt.timezone.utc)
            if not EARLIEST_PURCHASE <= moment <= self.latest:
                validate_purchase_time(when, now=self.now)
        except ValidationError as error:
            reasons.extend(error.messages)
            return None
        return when, moment

    def _money(self, amount_text: str, currency_text: str, reasons: list[str]):
        """(amount, currency, amount in base currency) as Decimals, or None."""
        currency = self._currency(currency_text, reasons)
        if self.decimal_comma:
            amount_text = _from_decimal_comma(amount_text, reasons)
            if amount_text is None:
                return None
        plain = self._plain_amounts.get(currency)
        if plain is not None and plain.fullmatch(amount_text):
            amount = Decimal(amount_text)
        else:
            try:
                amount = parse_amount(amount_text)
                if currency is None:
                    return None
                amount = validate_amount(amount, currency)
            except ValidationError as error:
                reasons.extend(error.messages)
                return None
        if currency == self.base:
            return amount, currency, amount
        try:
            return amount, currency, to_base(amount, currency, self.rates)
        except ValidationError as error:
            reasons.extend(error.messages)
            return None

    def _plain_amount(self, currency: str) -> re.Pattern:
        """Digits with at most the currency's decimals, below MAX_AMOUNT: always valid."""
        places = get_currency_precision(currency)
        digits = len(str(int(MAX_AMOUNT))) - 1  # one digit fewer: surely below the maximum
        # [0-9], not \d: \d and Decimal() also read other scripts' digits ("١٢" as 12).
        decimals = rf"(?:\.[0-9]{{1,{places}}})?" if places else ""
        return re.compile(rf"[0-9]{{1,{digits}}}{decimals}")

    def _currency(self, text: str, reasons: list[str]) -> str | None:
        known = self._currencies.get(text)
        if known is None:
            try:
                known = normalise_currency(text)
                if known not in self._plain_amounts:
                    self._plain_amounts[known] = self._plain_amount(known)
            except ValidationError as error:
                known = error.messages
            if len(self._currencies) < 1000:  # garbage must not grow the cache without end
                self._currencies[text] = known
        if isinstance(known, list):
            reasons.extend(known)
            return None
        return known

    def _channel(self, text: str, reasons: list[str]) -> str:
        channel = text.strip().lower() or Channel.ONLINE.value
        if channel not in self.channels:
            reasons.append(_("Unknown channel %(value)s: use one of %(allowed)s.")
                           % {"value": text.strip()[:30], "allowed": ", ".join(Channel.values)})
        return channel

    def _quantity(self, text: str, reasons: list[str]) -> int:
        cleaned = text.strip()
        if not cleaned:
            return 1
        if cleaned.isascii() and cleaned.isdigit() and 1 <= int(cleaned) <= _MAX_QUANTITY:
            return int(cleaned)
        reasons.append(_("Quantity %(value)s is not a whole number of at least 1.")
                       % {"value": cleaned[:20]})
        return 1

    def _check_texts(self, texts: tuple[str, ...], reasons: list[str]) -> None:
        for name, text in zip(("external_id", "first_name", "last_name", "code"), texts):
            if len(text) > _TEXT_LIMITS[name]:
                reasons.append(_("%(column)s is longer than %(limit)d characters.")
                               % {"column": name, "limit": _TEXT_LIMITS[name]})
            if "\x00" in text:
                reasons.append(_("%(column)s contains a NUL character.") % {"column": name})


_DECIMAL_COMMA_AMOUNT = re.compile(r"-?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]*)(?:,[0-9]+)?")


def _from_decimal_comma(text: str, reasons: list[str]) -> str | None:
    """"1.234,50" -> "1234.50" (dots group thousands); anything else is refused clearly."""
    cleaned = text.strip()
    if not cleaned:
        return cleaned  # "Amount is required." from the shared check
    if not _DECIMAL_COMMA_AMOUNT.fullmatch(cleaned) or not cleaned.strip("-"):
        reasons.append(_("Amount %(value)s is not a number: this file separates fields with "
                         "semicolons, so write amounts like 1234,50 or 1.234,50.")
                       % {"value": cleaned[:30]})
        return None
    return cleaned.replace(".", "").replace(",", ".")


def _derived_id(email: str, instant: str, amount: Decimal, currency: str) -> str:
    """Same order, same id: the UTC instant and a normalised amount ignore formatting."""
    key = f"{email}|{instant}|{format(amount.normalize(), 'f')}|{currency}"
    return DERIVED_ID_PREFIX + hashlib.sha1(key.encode()).hexdigest()


class _ErrorReport:
    """Counts every bad row, keeps the first MAX_ERRORS_KEPT, streams all to errors_file.

    The report quotes the file (emails as written) and is opened in a spreadsheet: written
    formula-safe, so a cell like =HYPERLINK(...) shows as text.
    """

    def __init__(self, errors_file: TextIO | None):
        self.count = 0
        self.kept: list[RowError] = []
        self.writer = SafeCSVWriter(errors_file) if errors_file is not None else None
        if self.writer:
            self.writer.writerow(["line", "email", "reasons"])

    def add(self, line: int, email: str, reasons: list[str]) -> None:
        self.count += 1
        email = email.strip()[:254]
        if len(self.kept) < MAX_ERRORS_KEPT:
            self.kept.append((line, email, reasons))
        if self.writer:
            self.writer.writerow([line, email, "; ".join(reasons)])


# --- Staging and merging --------------------------------------------------------------------

_STAGING_COLUMNS = (
    "line", "email", "first_name", "last_name", "external_id", "derived", "purchased_at",
    "purchased_on", "amount", "currency", "amount_base", "quantity", "channel", "code",
)
_STAGING_DDL = """
    CREATE TEMPORARY TABLE crm_import_staging (
        line integer NOT NULL{line_key}, email text NOT NULL, first_name text NOT NULL,
        last_name text NOT NULL, external_id text NOT NULL, derived smallint NOT NULL,
        purchased_at {timestamp} NOT NULL, purchased_on date NOT NULL,
        amount {decimal} NOT NULL, currency text NOT NULL, amount_base {decimal} NOT NULL,
        quantity integer NOT NULL, channel text NOT NULL, code text NOT NULL
    )"""
_TEMP_TABLES = ("crm_import_staging", "crm_import_contacts", "crm_import_affected",
                "crm_import_coded")


class _Staging:
    """The temporary table where valid rows wait for the merge."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.postgres = connection.vendor == "postgresql"

    def create(self) -> None:
        self.drop()
        # SQLite joins by line need the key; PostgreSQL hash-joins and loads faster without.
        types = ({"timestamp": "timestamptz", "decimal": "numeric", "line_key": ""}
                 if self.postgres else
                 {"timestamp": "datetime", "decimal": "decimal", "line_key": " PRIMARY KEY"})
        self.cursor.execute(_STAGING_DDL.format(**types))

    def add(self, rows: list[tuple]) -> None:
        if not rows:
            return
        if self.postgres:
            self._copy(rows)
        else:
            placeholders = ", ".join(["%s"] * len(_STAGING_COLUMNS))
            self.cursor.executemany(
                f"INSERT INTO crm_import_staging VALUES ({placeholders})", rows)

    def _copy(self, rows: list[tuple]) -> None:
        # Machine data for PostgreSQL's COPY, never opened by people: plain csv.writer, as an
        # escaping apostrophe would be stored in the values.
        buffer = io.StringIO()
        csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
        buffer.seek(0)
        sql = (f"COPY crm_import_staging ({', '.join(_STAGING_COLUMNS)}) "
               "FROM STDIN WITH (FORMAT csv)")
        if hasattr(self.cursor, "copy_expert"):  # psycopg2
            self.cursor.copy_expert(sql, buffer)
        else:  # psycopg 3
            with self.cursor.copy(sql) as copy:
                copy.write(buffer.getvalue())

    def drop(self) -> None:
        for table in _TEMP_TABLES:
            self.cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _stage_rows(records, checker: _RowChecker, staging: _Staging, report: _ErrorReport,
                progress) -> int:
    """Check every row; stage the valid ones in batches. Returns the number of rows read."""
    read = 0
    batch: list[tuple] = []
    for line, values in records:
        if not any(values):
            continue  # blank lines and rows of empty cells (spreadsheet leftovers)
        read += 1
        outcome = checker.check(line, values)
        if outcome.__class__ is tuple:
            batch.append(outcome)
        else:
            report.add(line, checker.email_text(values), outcome)
        if read % BATCH_ROWS == 0:
            staging.add(batch)
            batch = []
            if progress:
                progress(read)
    staging.add(batch)
    if progress:
        progress(read)
    return read


# Later lines reusing an external_id given earlier in the same input.
_REPEATED_IDS_FROM = """
    FROM crm_import_staging s
    JOIN (SELECT external_id, MIN(line) AS line FROM crm_import_staging WHERE derived = 0
          GROUP BY external_id HAVING COUNT(*) > 1) firsts
      ON firsts.external_id = s.external_id AND s.line > firsts.line
    WHERE s.derived = 0"""


def _report_repeated_ids(cursor, report: _ErrorReport) -> int:
    """An external_id twice in one input is an error on its later lines; they are unstaged.

    Returns how many lines were unstaged.
    """
    cursor.execute(f"SELECT s.line, s.email, s.external_id, firsts.line {_REPEATED_IDS_FROM} "
                   "ORDER BY s.line")
    found = 0
    while rows := cursor.fetchmany(1000):
        found += len(rows)
        for line, email, external_id, first_line in rows:
            report.add(line, email, [
                _("External id %(id)s is already used on line %(first)d of this file.")
                % {"id": external_id, "first": first_line}])
    if found:
        cursor.execute("DELETE FROM crm_import_staging WHERE line IN "
                       f"(SELECT s.line {_REPEATED_IDS_FROM})")
    return found


def _count_duplicate_rows(cursor) -> int:
    """Rows without external_id repeating an earlier row: they add no purchase."""
    cursor.execute("SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n "
                   "FROM crm_import_staging WHERE derived = 1 GROUP BY external_id "
                   "HAVING COUNT(*) > 1) repeated")
    return int(cursor.fetchone()[0])


# One row per email in the input: the line it first appears on and the first non-blank names.
_CONTACTS_SQL = """
    CREATE TEMPORARY TABLE crm_import_contacts AS
    SELECT e.email, e.first_line, COALESCE(f.first_name, '') AS first_name,
           COALESCE(l.last_name, '') AS last_name{extra}
    FROM (SELECT email, MIN(line) AS first_line,
                 MIN(CASE WHEN first_name <> '' THEN line END) AS first_name_line,
                 MIN(CASE WHEN last_name <> '' THEN line END) AS last_name_line
          FROM crm_import_staging GROUP BY email) e
    LEFT JOIN crm_import_staging f ON f.line = e.first_name_line
    LEFT JOIN crm_import_staging l ON l.line = e.last_name_line
    {more}"""

# Fill blank names of contacts that existed before the import; never overwrite a name.
_FILL_NAMES_SQL = """
    UPDATE {contact} SET
        first_name = CASE WHEN {contact}.first_name = '' THEN n.first_name
                          ELSE {contact}.first_name END,
        last_name = CASE WHEN {contact}.last_name = '' THEN n.last_name
                         ELSE {contact}.last_name END,
        updated_at = %s
    FROM crm_import_contacts n
    WHERE {match}
      AND (({contact}.first_name = '' AND n.first_name <> '')
           OR ({contact}.last_name = '' AND n.last_name <> ''))"""

# Rows sharing a (source, external_id) by now are exact duplicates of one order: ordered by
# external_id, then line, the first line wins. The order by key also means two imports
# running at once wait for each other's rows in the same order, so they cannot deadlock.
_INSERT_PURCHASES_SQL = """
    INSERT INTO {purchase} (contact_id, purchased_at, purchased_on, amount, currency,
                            amount_base, quantity, channel, source, external_id, code,
                            created_at, recorded_by_id)
    SELECT {contact_id}, s.purchased_at, s.purchased_on, s.amount, s.currency, s.amount_base,
           s.quantity, s.channel, %s, s.external_id, s.code, %s, %s
    FROM crm_import_staging s JOIN {join}
    WHERE true
    ORDER BY s.external_id, s.line
    ON CONFLICT (source, external_id) WHERE external_id IS NOT NULL DO NOTHING"""


def _tables() -> dict[str, str]:
    return {"contact": Contact._meta.db_table, "purchase": Purchase._meta.db_table}


def _refresh_stats(sql: str, *, announce: bool) -> None:
    """customers.stats refresh for the contact ids `sql` selects, in chunks, streamed."""
    with connection.chunked_cursor() as reader:
        reader.execute(sql)
        while rows := reader.fetchmany(2000):
            contacts_refresh_stats([row[0] for row in rows], announce=announce)


def _merge_sqlite(cursor, source: str, now, *, announce: bool,
                  recorded_by_id: int | None) -> tuple[int, int]:
    """The plain way: contacts, purchases, then customers.stats for every affected contact.

    SQLite has one writer at a time (the transaction holds the write lock), so nothing
    changes under the import and no row locks are needed.
    """
    tables = _tables()
    cursor.execute(_CONTACTS_SQL.format(extra="", more=""))
    cursor.execute(f"""
        INSERT INTO {tables['contact']} (email, first_name, last_name, phone, marketing_consent,
            consent_source, created_at, updated_at, purchase_count, total_spent)
        SELECT n.email, n.first_name, n.last_name, '', false, '', %s, %s, 0, 0
        FROM crm_import_contacts n
        WHERE NOT EXISTS (SELECT 1 FROM {tables['contact']} c WHERE c.email = n.email)
        ORDER BY n.first_line""", [now, now])
    contacts_created = cursor.rowcount
    cursor.execute(_FILL_NAMES_SQL.format(
        match=f"n.email = {tables['contact']}.email", **tables), [now])
    cursor.execute(f"""
        CREATE TEMPORARY TABLE crm_import_affected AS
        SELECT DISTINCT c.id AS contact_id, c.purchase_count AS count_before
        FROM crm_import_staging s JOIN {tables['contact']} c ON c.email = s.email
        WHERE NOT EXISTS (SELECT 1 FROM {tables['purchase']} p
                          WHERE p.source = %s AND p.external_id = s.external_id)""", [source])
    cursor.execute(_INSERT_PURCHASES_SQL.format(
        contact_id="c.id", join=f"{tables['contact']} c ON c.email = s.email", **tables),
        [source, now, recorded_by_id])
    purchases_created = cursor.rowcount
    # The new purchases carrying a code, for the codes hook (_after_merge): SQLite answers
    # IN (subquery) from a temporary index of the subquery, so this is one pass.
    cursor.execute(f"""
        CREATE TEMPORARY TABLE crm_import_coded AS
        SELECT p.id AS purchase_id FROM {tables['purchase']} p
        WHERE p.source = %s AND p.created_at = %s AND p.code <> ''
          AND p.external_id IN (SELECT external_id FROM crm_import_staging WHERE code <> '')""",
                   [source, now])
    _refresh_stats("SELECT contact_id FROM crm_import_affected ORDER BY contact_id",
                   announce=announce)
    return contacts_created, purchases_created


def _merge_postgres(cursor, source: str, now, *, announce: bool,
                    recorded_by_id: int | None) -> tuple[int, int]:
    """Purchases first, then the new contacts with their figures already computed.

    Existing contacts are locked (ordered by id, as customers.services does) before their
    purchases go in and are refreshed by customers.stats afterwards. New contacts get ids from
    the sequence up front; their purchases are inserted first (the foreign key is checked at
    commit) and the contacts are then inserted once with figures aggregated from exactly the
    purchases inserted, which saves updating every new row again.
    """
    tables = _tables()
    # JIT-compiling each refresh chunk costs more than running it; sorts of a million staged
    # rows fit in memory; temp tables are never auto-analysed, and the plans need statistics.
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    cursor.execute("ANALYZE crm_import_staging")
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [tables["contact"]])
    sequence = cursor.fetchone()[0]
    cursor.execute(_CONTACTS_SQL.format(
        extra=", c.id AS existing_id, COALESCE(c.purchase_count, 0) AS count_before, "
              "CASE WHEN c.id IS NULL THEN nextval(%s::regclass) ELSE c.id END AS id",
        more=f"LEFT JOIN {tables['contact']} c ON c.email = e.email ORDER BY e.first_line"),
        [sequence])
    _lock_existing(cursor, tables)
    cursor.execute(_FILL_NAMES_SQL.format(match=f"n.existing_id = {tables['contact']}.id",
                                          **tables), [now])
    insert = _INSERT_PURCHASES_SQL.format(
        contact_id="n.id", join="crm_import_contacts n ON n.email = s.email", **tables)
    cursor.execute("""
        CREATE TEMPORARY TABLE crm_import_affected (
            contact_id bigint PRIMARY KEY, purchases integer, days integer,
            first_at timestamptz, last_at timestamptz, total numeric)""")
    # The new purchases carrying a code, for the codes hook (_after_merge), noted as they go
    # in: finding them afterwards would join the purchases table, whose statistics do not
    # know yet about the rows just inserted (a nested loop over a million rows).
    cursor.execute("CREATE TEMPORARY TABLE crm_import_coded (purchase_id bigint PRIMARY KEY)")
    cursor.execute(f"""
        WITH inserted AS ({insert}
            RETURNING id, contact_id, purchased_on, purchased_at, amount_base, code),
        coded AS (INSERT INTO crm_import_coded SELECT id FROM inserted WHERE code <> '')
        INSERT INTO crm_import_affected
        SELECT contact_id, COUNT(*), COUNT(DISTINCT purchased_on), MIN(purchased_at),
               MAX(purchased_at), SUM(amount_base)
        FROM inserted GROUP BY contact_id""", [source, now, recorded_by_id])
    cursor.execute("SELECT COALESCE(SUM(purchases), 0) FROM crm_import_affected")
    purchases_created = int(cursor.fetchone()[0])
    contacts_created = _insert_new_contacts(cursor, tables, now)
    _announce_new_contacts(announce=announce)
    _refresh_stats("SELECT DISTINCT n.existing_id FROM crm_import_contacts n "
                   "JOIN crm_import_affected a ON a.contact_id = n.id "
                   "WHERE n.existing_id IS NOT NULL ORDER BY n.existing_id", announce=announce)
    return contacts_created, purchases_created


def _announce_new_contacts(*, announce: bool) -> None:
    """contact.stage_changed for the contacts this import created (prospect -> buyer), as
    the other writers emit it; nothing is read unless a webhook subscribes."""
    watcher = stage_watchers(announce=announce)
    if not watcher.watching:
        return
    with connection.chunked_cursor() as reader:
        reader.execute("SELECT id FROM crm_import_contacts WHERE existing_id IS NULL "
                       "ORDER BY id")
        while rows := reader.fetchmany(2000):
            watcher.created([row[0] for row in rows])


def _lock_existing(cursor, tables: dict) -> None:
    """Lock the contacts that existed before the import, in id order, as services does."""
    cursor.execute(f"""
        SELECT COUNT(*) FROM (
            SELECT c.id FROM {tables['contact']} c
            JOIN crm_import_contacts n ON n.existing_id = c.id AND n.email = c.email
            ORDER BY c.id FOR UPDATE OF c) locked""")
    locked = cursor.fetchone()[0]
    cursor.execute("SELECT COUNT(*) FROM crm_import_contacts WHERE existing_id IS NOT NULL")
    if locked != cursor.fetchone()[0]:
        # Rows re-read after waiting for a lock: one was deleted or its email changed.
        raise ImportRefused(_("Some contacts in the file were changed or deleted while it was "
                              "being imported. Nothing was imported; import the file again."))


def _insert_new_contacts(cursor, tables: dict, now) -> int:
    cursor.execute(f"""
        INSERT INTO {tables['contact']} (id, email, first_name, last_name, phone,
            marketing_consent, consent_source, created_at, updated_at, purchase_count,
            first_purchase_at, last_purchase_at, total_spent)
        SELECT n.id, n.email, n.first_name, n.last_name, '', false, '', %s, %s,
               COALESCE(a.days, 0), a.first_at, a.last_at, COALESCE(a.total, 0)
        FROM crm_import_contacts n LEFT JOIN crm_import_affected a ON a.contact_id = n.id
        WHERE n.existing_id IS NULL
        ORDER BY n.email  -- the unique key's order: concurrent imports cannot deadlock
        ON CONFLICT (email) DO NOTHING""", [now, now])
    created = cursor.rowcount
    cursor.execute("SELECT COUNT(*) FROM crm_import_contacts WHERE existing_id IS NULL")
    if created != cursor.fetchone()[0]:
        _adopt_concurrent_contacts(cursor, tables, now)
    return created


def _adopt_concurrent_contacts(cursor, tables: dict, now) -> None:
    """Someone else created a contact for one of our new emails meanwhile: use theirs."""
    cursor.execute(f"""
        SELECT n.id, c.id FROM crm_import_contacts n
        JOIN {tables['contact']} c ON c.email = n.email
        WHERE n.existing_id IS NULL AND c.id <> n.id
        ORDER BY c.id FOR UPDATE OF c""")
    for ours, theirs in cursor.fetchall():
        cursor.execute(f"UPDATE {tables['purchase']} SET contact_id = %s WHERE contact_id = %s",
                       [theirs, ours])
        cursor.execute("UPDATE crm_import_contacts SET existing_id = %s WHERE id = %s",
                       [theirs, ours])
    cursor.execute(_FILL_NAMES_SQL.format(match=f"n.existing_id = {tables['contact']}.id",
                                          **tables), [now])


# --- After the merge: codes, scores, events ------------------------------------------------

# Contacts given new purchases, with their purchase count before the import (what the events
# compare against). Contacts of the PostgreSQL merge are inserted with their figures, so
# their count before is that of the matched contact (0 for a new one).
_AFFECTED_SQL = {
    False: "SELECT contact_id, count_before FROM crm_import_affected ORDER BY contact_id",
    True: "SELECT COALESCE(n.existing_id, n.id), n.count_before FROM crm_import_affected a "
          "JOIN crm_import_contacts n ON n.id = a.contact_id ORDER BY 1",
}
# Contacts per follow-up task: one task re-scores them in one pass of the fitted models.
FOLLOW_UP_CHUNK = 1000


def _after_merge(*, postgres: bool, historical: bool) -> None:
    """What a purchase recorded one at a time causes, for the whole import at once.

    1. hooks.purchases_imported, inside this transaction, with the new purchases carrying a
       code (their ids in crm_import_coded, noted by the merge): campaigns runs a few
       statements over them (campaigns/imported_codes.py).
    2. After commit, one task per FOLLOW_UP_CHUNK contacts (customers.purchases_imported):
       re-score from the last fitted models, then hooks.purchases_committed (purchase events)
       unless historical. Reading the affected ids is one streamed query.
    A dry run rolls back, and with it the queued tasks (on_commit never fires).
    """
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE crm_import_coded")  # temp tables are never auto-analysed
    with_code = Purchase.objects.filter(
        pk__in=RawSQL("SELECT purchase_id FROM crm_import_coded", []))
    hooks.purchases_imported.call(hooks.ImportedPurchases(with_code=with_code,
                                                          historical=historical))
    consequence = ("the nightly run re-scores them" if historical else
                   "the nightly run re-scores them; their purchase events are missed")
    with connection.chunked_cursor() as reader:
        reader.execute(_AFFECTED_SQL[postgres])
        while rows := reader.fetchmany(FOLLOW_UP_CHUNK):
            queue_after_commit(purchases_imported_task,
                               [[contact_id, count or 0] for contact_id, count in rows],
                               historical, consequence=consequence)


# --- The run --------------------------------------------------------------------------------

def _import(columns: list[str], records: Iterable[tuple[int, list[str]]], *, source: str,
            skip_invalid: bool, errors_file: TextIO | None, progress,
            dry_run: bool = False, decimal_comma: bool = False,
            historical: bool = False, recorded_by=None) -> ImportResult:
    source = _checked_source(source)
    postgres = connection.vendor == "postgresql"
    checker = _RowChecker(columns, aware_times=postgres, decimal_comma=decimal_comma)
    report = _ErrorReport(errors_file)
    with transaction.atomic(), connection.cursor() as cursor:
        staging = _Staging(cursor)
        staging.create()
        read = _stage_rows(records, checker, staging, report, progress)
        staged = read - report.count
        staged -= _report_repeated_ids(cursor, report)
        imported = skip_invalid or not report.count
        if not imported:
            transaction.set_rollback(True)  # all or nothing: the staging table goes too
            counts = {}
        else:
            duplicates = _count_duplicate_rows(cursor)
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            merge = _merge_postgres if postgres else _merge_sqlite
            contacts_created, purchases_created = merge(
                cursor, source, now, announce=not historical,
                recorded_by_id=recorded_by.pk if recorded_by is not None else None)
            _after_merge(postgres=postgres, historical=historical)
            staging.drop()
            if dry_run:
                transaction.set_rollback(True)  # true counts, nothing kept
            counts = {"contacts_created": contacts_created,
                      "purchases_created": purchases_created, "rows_duplicate": duplicates,
                      "purchases_existing": staged - duplicates - purchases_created}
    return ImportResult(
        rows_read=read, rows_valid=read - report.count, rows_invalid=report.count,
        errors=sorted(report.kept), imported=imported and not dry_run, dry_run=dry_run,
        **counts,
    )


def _checked_source(source: str) -> str:
    cleaned = (source or "").strip()
    limit = Purchase._meta.get_field("source").max_length
    if not cleaned or len(cleaned) > limit:
        raise ImportRefused(_("The source must be 1 to %(limit)d characters.") % {"limit": limit})
    return cleaned

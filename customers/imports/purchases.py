"""Bulk purchase import: a CSV file (or rows from code) in, contacts and purchases out.

Used by `manage.py import_purchases`, the demo-data loader and the browser upload. The rules:

- Columns (header names are trimmed and case-insensitive): email, purchased_at, amount, currency
  are required; external_id, first_name, last_name, channel, quantity, code are optional. Any
  other column refuses the whole file: a typo in a header must not silently drop a column.
  A file with products (sku, product, category, unit_price, discount: a row per order line,
  grouped by external_id) is read by customers.imports.purchase_lines, then merged here.
- channel is the shop's own label, kept as written and mapped to a reporting channel through
  the mapping loaded once per file (customers.channels); an unknown label counts as "other"
  and is listed for managers to map, never refused. purchased_at is ISO 8601, a spreadsheet
  date (05.12.2026 14:30, 5/12/2026) or an Excel date number, in the file's date order
  (customers.imports.dates: chosen, or told by the shop's locale or the file; an ambiguous or
  mixed file is refused as a whole).
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
statements, all in one transaction (purchase_rows checks a row, purchase_staging stages
it, purchase_merge merges; reading is shared with the contact import). Contacts that already
existed are locked in id order (as customers.services does) before their purchases go in, and
customers.stats refreshes their figures. On PostgreSQL, new contacts are inserted after their
purchases with figures aggregated from exactly those purchases (same definition as
customers.stats; the tests check one against the other), which saves writing every new
contact twice. Measured figures: docs/benchmarks.md.
"""
import functools
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import BinaryIO, TextIO

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..channels import unmapped_labels_seen
from ..models import Purchase
from .dates import DateOrder
from .order_lines import orders_lines_import
from .purchase_lines import LINE_COLUMNS, has_lines, lines_import
from .purchase_merge import after_merge, merge_postgres, merge_sqlite
from .purchase_rows import COLUMNS, REQUIRED_COLUMNS, RowChecker
from .purchase_staging import (
    Staging, count_duplicate_rows, count_labels, report_repeated_ids, stage_rows,
)
from .reading import (
    ErrorReport, ImportRefused, RowError, as_text, csv_records, header_columns, opened,
)


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
    historical: bool = False, recorded_by=None, date_order: str = "auto",
    lines_file: TextIO | BinaryIO | str | os.PathLike | None = None, lines_name: str = "",
) -> ImportResult:
    """Import a purchases CSV (a path, or a binary or text file object). See the module doc.

    lines_file: the orders' lines as a file of their own (customers.imports.order_lines;
    `file` then holds one row per order); lines_name names it in errors.

    progress(rows_read) is called after every batch, inside the import's transaction: it must
    not write through the default database connection (that would join the transaction).
    dry_run runs everything, merge included, then rolls back: the counts are the true ones.
    recorded_by (the user who uploaded the file) is stored on each new purchase, as the
    other doors store the user who recorded one.
    """
    if lines_file is not None:
        return _orders_and_lines(
            file=file, lines_file=lines_file, lines_name=lines_name, source=source,
            skip_invalid=skip_invalid, errors_file=errors_file, progress=progress,
            dry_run=dry_run, historical=historical, recorded_by=recorded_by,
            date_order=date_order)
    with opened(file) as stream:
        records, layout = csv_records(stream)
        header = _header(records)
        columns = purchase_columns(header)
        run = _import
        if has_lines(columns):  # one row per order line (customers.imports.purchase_lines)
            run = functools.partial(lines_import, run=_import)
        return run(columns, records, source=source, skip_invalid=skip_invalid,
                       errors_file=errors_file, progress=progress, dry_run=dry_run,
                       decimal_comma=layout.decimal_comma, historical=historical,
                       recorded_by=recorded_by, date_order=date_order)


def _header(records) -> list[str]:
    try:
        _line, header = next(records)
    except StopIteration:
        raise ImportRefused(_("The file is empty: the first line must name the columns "
                              "(email, purchased_at, amount, currency).")) from None
    return header


def _orders_and_lines(*, file, lines_file, lines_name: str, **options) -> ImportResult:
    """An orders file and its lines file (customers.imports.order_lines)."""
    if not lines_name:
        lines_name = (os.path.basename(lines_file) if isinstance(lines_file, (str, os.PathLike))
                      else _("the lines file"))
    with opened(file) as stream, opened(lines_file) as lines_stream:
        records, layout = csv_records(stream)
        header = _header(records)
        columns = orders_columns(header)
        return orders_lines_import(columns, records, lines_stream, lines_name=str(lines_name),
                                   run=_import, decimal_comma=layout.decimal_comma, **options)


def orders_columns(header: list[str]) -> list[str]:
    """The orders file of an import with a lines file: the purchase columns, external_id
    required, amount optional (the lines' sum), no line columns (they are the lines file's)."""
    required = [*(column for column in REQUIRED_COLUMNS if column != "amount"), "external_id"]
    return header_columns(header, required=required, allowed=COLUMNS)


def purchases_import_rows(
    *, rows: Iterable[Mapping[str, str]], source: str, skip_invalid: bool = False,
    errors_file: TextIO | None = None, progress: Callable[[int], None] | None = None,
    first_line: int = 1, dry_run: bool = False, historical: bool = False,
    date_order: str = "auto", store: str = "",
) -> ImportResult:
    """Import rows given as dicts keyed by the CSV column names (all rows with the same keys).

    Errors name rows by number, counting from first_line. `store` names the product
    catalogue the rows' products are kept in ("" the shop's own; a connected store's key).
    """
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return ImportResult(rows_read=0, rows_valid=0, rows_invalid=0, imported=True)
    keys = list(first)
    columns = purchase_columns(keys)
    records = (
        (line, [as_text(row.get(key)) for key in keys])
        for line, row in enumerate(chain([first], iterator), start=first_line)
    )
    run = (functools.partial(lines_import, run=_import, store=store) if has_lines(columns)
           else _import)
    return run(columns, records, source=source, skip_invalid=skip_invalid,
               errors_file=errors_file, progress=progress, dry_run=dry_run,
               historical=historical, date_order=date_order)


def purchase_columns(header: list[str]) -> list[str]:
    """Normalised column names; refuse missing, unknown, unnamed or repeated columns. A file
    with products (any of LINE_COLUMNS) needs external_id and may leave amount out."""
    names = {str(name).strip().lower().lstrip("\ufeff") for name in header}
    if has_lines(names):
        required = [*(column for column in REQUIRED_COLUMNS if column != "amount"),
                    "external_id"]
        return header_columns(header, required=required, allowed=COLUMNS + LINE_COLUMNS)
    return header_columns(header, required=REQUIRED_COLUMNS, allowed=COLUMNS)


# --- The run --------------------------------------------------------------------------------

def _import(columns: list[str], records: Iterable[tuple[int, list[str]]], *, source: str,
            skip_invalid: bool, errors_file: TextIO | None, progress,
            dry_run: bool = False, decimal_comma: bool = False,
            historical: bool = False, recorded_by=None, date_order: str = "auto") -> ImportResult:
    source = _checked_source(source)
    postgres = connection.vendor == "postgresql"
    dates = DateOrder(date_order)
    checker = RowChecker(columns, aware_times=postgres, decimal_comma=decimal_comma,
                         dates=dates)
    records = dates.records(records, columns.index("purchased_at"))
    report = ErrorReport(errors_file)
    with transaction.atomic(), connection.cursor() as cursor:
        staging = Staging(cursor)
        staging.create()
        read = stage_rows(records, checker, staging, report, progress)
        staging.analyze()
        staged = read - report.count
        staged -= report_repeated_ids(cursor, report)
        imported = skip_invalid or not report.count
        if not imported:
            transaction.set_rollback(True)  # all or nothing: the staging table goes too
            counts = {}
        else:
            duplicates = count_duplicate_rows(cursor)
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            merge = merge_postgres if postgres else merge_sqlite
            contacts_created, purchases_created = merge(
                cursor, source, now, announce=not historical,
                recorded_by_id=recorded_by.pk if recorded_by is not None else None)
            after_merge(postgres=postgres, historical=historical)
            # Labels nobody has mapped yet: listed in the mapping admin, with how often seen.
            unmapped_labels_seen(count_labels(cursor, checker.unmapped))
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

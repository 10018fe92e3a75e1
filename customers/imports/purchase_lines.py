"""A purchases file with products: one row per order line, the rows of one order grouped.

A file whose header names any of LINE_COLUMNS (sku, product, category, unit_price, discount)
is read here; any other file takes the purchase import's fast path unchanged
(customers.imports.purchases). The rules of a file with products:

- external_id is required: the rows of one order share it and make one purchase. The order's
  email, purchased_at, currency (and names, channel, code) come from its first row; a later row
  may leave them blank, but may not contradict them.
- Each row is a line: sku and/or product (the name), category, quantity (the line's quantity,
  1 when blank; decimals for weighed goods), unit_price, discount (money off the line).
- amount may be left out (the order is worth what its lines add up to) or given on the order's
  rows; then the lines must add up to it within rounding (customers.services.lines: the rules
  are the purchase service's, and so are the error messages).
- An order with a bad row is refused as a whole, each bad row named by its line; without
  skip_invalid, nothing is imported.

The orders are then imported as purchases by the same merge as any file (one purchase row per
order: codes, stages, events, scores as usual), and their lines go in set-based in the same
transaction, with the product catalogue kept (customers.services.lines.products_keep). A
purchase already recorded (a re-imported file) keeps the lines it has: none are added twice.
"""
import csv
import io
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from ..models import Purchase, PurchaseLine
from ..money import base_currency, normalise_currency
from ..services.lines import (
    LINE_FIELDS, LineIn, PreparedLines, line_clean, line_instances, line_values, lines_reconcile,
    lines_seen, products_keep,
)
from ..services.rates import RateBook
from .reading import ErrorReport, from_decimal_comma

LINE_COLUMNS = ("sku", "product", "category", "unit_price", "discount")
# The order's own columns: they must agree across its rows.
_ORDER_COLUMNS = ("email", "purchased_at", "currency", "first_name", "last_name", "channel",
                  "code")
_CHUNK = 900  # ids per IN (...): within SQLite's variable limit


def has_lines(columns: Iterable[str]) -> bool:
    return any(column in LINE_COLUMNS for column in columns)


class Order:
    __slots__ = ("line", "values", "rows", "bad")

    def __init__(self, line: int, values: dict[str, str]) -> None:
        self.line = line
        self.values = values
        self.rows: list[tuple[int, dict[str, str]]] = []
        self.bad = False


def rows_keyed(columns: list[str], records: Iterable[tuple[int, list[str]]],
               ) -> Iterator[tuple[int, dict[str, str], str]]:
    """(line, the row by column, its external_id) for each row that is not blank."""
    for line, cells in records:
        if any(cell.strip() for cell in cells):
            row = dict(zip(columns, cells, strict=False))
            yield line, row, row.get("external_id", "").strip()


def lines_import(columns: list[str], records: Iterable[tuple[int, list[str]]], *,
                 run: Callable[..., Any], skip_invalid: bool, errors_file, dry_run: bool,
                 decimal_comma: bool = False, source: str, store: str = "",
                 **options: Any):
    """Group the rows into orders, check their lines, import the orders with `run` (the
    purchase import's run) and add their lines. Returns its ImportResult, counting rows."""
    report = ErrorReport(errors_file)
    orders: dict[str, Order] = {}
    rows_read = 0
    for line, row, external_id in rows_keyed(columns, records):
        rows_read += 1
        if not external_id:
            report.add(line, row.get("email", ""), [
                _("A row with products needs the order's external_id: the rows of one order "
                  "share it.")])
            continue
        order = orders.get(external_id)
        if order is None:
            order = orders[external_id] = Order(line, row)
        else:
            clash = [column for column in _ORDER_COLUMNS
                     if row.get(column, "").strip()
                     and row[column].strip() != order.values.get(column, "").strip()]
            if clash:
                report.add(line, row.get("email", ""), [
                    _("This row's %(columns)s differ from the first row of order "
                      "%(order)s (line %(line)s).")
                    % {"columns": ", ".join(clash), "order": external_id[:40],
                       "line": order.line}])
                order.bad = True
                continue
            if row.get("amount", "").strip() and not order.values.get("amount", "").strip():
                order.values["amount"] = row["amount"]
        order.rows.append((line, row))
    return orders_import(columns, orders, rows_read=rows_read, report=report, run=run,
                         skip_invalid=skip_invalid, dry_run=dry_run,
                         decimal_comma=decimal_comma, source=source, store=store, **options)


def orders_import(columns: list[str], orders: dict[str, Order], *, rows_read: int,
                  report: ErrorReport, run: Callable[..., Any], skip_invalid: bool,
                  dry_run: bool, decimal_comma: bool = False, source: str, store: str = "",
                  lines_decimal_comma: bool | None = None, lines_file: str = "",
                  rows_per_order: bool = True, **options: Any):
    """Orders grouped with their line rows: check the lines, import the orders with `run` and
    add their lines. `columns`: the order's columns. A separate lines file
    (customers.imports.order_lines) names itself in its rows' errors (`lines_file`), may write
    decimals its own way (`lines_decimal_comma`) and counts an order as one row
    (`rows_per_order` False: the orders file's rows)."""
    from .purchases import ImportResult

    def weight(order: Order) -> int:
        return len(order.rows) if rows_per_order else 1

    prepared: dict[str, PreparedLines] = {}
    for external_id, order in orders.items():
        result = _order_lines(
            order, decimal_comma=decimal_comma, report=report, lines_file=lines_file,
            lines_decimal_comma=decimal_comma if lines_decimal_comma is None
            else lines_decimal_comma)
        if result is not None and not order.bad:
            prepared[external_id] = result
    bad_rows = rows_read - sum(weight(orders[key]) for key in prepared)
    refused = bad_rows and not skip_invalid

    purchase_columns = [column for column in columns if column not in LINE_COLUMNS]
    for column in ("amount", "quantity"):
        if column not in purchase_columns:
            purchase_columns.append(column)
    purchase_records = (
        (orders[key].line, _purchase_cells(orders[key].values, lines, purchase_columns,
                                           decimal_comma=decimal_comma,
                                           without_lines=not orders[key].rows))
        for key, lines in prepared.items())
    with transaction.atomic():
        result = run(purchase_columns, purchase_records, source=source,
                     skip_invalid=skip_invalid, errors_file=None,
                     dry_run=dry_run or refused, decimal_comma=decimal_comma, **options)
        if result.imported and not refused:
            refused_lines = {line for line, _email, _why in result.errors}
            lines_store(source, {key: lines for key, lines in prepared.items()
                                 if orders[key].line not in refused_lines}, store=store)
    by_line = {order.line: key for key, order in orders.items()}
    for line, email, reasons in result.errors:
        report.add(line, email, reasons)
    invalid = bad_rows + sum(weight(orders[by_line[line]])
                             for line, _email, _reasons in result.errors
                             if by_line.get(line) in prepared)
    return ImportResult(
        rows_read=rows_read, rows_valid=rows_read - invalid, rows_invalid=invalid,
        purchases_created=result.purchases_created,
        purchases_existing=result.purchases_existing, rows_duplicate=result.rows_duplicate,
        contacts_created=result.contacts_created, errors=sorted(report.kept),
        imported=result.imported and not refused, dry_run=dry_run)


def _order_lines(order: Order, *, decimal_comma: bool, report: ErrorReport,
                 lines_decimal_comma: bool, lines_file: str = "") -> PreparedLines | None:
    """The order's checked lines (None: refused, its rows reported)."""
    try:
        currency = normalise_currency(order.values.get("currency", ""))
    except ValidationError:
        currency = None  # the purchase's own check words it
    lines: list[LineIn] = []
    bad = False
    for line, row in order.rows:
        reasons: list[str] = []
        cells = {"sku": row.get("sku", ""), "name": row.get("product", ""),
                 "category": row.get("category", ""),
                 "quantity": row.get("quantity", "").strip() or "1",
                 "unit_price": row.get("unit_price", ""), "discount": row.get("discount", "")}
        if lines_decimal_comma:
            for key in ("quantity", "unit_price", "discount"):
                cells[key] = from_decimal_comma(cells[key], reasons) or ""
        if not reasons and currency is not None:
            try:
                lines.append(line_clean(cells, currency=currency, number=line))
            except ValidationError as error:
                reasons.extend(error.messages)
        if reasons:
            if lines_file:
                reasons = in_file(lines_file, line, reasons)
            report.add(line, row.get("email", "") or order.values.get("email", ""), reasons)
            bad = True
    if bad or currency is None:
        return None if bad else PreparedLines((), Decimal(0), 1)
    amount_text = order.values.get("amount", "").strip()
    if decimal_comma and amount_text:
        amount_text = from_decimal_comma(amount_text, []) or amount_text
    try:
        return lines_reconcile(lines, currency=currency, amount=amount_text or None)
    except ValidationError as error:
        report.add(order.line, order.values.get("email", ""), error.messages)
        order.bad = True
        return None


def in_file(name: str, line: int, reasons: list[str]) -> list[str]:
    """Reasons about a row of another file than the one the report's line numbers count."""
    return [_("%(file)s, line %(line)s: %(problem)s")
            % {"file": name, "line": line, "problem": reason} for reason in reasons]


def _purchase_cells(values: dict[str, str], lines: PreparedLines, columns: list[str], *,
                    decimal_comma: bool, without_lines: bool = False) -> list[str]:
    """The order as one row of the purchase import: its amount (as given, or the lines' sum)
    and its items (an order without lines: its own)."""
    amount = values.get("amount", "").strip()
    if not amount and lines.lines:
        amount = format(lines.amount, "f")
        if decimal_comma:
            amount = amount.replace(".", ",")
    row = {**values, "amount": amount,
           "quantity": values.get("quantity", "") if without_lines else str(lines.items)}
    return [row.get(column, "") for column in columns]


def lines_store(source: str, orders: dict[str, PreparedLines], *, store: str = "") -> int:
    """The lines of these orders' purchases (source, external_id) that have none yet, with the
    catalogue kept: a few statements per chunk of orders."""
    stored = 0
    book = RateBook()
    base = base_currency()
    keys = [key for key, lines in orders.items() if lines.lines]
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start:start + _CHUNK]
        purchases = list(Purchase.objects.filter(source=source, external_id__in=chunk)
                         .values_list("external_id", "pk", "currency", "purchased_on",
                                      "amount_base"))
        with_lines = set(PurchaseLine.objects.filter(
            purchase_id__in=[pk for _key, pk, *_rest in purchases])
            .values_list("purchase_id", flat=True).distinct())
        todo = [row for row in purchases if row[1] not in with_lines]
        product_ids = products_keep(store, lines_seen(
            line for key, *_rest in todo for line in orders[key].lines))
        rows: list[tuple] = []
        for key, pk, currency, day, amount_base in todo:
            in_base = currency == base
            rate = None if in_base or amount_base is None else book.rate_on(currency, day)
            rows += line_values(pk, orders[key].lines, product_ids, rate=rate, in_base=in_base)
        _lines_write(rows)
        stored += len(rows)
    return stored


def _lines_write(rows: list[tuple]) -> None:
    """New lines in one COPY on PostgreSQL (a third of a backfill's time went to building and
    inserting model instances), else bulk_create."""
    if connection.vendor != "postgresql":
        PurchaseLine.objects.bulk_create(line_instances(rows), batch_size=1000)
        return
    # Machine data for COPY: numbers and ids only; None (a provisional base amount) is
    # written as an unquoted empty field, which FORMAT csv reads as NULL.
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    sql = (f"COPY {PurchaseLine._meta.db_table} ({', '.join(LINE_FIELDS)}) "
           "FROM STDIN WITH (FORMAT csv)")
    with connection.cursor() as cursor:
        cursor.copy_expert(sql, buffer)

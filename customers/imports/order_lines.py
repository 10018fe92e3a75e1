"""Orders and their lines as two files: a shop that exports orders and order lines apart.

The orders file has the purchase import's columns (email, purchased_at, currency, external_id
required; amount, names, channel, quantity, code optional), one row per order. The lines file
has one row per order line: external_id (or order_id) naming its order, sku and/or product,
category, quantity, unit_price, discount. Each file may be a spreadsheet's own (semicolons and
decimal commas, told by its header), and each is read with the same limits as any import
(columns, line length); a file refused as a whole is named.

The lines join their order by external_id, and then the rules are those of a file with
products (customers.imports.purchase_lines, which this module hands the grouped orders to):
the same line checks, the same reconciliation with the order's amount (reported on the
order's line), the same merge. Here only what two files add:
- an order's external_id is required and given once in the orders file;
- a line whose order is not in the orders file is an error on its line of the lines file;
- an order has at most customers.services.lines.MAX_LINES lines (an error on the first line
  past it);
- an order without lines is a purchase without lines (its amount is then required).
Errors about the lines file name it and its line number; the report's line numbers are the
orders file's for everything else. Each order counts as one row; a stray line as one more.
"""
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO, TextIO

from django.utils.translation import gettext as _

from ..services.lines import MAX_LINES
from .purchase_lines import LINE_COLUMNS, Order, in_file, orders_import, rows_keyed
from .reading import ErrorReport, ImportRefused, csv_records, header_columns

ID_COLUMNS = ("external_id", "order_id")
LINE_FILE_COLUMNS = (*ID_COLUMNS, *LINE_COLUMNS, "quantity")


def lines_file_columns(header: list[str], *, name: str) -> list[str]:
    """The lines file's column names (external_id or order_id, then a line's columns)."""
    try:
        columns = header_columns(header, required=["unit_price"], allowed=LINE_FILE_COLUMNS)
    except ImportRefused as error:
        raise ImportRefused(_("%(file)s: %(problem)s") % {"file": name, "problem": error}
                            ) from None
    ids = [column for column in columns if column in ID_COLUMNS]
    if len(ids) != 1 or not {"sku", "product"} & set(columns):
        raise ImportRefused(
            _("%(file)s: the lines file needs one column naming the order (external_id or "
              "order_id) and a sku or product column. Nothing was imported.")
            % {"file": name})
    return ["external_id" if column in ID_COLUMNS else column for column in columns]


def _named(records: Iterator[tuple[int, list[str]]], name: str,
           ) -> Iterator[tuple[int, list[str]]]:
    """The lines file's records; a refusal of the file as a whole names the file."""
    try:
        yield from records
    except ImportRefused as error:
        raise ImportRefused(_("%(file)s: %(problem)s") % {"file": name, "problem": error}
                            ) from None


def orders_lines_import(columns: list[str], records: Iterable[tuple[int, list[str]]],
                        lines_stream: TextIO | BinaryIO, *, lines_name: str,
                        run: Callable[..., Any], errors_file, skip_invalid: bool,
                        dry_run: bool, decimal_comma: bool = False, **options: Any):
    """Read the orders (`columns`, `records`: the orders file after its header) and the lines
    file, join them, and import them as a file with products would be."""
    report = ErrorReport(errors_file)
    orders: dict[str, Order] = {}
    order_rows = list(rows_keyed(columns, records))
    rows_read = len(order_rows)
    for line, row, external_id in order_rows:
        first = orders.get(external_id)
        if external_id and first is None:
            orders[external_id] = Order(line, row)
            continue
        report.add(line, row.get("email", ""), [
            _("Order %(order)s is given twice in the orders file (first on line %(line)s).")
            % {"order": external_id[:40], "line": first.line} if first is not None else
            _("An order needs its external_id: its lines in the lines file name it.")])
        if first is not None:
            first.bad = True

    try:
        lines_records, layout = csv_records(lines_stream)
        first = next(lines_records, None)
    except ImportRefused as error:
        raise ImportRefused(_("%(file)s: %(problem)s") % {"file": lines_name, "problem": error}
                            ) from None
    if first is None:
        raise ImportRefused(_("%(file)s: the lines file is empty: its first line must name "
                              "the columns. Nothing was imported.") % {"file": lines_name})
    line_columns = lines_file_columns(first[1], name=lines_name)
    for line, row, external_id in rows_keyed(line_columns, _named(lines_records, lines_name)):
        order = orders.get(external_id)
        if order is None:
            rows_read += 1
            report.add(line, "", in_file(lines_name, line, [
                _("order %(order)s is not in the orders file.") % {"order": external_id[:40]}
                if external_id else _("the line does not name its order.")]))
        elif len(order.rows) == MAX_LINES:
            if not order.bad:
                report.add(line, order.values.get("email", ""), in_file(lines_name, line, [
                    _("order %(order)s has more than %(max)s lines.")
                    % {"order": external_id[:40], "max": MAX_LINES}]))
            order.bad = True
        else:
            order.rows.append((line, row))
    return orders_import(columns, orders, rows_read=rows_read, report=report, run=run,
                         skip_invalid=skip_invalid, dry_run=dry_run,
                         decimal_comma=decimal_comma, lines_decimal_comma=layout.decimal_comma,
                         lines_file=lines_name, rows_per_order=False, **options)

"""Helpers shared by the apps' admins: counting that stays fast on big tables, CSV export.

Django's changelist counts rows with COUNT(*) on every page view; on PostgreSQL that reads the
whole table (no visibility map shortcut for a plain count), which takes seconds at millions of
rows. EstimatedCountPaginator asks the planner's statistics instead when nothing is filtered.
"""
import datetime as dt
import functools
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import babel
import babel.numbers
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Max, Min, Model, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .csv_safe import SafeLocalisedCSVWriter

# Rows fetched per database round trip while streaming an export.
EXPORT_CHUNK_SIZE = 2000
# Rows written per chunk of the HTTP response: fewer, larger writes than one per row.
_ROWS_PER_WRITE = 500
BOM = "\ufeff"


# --- Counting -------------------------------------------------------------------------------

def estimated_row_count(model: type[Model], *, using: str = "default") -> int | None:
    """The planner's row estimate for the model's table (PostgreSQL), or None if unknown.

    pg_class.reltuples is refreshed by VACUUM, ANALYZE and autovacuum; it is -1 for a table
    never analysed (PostgreSQL 14+), which we treat as unknown.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(model._meta.db_table)],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


def _is_unfiltered(queryset: QuerySet) -> bool:
    query = queryset.query
    return not (query.where or query.distinct or query.combinator or query.is_sliced)


class EstimatedCountPaginator(Paginator):
    """A paginator whose count never scans a big table.

    Unfiltered on PostgreSQL, with at least `estimate_threshold` rows estimated: the planner's
    estimate (exact enough for page links; the last page may come out short or empty).
    Otherwise a real count, capped at `count_cap` rows, so a broad filter on a huge table costs
    at most that many index or heap rows. Past the cap, pages are not offered: narrow the
    filter (actions with "select all" and CSV export still see every matching row).
    """

    estimate_threshold = 10_000
    count_cap = 100_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        if _is_unfiltered(queryset):
            estimate = estimated_row_count(queryset.model, using=queryset.db)
            if estimate is not None and estimate >= self.estimate_threshold:
                return estimate
        # COUNT(*) over a LIMITed subquery: stops after count_cap rows.
        return queryset.order_by()[: self.count_cap].count()


class FastCountAdminMixin:
    """Admin options that keep a changelist on a big table at a handful of cheap queries."""

    paginator = EstimatedCountPaginator
    # Otherwise a filtered page also runs COUNT(*) over the whole table for "N total".
    show_full_result_count = False


class ProbingDatesQuerySet(QuerySet):
    """datetimes() by year or month answered with one index probe per period.

    The admin's date hierarchy lists the years (or a year's months) that have rows with
    SELECT DISTINCT DATE_TRUNC(...), which reads every row: 0.7 s at 2 million purchases.
    Probing each candidate period between the first and last row with EXISTS uses the
    column's index instead. Mixed into the changelist's queryset only.
    """

    max_probes = 400

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if kind not in ("year", "month") or order != "ASC" or tzinfo is not None:
            return super().datetimes(field_name, kind, order, tzinfo)
        bounds = self.aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        zone = timezone.get_current_timezone()
        starts = _period_starts(timezone.localtime(bounds["first"], zone),
                                timezone.localtime(bounds["last"], zone), kind, zone)
        if len(starts) > self.max_probes:
            return super().datetimes(field_name, kind, order, tzinfo)
        return [
            start for start, end in itertools.pairwise(starts)
            if self.filter(**{f"{field_name}__gte": start, f"{field_name}__lt": end}).exists()
        ]


def _period_starts(first: dt.datetime, last: dt.datetime, kind: str, zone) -> list[dt.datetime]:
    """Starts of each year or month from `first`'s to the one after `last`'s, in `zone`."""
    if kind == "year":
        return [dt.datetime(year, 1, 1, tzinfo=zone) for year in range(first.year, last.year + 2)]
    months = range(first.year * 12 + first.month - 1, last.year * 12 + last.month + 1)
    return [dt.datetime(m // 12, m % 12 + 1, 1, tzinfo=zone) for m in months]


@functools.cache
def _probing_class(base: type[QuerySet]) -> type[QuerySet]:
    return type(f"Probing{base.__name__}", (ProbingDatesQuerySet, base), {})


def with_probing_dates(queryset: QuerySet) -> QuerySet:
    """The same query, as a class that keeps the model's own queryset methods."""
    queryset = queryset.all()
    if not isinstance(queryset, ProbingDatesQuerySet):
        queryset.__class__ = _probing_class(type(queryset))
    return queryset


class FastDateHierarchyMixin:
    """For a ModelAdmin with date_hierarchy on an indexed column of a big table."""

    def get_queryset(self, request):
        return with_probing_dates(super().get_queryset(request))


def cached_values_filter(
    field_name: str, title: str, *, timeout: int = 300, limit: int = 100
) -> type[admin.SimpleListFilter]:
    """A list filter offering a column's distinct values, looked up at most every `timeout`s.

    The default AllValuesFieldListFilter runs SELECT DISTINCT over the whole table on every
    changelist view; for a column with a few values (source, say) a short cache is plenty.
    """

    class CachedValuesFilter(admin.SimpleListFilter):
        parameter_name = field_name

        def lookups(self, request, model_admin):
            model = model_admin.model
            key = f"crm:admin-filter:{model._meta.label_lower}:{field_name}"
            values = cache.get(key)
            if values is None:
                values = list(
                    model._default_manager.order_by(field_name)
                    .values_list(field_name, flat=True).distinct()[:limit]
                )
                cache.set(key, values, timeout)
            return [(value, value) for value in values if value not in (None, "")]

        def queryset(self, request, queryset):
            if self.value() is None:
                return queryset
            return queryset.filter(**{field_name: self.value()})

    CachedValuesFilter.title = title
    CachedValuesFilter.__name__ = f"{field_name.title().replace('_', '')}CachedValuesFilter"
    return CachedValuesFilter


# --- CSV export -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CSVColumn:
    """One exported column: a header, a values_list() path, and an optional formatter."""

    header: str
    path: str
    format: Callable[[Any], object] | None = None


class _Echo:
    """A file-like object that hands back what a CSV writer writes, for streaming."""

    def write(self, value: str) -> str:
        return value


@dataclass(frozen=True)
class CSVNumberFormat:
    """How numbers and fields are separated in a CSV file meant for a spreadsheet."""

    delimiter: str = ","
    decimal: str = "."


MACHINE_CSV = CSVNumberFormat()


def csv_format_for_language(language: str | None = None) -> CSVNumberFormat:
    """The format a spreadsheet opened in `language` (default: the active one) reads as numbers.

    Spreadsheets parse CSV with the reader's locale: where the decimal separator is a comma
    (Turkish, German, French...), "12.50" is text and the list separator is a semicolon.
    """
    locale = babel.Locale.parse(translation.to_locale(
        language or translation.get_language() or settings.LANGUAGE_CODE))
    decimal = babel.numbers.get_decimal_symbol(locale)
    return CSVNumberFormat(delimiter=";" if decimal == "," else ",", decimal=decimal)


def csv_lines(header: Sequence[object], rows: Iterable[Sequence[object]],
              number_format: CSVNumberFormat = MACHINE_CSV) -> Iterator[str]:
    """UTF-8 BOM (so Excel detects the encoding), then safe CSV rows in batches."""
    writer = SafeLocalisedCSVWriter(_Echo(), delimiter=number_format.delimiter,
                                    decimal=number_format.decimal)
    yield BOM + writer.writerow(header)
    batch: list[str] = []
    for row in rows:
        batch.append(writer.writerow(row))
        if len(batch) >= _ROWS_PER_WRITE:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def csv_response(
    *, filename: str, header: Sequence[object], rows: Iterable[Sequence[object]],
    number_format: CSVNumberFormat | None = None,
) -> StreamingHttpResponse:
    """A download for people: numbers as the reader's spreadsheet expects them (their
    language) unless `number_format` says otherwise."""
    number_format = number_format or csv_format_for_language()
    response = StreamingHttpResponse(
        csv_lines(header, rows, number_format), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def local_datetime(value: dt.datetime | None) -> str:
    """A moment as the shop's wall time (TIME_ZONE), in a form spreadsheets read as a date.

    The shop's zone, not the viewer's, so two managers export the same file.
    """
    if value is None:
        return ""
    return value.astimezone(timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M:%S")


class CSVExportMixin:
    """Adds an "Export to CSV" action: the selected rows, or every row the filters match.

    Subclasses list `csv_columns` (CSVColumn). Rows are read with values_list(), a chunk at a
    time: ten times faster than building model objects, and memory stays flat whatever the
    size. Nothing is written anywhere: the export only reads, so the view permission is enough.
    """

    csv_columns: Sequence[CSVColumn] = ()
    csv_filename_prefix = "export"

    @admin.action(description=_("Export selected to CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> StreamingHttpResponse:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return csv_response(
            filename=f"{self.csv_filename_prefix}-{stamp}.csv",
            header=[str(column.header) for column in self.csv_columns],
            rows=csv_rows(queryset, self.csv_columns),
        )


def csv_rows(queryset: QuerySet, columns: Sequence[CSVColumn]) -> Iterator[list[object]]:
    formatters = [(i, column.format) for i, column in enumerate(columns) if column.format]
    values = queryset.values_list(*(column.path for column in columns))
    for record in values.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        row = list(record)
        for i, format_value in formatters:
            row[i] = format_value(row[i])
        yield row


class ReadOnlyAdminMixin:
    """For records the system keeps (runs, deliveries, ledgers, logs): staff look, nobody adds
    or edits them in the admin; the services write them. Deleting is a separate decision:
    `deletable = False` for ledgers that must stay whole (the privacy log, consent records,
    purchases shown inline)."""

    deletable = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.deletable and super().has_delete_permission(request, obj)

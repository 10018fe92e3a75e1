"""The purchase import's staging table: valid rows are written to a temporary table in
batches (COPY on PostgreSQL), where repeated external ids and duplicate rows are found with a
query or two before the merge (customers.imports.purchase_merge)."""
import csv
import io
from collections.abc import Callable, Iterable

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.utils.translation import gettext as _

from .purchase_rows import RowChecker, StagedRow
from .reading import ErrorReport

BATCH_ROWS = 10_000

_STAGING_COLUMNS = StagedRow._fields
_STAGING_DDL = """
    CREATE TEMPORARY TABLE crm_import_staging (
        line integer NOT NULL{line_key}, email text NOT NULL, first_name text NOT NULL,
        last_name text NOT NULL, external_id text NOT NULL, derived smallint NOT NULL,
        purchased_at {timestamp} NOT NULL, purchased_on date NOT NULL,
        amount {decimal} NOT NULL, currency text NOT NULL, amount_base {decimal},
        quantity integer NOT NULL, channel text NOT NULL, channel_label text NOT NULL,
        code text NOT NULL
    )"""
_TEMP_TABLES = ("crm_import_staging", "crm_import_contacts", "crm_import_affected",
                "crm_import_coded")


class Staging:
    """The temporary table where valid rows wait for the merge."""

    def __init__(self, cursor: CursorWrapper) -> None:
        self.cursor = cursor
        self.postgres = connection.vendor == "postgresql"

    def create(self) -> None:
        self.drop()
        # SQLite joins by line need the key; PostgreSQL hash-joins and loads faster without.
        types = ({"timestamp": "timestamptz", "decimal": "numeric", "line_key": ""}
                 if self.postgres else
                 {"timestamp": "datetime", "decimal": "decimal", "line_key": " PRIMARY KEY"})
        self.cursor.execute(_STAGING_DDL.format(**types))

    def add(self, rows: list[StagedRow]) -> None:
        if not rows:
            return
        if self.postgres:
            self._copy(rows)
        else:
            placeholders = ", ".join(["%s"] * len(_STAGING_COLUMNS))
            self.cursor.executemany(
                f"INSERT INTO crm_import_staging VALUES ({placeholders})", rows)

    def _copy(self, rows: list[StagedRow]) -> None:
        # Machine data for PostgreSQL's COPY, never opened by people: plain csv.writer, as an
        # escaping apostrophe would be stored in the values.
        buffer = io.StringIO()
        csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
        buffer.seek(0)
        sql = (f"COPY crm_import_staging ({', '.join(_STAGING_COLUMNS)}) "
               "FROM STDIN WITH (FORMAT csv, FORCE_NULL (amount_base))")  # "" is NULL: provisional
        if hasattr(self.cursor, "copy_expert"):  # psycopg2
            self.cursor.copy_expert(sql, buffer)
        else:  # psycopg 3
            with self.cursor.copy(sql) as copy:
                copy.write(buffer.getvalue())

    def analyze(self) -> None:
        """Statistics for the plans of the statements over the staged rows, as soon as they
        are all in (PostgreSQL never analyses temporary tables itself): the columns those
        statements join, group and filter on only, a third of the cost of all fifteen."""
        if self.postgres:
            self.cursor.execute("ANALYZE crm_import_staging (line, email, external_id, derived)")

    def drop(self) -> None:
        for table in _TEMP_TABLES:
            self.cursor.execute(f"DROP TABLE IF EXISTS {table}")


def stage_rows(records: Iterable[tuple[int, list[str]]], checker: RowChecker, staging: Staging,
               report: ErrorReport, progress: Callable[[int], None] | None) -> int:
    """Check every row; stage the valid ones in batches. Returns the number of rows read."""
    read = 0
    batch: list[StagedRow] = []
    for line, values in records:
        if not any(values):
            continue  # blank lines and rows of empty cells (spreadsheet leftovers)
        read += 1
        outcome = checker.check(line, values)
        if outcome.__class__ is StagedRow:  # the fastest test, once per row (else: reasons)
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


def report_repeated_ids(cursor: CursorWrapper, report: ErrorReport) -> int:
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


def count_duplicate_rows(cursor: CursorWrapper) -> int:
    """Rows without external_id repeating an earlier row: they add no purchase."""
    cursor.execute("SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n "
                   "FROM crm_import_staging WHERE derived = 1 GROUP BY external_id "
                   "HAVING COUNT(*) > 1) repeated")
    return int(cursor.fetchone()[0])


def count_labels(cursor: CursorWrapper, labels: set[str]) -> dict[str, int]:
    """How many staged rows carry each of these channel labels (a few: the unmapped ones)."""
    if not labels:
        return {}
    chosen = sorted(labels)
    cursor.execute("SELECT channel_label, COUNT(*) FROM crm_import_staging WHERE channel_label "
                   f"IN ({', '.join(['%s'] * len(chosen))}) GROUP BY channel_label", chosen)
    return {label: int(count) for label, count in cursor.fetchall()}

"""Benchmark data: load N contacts with M purchases into PostgreSQL fast, or write an import CSV.

    python bench/generate.py --contacts 1000000 --purchases 10000000 [--truncate] [--seed 1]
    python bench/generate.py --csv out.csv --rows 1000000

The shape is that of a real shop: a share of prospects who never bought, many one-time buyers
and a long tail of repeat clients (purchase days per buyer = 1 + negative binomial, a
gamma-mixed geometric as in BG/NBD), log-normal amounts, purchases spread over two years
ending today at shop-local opening hours. Per-contact counts come from numpy; the rows are
generated inside PostgreSQL (SELECT over generate_series), which is far faster than sending
them. Each new contact's derived figures are computed set-based from its purchases (one
GROUP BY per slice) as it is inserted, so the database passes
`manage.py rederive_contact_stats --check`.

Benchmark tool only: refuses to run on anything but PostgreSQL; --truncate empties the
contacts and purchases tables (and, by CASCADE, every row that references them). While
loading, the two tables' plain indexes and foreign keys are dropped and rebuilt at the end,
all in one transaction.
"""
import argparse
import csv
import datetime as dt
import io
import os
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

SPAN_DAYS = 730
PROSPECT_SHARE = 0.1
# Negative binomial shape for extra purchase days: small r = heavy tail, many one-timers.
NBD_SHAPE = 0.35
CHANNELS = ["online"] * 14 + ["store"] * 4 + ["phone", "marketplace"]
FIRST_NAMES = ["Ayşe", "Mehmet", "Ann", "John", "Elif", "Can", "Maria", "Ali", "Zeynep", "Emre",
               "Lena", "Omar", "Sofia", "Deniz", "Paul", "Selin"]
LAST_NAMES = ["Yılmaz", "Kaya", "Smith", "Demir", "Müller", "Şahin", "Garcia", "Öztürk", "Brown",
              "Çelik", "Rossi", "Aydın"]
SLICE = 250_000  # contacts per statement: bounded memory in numpy and in PostgreSQL


def setup_django() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.local")
    import django

    django.setup()


def purchase_days(rng: np.random.Generator, buyers: int, total: int) -> np.ndarray:
    """Purchases per buyer: 1 + NBD with the right mean, nudged so the sum is exactly total."""
    if buyers == 0:
        return np.zeros(0, dtype=np.int64)
    extra_mean = max(total / buyers - 1, 1e-9)
    counts = 1 + rng.negative_binomial(NBD_SHAPE, NBD_SHAPE / (NBD_SHAPE + extra_mean), buyers)
    while (gap := int(total - counts.sum())) != 0:
        if gap > 0:
            np.add.at(counts, rng.integers(0, buyers, gap), 1)
        else:
            repeaters = np.flatnonzero(counts > 1)
            take = rng.choice(repeaters, min(-gap, len(repeaters)), replace=False)
            counts[take] -= 1
    return counts


def _copy_text(*columns: np.ndarray) -> io.StringIO:
    """Integer columns as COPY text: tab-separated, one row a line."""
    rows = zip(*(column.tolist() for column in columns))
    buffer = io.StringIO("".join("\t".join(map(str, row)) + "\n" for row in rows))
    return buffer


# --- Loading PostgreSQL ---------------------------------------------------------------------

# A slice's purchases, generated into a temporary table first so the contacts' figures can be
# computed from them before either is written. Purchase day 1 is the first; the others fall
# uniformly between it and today, 08:00-22:00 shop time (AT TIME ZONE makes the instant exact,
# daylight saving included). Amounts are log-normal (Box-Muller): median about 37.
_SLICE_PURCHASES_SQL = """
    CREATE TEMPORARY TABLE bench_purchases AS
    SELECT p.id AS contact_id,
           (d.day + make_interval(secs => 28800 + floor(random() * 50400)))
               AT TIME ZONE %(tz)s AS purchased_at,
           d.day AS purchased_on, d.amount, 1 + floor(-ln(1 - random()) * 0.7)::int AS quantity,
           (%(channels)s::text[])[1 + floor(random() * array_length(%(channels)s::text[], 1))]
               AS channel
    FROM bench_plan p
    CROSS JOIN LATERAL (
        SELECT CASE WHEN g = 1 THEN %(today)s::date - p.first_day
                    ELSE %(today)s::date - floor(random() * (p.first_day + 1))::int END AS day,
               round(exp(3.6 + 0.9 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
                     ::numeric, 2) AS amount
        FROM generate_series(1, p.purchases) g) d"""

# New contacts with their figures computed set-based from their purchases, exactly as
# customers.stats defines them (purchase days, first/last purchase, total in base currency).
_CONTACTS_SQL = """
    INSERT INTO {contact} (id, email, first_name, last_name, phone, marketing_consent,
                           consent_source, created_at, updated_at, purchase_count,
                           first_purchase_at, last_purchase_at, total_spent)
    SELECT p.id, 'c' || p.id || '@bench.example.com',
           (%(first)s::text[])[1 + (p.id %% array_length(%(first)s::text[], 1))],
           (%(last)s::text[])[1 + ((p.id / 7) %% array_length(%(last)s::text[], 1))],
           '', random() < 0.6, '', now() - make_interval(days => p.first_day + 1), now(),
           COALESCE(s.days, 0), s.first_at, s.last_at, COALESCE(s.total, 0)
    FROM bench_plan p
    LEFT JOIN (SELECT contact_id, COUNT(DISTINCT purchased_on) AS days,
                      MIN(purchased_at) AS first_at, MAX(purchased_at) AS last_at,
                      SUM(amount) AS total
               FROM bench_purchases GROUP BY contact_id) s ON s.contact_id = p.id
    ORDER BY p.id"""

_PURCHASES_SQL = """
    INSERT INTO {purchase} (contact_id, purchased_at, purchased_on, amount, currency,
                            amount_base, quantity, channel, source, external_id, code,
                            created_at)
    SELECT contact_id, purchased_at, purchased_on, amount, %(currency)s, amount, quantity,
           channel, 'bench', NULL, '', now()
    FROM bench_purchases"""


def load(*, contacts: int, purchases: int, truncate: bool, seed: int, log=print) -> None:
    """Add contacts and purchases in one transaction (nothing is left half-loaded)."""
    from django.conf import settings
    from django.db import connection, transaction

    from customers.models import Contact, Purchase

    tables = {"contact": Contact._meta.db_table, "purchase": Purchase._meta.db_table}
    rng = np.random.default_rng(seed)
    buyers = int(round(contacts * (1 - PROSPECT_SHARE))) if purchases else 0
    plan = np.zeros(contacts, dtype=np.int64)
    plan[rng.permutation(contacts)[:buyers]] = purchase_days(rng, buyers, purchases)
    first_day = rng.integers(0, SPAN_DAYS, contacts)
    params = {"first": FIRST_NAMES, "last": LAST_NAMES, "channels": CHANNELS,
              "tz": settings.TIME_ZONE, "currency": settings.CRM_BASE_CURRENCY,
              "today": dt.datetime.now(ZoneInfo(settings.TIME_ZONE)).date()}
    with transaction.atomic(), connection.cursor() as cursor:
        if truncate:
            cursor.execute(f"TRUNCATE {tables['purchase']}, {tables['contact']} CASCADE")
            log("truncated contacts and purchases")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {tables['contact']}")
        base = cursor.fetchone()[0]
        # Building indexes and checking the foreign key once at the end is several times
        # faster than maintaining them row by row; DDL is transactional, so a failure
        # restores them.
        restore = _drop_secondary_indexes(cursor, tables.values())
        for table in tables.values():
            restore += _drop_foreign_keys(cursor, table)
        cursor.execute("CREATE TEMPORARY TABLE bench_plan "
                       "(id bigint PRIMARY KEY, purchases integer, first_day integer)")
        for start in range(0, contacts, SLICE):
            stop = min(start + SLICE, contacts)
            started = time.perf_counter()
            cursor.copy_expert("COPY bench_plan FROM STDIN", _copy_text(
                np.arange(base + start + 1, base + stop + 1), plan[start:stop],
                first_day[start:stop]))
            cursor.execute(_SLICE_PURCHASES_SQL, params)
            cursor.execute(_CONTACTS_SQL.format(**tables), params)
            cursor.execute(_PURCHASES_SQL.format(**tables), params)
            cursor.execute("DROP TABLE bench_purchases")
            cursor.execute("TRUNCATE bench_plan")
            log(f"contacts {start + 1:,}-{stop:,}: {int(plan[start:stop].sum()):,} purchases "
                f"in {time.perf_counter() - started:.1f}s")
        cursor.execute("DROP TABLE bench_plan")
        started = time.perf_counter()
        for statement in restore:
            cursor.execute(statement)
        log(f"indexes and foreign keys rebuilt in {time.perf_counter() - started:.1f}s")
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{tables['contact']}', 'id'), "
                       f"(SELECT GREATEST(MAX(id), 1) FROM {tables['contact']}))")
    with connection.cursor() as cursor:
        started = time.perf_counter()
        for table in tables.values():
            cursor.execute(f"VACUUM ANALYZE {table}")  # visibility map and planner statistics
        log(f"vacuum analyze in {time.perf_counter() - started:.1f}s")


def _drop_secondary_indexes(cursor, tables) -> list[str]:
    """Drop the plain (non-unique) indexes of these tables; return the statements to rebuild."""
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes "
                   "WHERE schemaname = current_schema() AND tablename = ANY(%s) "
                   "AND indexdef NOT LIKE 'CREATE UNIQUE %%'", [list(tables)])
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


def _drop_foreign_keys(cursor, table: str) -> list[str]:
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = %s::regclass AND contype = 'f'", [table])
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
            for name, definition in found]


# --- Import CSV -----------------------------------------------------------------------------

def write_import_csv(path: Path | str, *, rows: int, seed: int = 1,
                     derived_share: float = 0.1, email_prefix: str = "buyer") -> None:
    """An export-like purchases CSV: chronological, repeat buyers, most rows with an order id.

    derived_share of the rows have no external_id (the importer derives one). Times are a mix
    of date-times with offset (UTC and +03:00) and plain dates.
    """
    rng = np.random.default_rng(seed)
    customers = max(rows // 3, 1)
    counts = purchase_days(rng, customers, rows)
    who = np.repeat(np.arange(customers), counts)
    now = int(time.time())
    start = now - SPAN_DAYS * 86400
    when = np.sort(rng.integers(start, now - 3600, rows))
    who = who[rng.permutation(rows)]
    amounts = np.round(np.exp(rng.normal(3.6, 0.9, rows)), 2)
    channels = rng.choice(CHANNELS, rows)
    styles = rng.integers(0, 10, rows)  # 0: date only, 1-3: +03:00, else UTC
    derived = rng.random(rows) < derived_share
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["email", "purchased_at", "amount", "currency", "external_id",
                         "first_name", "last_name", "channel"])
        for i in range(rows):
            customer = int(who[i])
            writer.writerow([
                f"{email_prefix}{customer}@example.com", _when_text(int(when[i]), int(styles[i])),
                f"{amounts[i]:.2f}", "USD", "" if derived[i] else f"ord-{i + 1}",
                FIRST_NAMES[customer % len(FIRST_NAMES)], LAST_NAMES[customer % len(LAST_NAMES)],
                channels[i],
            ])


_PLUS3 = dt.timezone(dt.timedelta(hours=3))


def _when_text(epoch: int, style: int) -> str:
    moment = dt.datetime.fromtimestamp(epoch, dt.timezone.utc)
    if style == 0:
        return moment.date().isoformat()
    if style <= 3:
        return moment.astimezone(_PLUS3).isoformat()
    return moment.isoformat()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=0)
    parser.add_argument("--purchases", type=int, default=0)
    parser.add_argument("--truncate", action="store_true",
                        help="empty the contacts and purchases tables first")
    parser.add_argument("--csv", type=Path, help="write an import CSV to this path instead")
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the --csv file")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.csv:
        started = time.perf_counter()
        write_import_csv(args.csv, rows=args.rows, seed=args.seed)
        print(f"wrote {args.rows:,} rows to {args.csv} in {time.perf_counter() - started:.1f}s")
        return
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/generate.py loads PostgreSQL only: set DATABASE_URL=postgres://...")
    if args.purchases and not args.contacts:
        sys.exit("--purchases needs --contacts")
    started = time.perf_counter()
    load(contacts=args.contacts, purchases=args.purchases, truncate=args.truncate,
         seed=args.seed)
    print(f"loaded {args.contacts:,} contacts and {args.purchases:,} purchases "
          f"in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()

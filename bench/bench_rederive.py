"""The nightly consistency check (`customers.rederive_stats`) at scale, on PostgreSQL.

    DATABASE_URL=postgres://... python bench/bench_rederive.py [--contacts 1000000] [--drift 1000]

Loads the data if the tables do not hold it (bench.generate, 10 purchases per contact), then
times `contacts_rederive_stats`: once with every figure right (the usual night), once after
spoiling `--drift` contacts' figures, checking that exactly those are found and repaired.
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_import import machine  # noqa: E402
from bench.bench_scoring_job import ensure_data  # noqa: E402
from bench.generate import setup_django  # noqa: E402


def timed_rederive() -> tuple[float, object]:
    from customers.services import contacts_rederive_stats

    started = time.perf_counter()
    report = contacts_rederive_stats(fix=True)
    return time.perf_counter() - started, report


def spoil(count: int) -> list[int]:
    """Wrong figures on `count` contacts spread over the table, as a bug or a hand edit would."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM customers_contact WHERE purchase_count > 0 "
                       "ORDER BY md5(id::text) LIMIT %s", [count])
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("UPDATE customers_contact SET total_spent = total_spent + 1 "
                       "WHERE id = ANY(%s)", [ids])
    return ids


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--drift", type=int, default=1000)
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench_rederive.py measures PostgreSQL only: set DATABASE_URL=postgres://...")
    ensure_data(args.contacts, args.contacts * 10)
    print(machine())
    problems = []
    seconds, report = timed_rederive()
    print(f"every figure right: {seconds:.1f} s for {report.checked:,} contacts, "
          f"{report.drifted} drifted")
    if report.drifted:
        problems.append(f"{report.drifted} contacts drifted before the test spoiled any")
    spoiled = spoil(args.drift)
    seconds, report = timed_rederive()
    print(f"{len(spoiled):,} spoiled: {seconds:.1f} s, {report.drifted:,} found and repaired")
    if report.drifted != len(spoiled):
        problems.append(f"found {report.drifted} of {len(spoiled)} spoiled contacts")
    _seconds, report = timed_rederive()
    if report.drifted:
        problems.append(f"{report.drifted} still drifted after the repair")
    if problems:
        sys.exit("; ".join(problems))


if __name__ == "__main__":
    main()

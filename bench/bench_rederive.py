"""The nightly consistency check (`customers.rederive_stats`) at scale, on PostgreSQL.

    DATABASE_URL=postgres://... python bench/bench_rederive.py [--contacts 1000000] [--drift 1000]

Loads the data if the tables do not hold it (bench.generate, 10 purchases per contact), then
times `contacts_rederive_stats`: once with every figure right (the usual night), once after
spoiling `--drift` contacts' figures, checking that exactly those are found and repaired.
Same-run baseline, timed the same way (wall time, and the CPU of this process's own PostgreSQL
backend, bench/cpu.py): one plain SQL aggregate recomputing every contact's figures from the
same purchases, compared with the stored ones (what the check amounts to, in one statement);
each line carries its ratio to it.
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_import import machine
from bench.bench_scoring_job import ensure_data
from bench.cpu import ratio, tag_this_process, timed
from bench.generate import setup_django


def timed_rederive() -> tuple[float, float | None, object]:
    from customers.services.consistency import contacts_rederive_stats

    return timed(lambda: contacts_rederive_stats(fix=True))


# The baseline: every contact's figures (customers.stats.stat_expressions: purchase days,
# first and last purchase, net spend; refunded purchases do not count) from its purchases,
# compared with the stored ones, in one statement.
AGGREGATE = """
SELECT count(*) FROM customers_contact AS c
LEFT JOIN (SELECT contact_id, count(DISTINCT purchased_on) AS n,
                  sum(amount_base - refunded_amount_base) AS spent,
                  min(purchased_at) AS first_at, max(purchased_at) AS last_at
           FROM customers_purchase WHERE refunded_at IS NULL
           GROUP BY contact_id) AS p ON p.contact_id = c.id
WHERE c.purchase_count IS DISTINCT FROM coalesce(p.n, 0)
   OR c.total_spent IS DISTINCT FROM coalesce(p.spent, 0)
   OR c.first_purchase_at IS DISTINCT FROM p.first_at
   OR c.last_purchase_at IS DISTINCT FROM p.last_at
"""


def timed_aggregate() -> tuple[float, float | None, int]:
    from django.db import connection

    def run() -> int:
        with connection.cursor() as cursor:
            cursor.execute(AGGREGATE)
            return cursor.fetchone()[0]

    return timed(run)


def _cpu(seconds: float | None) -> str:
    return "not measured" if seconds is None else f"{seconds:.1f} s"


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
    tag_this_process()
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench_rederive.py measures PostgreSQL only: set DATABASE_URL=postgres://...")
    ensure_data(args.contacts, args.contacts * 10)
    print(machine())
    problems = []
    timed_aggregate()  # warm the cache for both, as the first rederive would
    base_seconds, base_cpu, differing = timed_aggregate()
    print(f"plain SQL aggregate (baseline): {base_seconds:.1f} s, database CPU "
          f"{_cpu(base_cpu)}, {differing:,} contacts differ")
    if differing:
        problems.append(f"the plain aggregate finds {differing} contacts drifted")
    seconds, cpu, report = timed_rederive()
    print(f"every figure right: {seconds:.1f} s ({ratio(seconds, base_seconds)} the aggregate), "
          f"database CPU {_cpu(cpu)} ({ratio(cpu, base_cpu)}), for {report.checked:,} "
          f"contacts, {report.drifted} drifted")
    if report.drifted:
        problems.append(f"{report.drifted} contacts drifted before the test spoiled any")
    spoiled = spoil(args.drift)
    seconds, cpu, report = timed_rederive()
    print(f"{len(spoiled):,} spoiled: {seconds:.1f} s ({ratio(seconds, base_seconds)} the "
          f"aggregate), database CPU {_cpu(cpu)} ({ratio(cpu, base_cpu)}), {report.drifted:,} "
          "found and repaired")
    if report.drifted != len(spoiled):
        problems.append(f"found {report.drifted} of {len(spoiled)} spoiled contacts")
    _seconds, _cpu_seconds, report = timed_rederive()
    if report.drifted:
        problems.append(f"{report.drifted} still drifted after the repair")
    if problems:
        sys.exit("; ".join(problems))


if __name__ == "__main__":
    main()

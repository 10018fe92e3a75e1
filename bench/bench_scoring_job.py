"""The whole nightly scoring run on PostgreSQL: `manage.py score_contacts` on N contacts.

    DATABASE_URL=postgres://... python bench/bench_scoring_job.py [--contacts 1000000]
        [--purchases 10000000] [--runs 2]

Loads N contacts with M purchases (bench.generate; skipped when the tables already hold
exactly that many) and runs the real command in a child process, measuring wall time, the
child's peak RSS and CPU time, and printing the run's own per-stage durations (load from the
database, fits, backtest, scoring and writing, clean-up). The aim from the issue: the whole
run in at most 60 s on 2 cores for 1M contacts / 10M purchases, peak memory under 1 GB.
Same-run baseline, measured the same way (a child process; wall, peak RSS, its CPU and its
PostgreSQL backends' CPU): one plain SQL aggregate over the same purchases (per contact: purchase
days, first and last purchase, total spent) read by a client, the floor of the run's database
work; every run's line carries its ratio to it.
Empties and refills the contacts and purchases tables when their size differs: benchmark
databases only.
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_import import Run, machine, run_child, run_manage, tagged_url
from bench.cpu import ratio
from bench.generate import load, setup_django

AIM_SECONDS = 60
AIM_RSS_MB = 1024


def ensure_data(contacts: int, purchases: int) -> None:
    from customers.models import Contact, Purchase

    if Contact.objects.count() == contacts and Purchase.objects.count() == purchases:
        print(f"using the {contacts:,} contacts and {purchases:,} purchases already loaded")
        return
    print(f"loading {contacts:,} contacts with {purchases:,} purchases ...", flush=True)
    load(contacts=contacts, purchases=purchases, truncate=True, seed=1)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE customers_purchase")
        cursor.execute("VACUUM ANALYZE customers_contact")


# The baseline: what every contact's purchase history amounts to, in one plain aggregate.
AGGREGATE = """
import sys, psycopg2
connection = psycopg2.connect(sys.argv[1])
with connection, connection.cursor("bench_aggregate") as cursor:
    cursor.itersize = 50_000
    cursor.execute("SELECT contact_id, count(DISTINCT purchased_at::date), min(purchased_at), "
                   "max(purchased_at), sum(amount) FROM customers_purchase GROUP BY contact_id")
    print(sum(1 for _row in cursor), "contacts aggregated")
"""


def run_aggregate() -> Run:
    return run_child("-c", AGGREGATE, tagged_url())


def _database(run: Run) -> str:
    seconds = run.database_cpu_seconds
    return "not measured" if seconds is None else f"{seconds:.1f} s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, help="default: 10 per contact")
    parser.add_argument("--runs", type=int, default=2, help="timed runs (the first warms caches)")
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    from customers.models import ScoringRun

    if connection.vendor != "postgresql":
        sys.exit("bench_scoring_job.py measures PostgreSQL only: set DATABASE_URL=postgres://...")
    ensure_data(args.contacts, args.purchases or 10 * args.contacts)
    print(machine())
    print("plain SQL aggregate over the same purchases (baseline) ...", flush=True)
    raw = run_aggregate()
    print(raw.output)
    lines = ["| run | wall | wall / aggregate's | peak RSS | CPU (child) | CPU (database) "
             "| model used | stages (s) |", "|---|---:|---:|---:|---:|---:|---|---|",
             f"| plain SQL aggregate (baseline) | {raw.seconds:.1f} s | 1.0x "
             f"| {raw.peak_rss_mb:.0f} MB | {raw.cpu_seconds:.1f} s | {_database(raw)} | | |"]
    for number in range(1, args.runs + 1):
        measured = run_manage("score_contacts")
        run = ScoringRun.objects.order_by("-id").first()
        stages = ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in run.durations.items())
        lines.append(f"| {number} | {measured.seconds:.1f} s "
                     f"| {ratio(measured.seconds, raw.seconds)} | {measured.peak_rss_mb:.0f} MB "
                     f"| {measured.cpu_seconds:.1f} s | {_database(measured)} "
                     f"| {run.chosen_model} | {stages} |")
        print(measured.output)
    print("\n".join(lines))
    print(f"\nAim: the whole run within {AIM_SECONDS} s, peak memory under {AIM_RSS_MB} MB.")


if __name__ == "__main__":
    main()

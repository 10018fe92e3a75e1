"""The contact list's background owner change on PostgreSQL: a whole filtered list of 100,000.

    DATABASE_URL=postgres://... python bench/bench_bulk_assign.py [--contacts 100000]
        [--purchases 300000] [--runs 2]

Loads N contacts with M purchases (bench.generate; skipped when the tables already hold exactly
that many) and two sales-staff owners, then times dashboard.bulk.bulk_assign_run, the body of
the Celery task the page queues (claim the job, re-evaluate the list's filters, walk it in
ASSIGN_CHUNK-id chunks through customers.services.contacts.contacts_assign_owner, progress on
the job row after each chunk):

- the whole list (no filter) given to owner B, every owner changing;
- the same job again (a second delivery: claimed already, nothing done) and the same change
  started again as a new job (walks every contact, changes none);
- a filtered list (one-time buyers) given to owner A.

Same-run baseline, timed the same way (best of --runs): one plain UPDATE of the same rows
(`UPDATE customers_contact SET owner_id = ..., updated_at = now()`), with each step's ratio
to it. The aim from issue #19: 100,000 contacts in under 10 s. Benchmark databases only: it
empties and refills the contacts and purchases tables when their size differs.
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_import import machine
from bench.bench_scoring_job import ensure_data
from bench.cpu import ratio
from bench.generate import setup_django

AIM_SECONDS = 10.0


def owners() -> tuple:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts.roles import SALES_STAFF

    group, _created = Group.objects.get_or_create(name=SALES_STAFF)
    made = []
    for name in ("bench-owner-a", "bench-owner-b"):
        user, _created = get_user_model().objects.get_or_create(username=name)
        user.groups.add(group)
        made.append(user)
    return tuple(made)


def raw_update(owner_id: int, where: str = "TRUE") -> tuple[float, int]:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE customers_contact SET owner_id = %s, updated_at = now() "
                       f"WHERE {where}", [owner_id])
        count = cursor.rowcount
    return time.perf_counter() - started, count


def job_run(*, user, owner, query: str = "") -> tuple[float, int, int, int]:
    """(seconds, contacts walked, owners changed, job id) for one background owner change."""
    from dashboard.bulk import bulk_assign_run
    from dashboard.models import BulkAssignJob

    job = BulkAssignJob.objects.create(created_by=user, owner=owner, query=query)
    started = time.perf_counter()
    bulk_assign_run(job.pk)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    assert job.status == BulkAssignJob.Status.DONE, job.error
    return seconds, job.done, job.changed, job.pk


def again(job_id: int) -> float:
    from dashboard.bulk import bulk_assign_run

    started = time.perf_counter()
    bulk_assign_run(job_id)
    return time.perf_counter() - started


def measure(runs: int) -> list[tuple[str, int, float, float]]:
    """Rows of (step, contacts, best seconds, best baseline seconds)."""
    a, b = owners()
    best: dict[str, list] = {}

    def keep(step: str, contacts: int, seconds: float, baseline: float) -> None:
        row = best.setdefault(step, [contacts, float("inf"), float("inf")])
        row[1], row[2] = min(row[1], seconds), min(row[2], baseline)

    for _run in range(runs):
        raw, count = raw_update(a.pk)  # baseline, and every contact away from B
        seconds, walked, changed, job_id = job_run(user=a, owner=b)
        assert walked == changed == count, (walked, changed, count)
        keep("whole list to B: every owner changes", walked, seconds, raw)
        keep("the same job delivered again (claimed: nothing)", walked, again(job_id), raw)
        seconds, walked, changed, _job = job_run(user=a, owner=b)
        assert changed == 0
        keep("the same change as a new job (walks all, changes none)", walked, seconds, raw)
        raw_one_time, one_time = raw_update(b.pk, "stage = 'one_time'")
        seconds, walked, changed, _job = job_run(user=a, owner=a, query="stage=one_time")
        assert walked == changed == one_time
        keep("filtered list (one-time buyers) to A", walked, seconds, raw_one_time)
    return [(step, row[0], row[1], row[2]) for step, row in best.items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--purchases", type=int, help="default: 3 per contact")
    parser.add_argument("--runs", type=int, default=2, help="timed runs each; the best is shown")
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench_bulk_assign.py measures PostgreSQL only: set DATABASE_URL=postgres://...")
    ensure_data(args.contacts, args.purchases or 3 * args.contacts)
    print(machine())
    lines = ["| step | contacts | seconds | plain UPDATE of the same rows (baseline) | / raw |",
             "|---|---:|---:|---:|---:|"]
    for step, contacts, seconds, raw in measure(args.runs):
        lines.append(f"| {step} | {contacts:,} | {seconds:.2f} s | {raw:.2f} s | "
                     f"{ratio(seconds, raw)} |")
        print(lines[-1], flush=True)
    print("\n".join(lines))
    print(f"\nAim: {args.contacts:,} contacts in under {AIM_SECONDS:.0f} s in the background.")


if __name__ == "__main__":
    main()

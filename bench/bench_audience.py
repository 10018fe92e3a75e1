"""Audience queries on PostgreSQL: size, the id list and a sample, for typical criteria.

    DATABASE_URL=postgres://... python bench/bench_audience.py [--contacts 1000000]
        [--purchases 10000000] [--runs 2]

Loads N contacts with M purchases (bench.generate; skipped when the tables already hold exactly
that many), adds a published scoring run with a random score for every buyer (set-based, so
score bands have something to read), 1% of addresses suppressed and 5% of contacts owned by
one user, then times campaigns.audience for each criteria set: audience_size, the full id list
(what a run's INSERT ... SELECT reads) and audience_sample(size=20). The aim from the issue:
size and id list within a few seconds for 1M contacts. Same-run baseline, timed the same way
(best of --runs): plain SQL over the whole contacts table, with no criteria (count(*), every id
fetched, 20 rows ORDER BY random()), and each criteria's ratio to it. Benchmark databases
only: it empties and refills the contacts and purchases tables when their size differs.
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

AIM_SECONDS = 5.0
CRITERIA = {
    "everyone with consent": {},
    "one-time, last purchase 30-180 days": {"stages": ["one_time"], "days_since_last_min": 30,
                                            "days_since_last_max": 180},
    "at risk": {"at_risk": True},
    "repeat, p(buy again) >= 0.6": {"stages": ["repeat"], "p_buy_again_min": 0.6},
    "p(alive) 0.2-0.5, spent >= 200": {"p_alive_min": 0.2, "p_alive_max": 0.5,
                                       "total_spent_min": "200"},
    "5+ purchases, spent >= 500": {"purchase_count_min": 5, "total_spent_min": "500"},
    "one owner's repeat clients": {"stages": ["repeat"], "owner_ids": "OWNER"},
}


def ensure_extras() -> int:
    """A published scoring run over every buyer, some suppressions and an owner; the owner id."""
    from django.contrib.auth import get_user_model

    from customers.models import Contact, ContactScore
    from customers.scoring.runs import current_run

    owner, _ = get_user_model().objects.get_or_create(username="bench-owner")
    # Reloading the contacts empties scores and owners (TRUNCATE ... CASCADE): check the rows.
    run = current_run()
    if (run is None or not ContactScore.objects.filter(run=run).exists()
            or not Contact.objects.filter(owner=owner).exists()):
        print("adding a scoring run with random scores for every buyer ...", flush=True)
        _add_scores_owner_suppressions(owner.pk)
    return owner.pk


def _add_scores_owner_suppressions(owner_id: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from campaigns.models import Suppression
    from customers.models import Contact, ContactScore, ScoringRun

    with transaction.atomic():
        run = ScoringRun.objects.create(trigger="command", as_of=timezone.localdate(),
                                        horizon_days=90, status="succeeded",
                                        finished_at=timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {ContactScore._meta.db_table} (run_id, contact_id, scored_at, "
                "p_buy_again, p_alive, expected_purchases, expected_value, predicted_value_12m, "
                "frequency, recency_days, age_days) "
                "SELECT %s, id, now(), random(), random(), 1, 40, 40, purchase_count - 1, 0, 0 "
                f"FROM {Contact._meta.db_table} WHERE purchase_count > 0", [run.pk])
            cursor.execute(f"UPDATE {Contact._meta.db_table} SET owner_id = %s "
                           "WHERE id %% 20 = 0", [owner_id])
            cursor.execute(f"INSERT INTO {Suppression._meta.db_table} "
                           "(email, reason, detail, created_at) "
                           f"SELECT email, 'unsubscribed', '', now() FROM "
                           f"{Contact._meta.db_table} WHERE id %% 100 = %s "
                           "ON CONFLICT DO NOTHING", [7])
    with connection.cursor() as cursor:
        for table in (ContactScore, Contact, Suppression):
            cursor.execute(f"ANALYZE {table._meta.db_table}")


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def best_of(runs: int, size, ids, sample) -> tuple[int, dict[str, float]]:
    """(size, best seconds of each of the three calls over `runs`)."""
    best = {"size": float("inf"), "ids": float("inf"), "sample": float("inf")}
    for _ in range(runs):
        seconds, counted = timed(size)
        best["size"] = min(best["size"], seconds)
        seconds, listed = timed(ids)
        best["ids"] = min(best["ids"], seconds)
        seconds, _sample = timed(sample)
        best["sample"] = min(best["sample"], seconds)
    assert len(listed) == counted
    return counted, best


def measure(data: dict, runs: int) -> tuple[int, dict[str, float]]:
    from campaigns.audience import (AudienceCriteria, audience_contacts, audience_sample,
                                    audience_size)

    criteria = AudienceCriteria.from_json(data)
    return best_of(runs, lambda: audience_size(criteria),
                   lambda: list(audience_contacts(criteria).order_by()
                                .values_list("id", flat=True)),
                   lambda: audience_sample(criteria, size=20))


def measure_raw(runs: int) -> tuple[int, dict[str, float]]:
    """The baseline: the same three reads as plain SQL over every contact, no criteria."""
    from django.db import connection

    def query(sql: str) -> list:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    return best_of(runs, lambda: query("SELECT count(*) FROM customers_contact")[0][0],
                   lambda: [row[0] for row in query("SELECT id FROM customers_contact")],
                   lambda: query("SELECT * FROM customers_contact ORDER BY random() LIMIT 20"))


def line(name: str, size: int, best: dict[str, float], raw: dict[str, float]) -> str:
    return f"| {name} | {size:,} | " + " | ".join(
        f"{best[key]:.2f} s | {ratio(best[key], raw[key])}" for key in ("size", "ids", "sample")
    ) + " |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, help="default: 10 per contact")
    parser.add_argument("--runs", type=int, default=2, help="timed runs each; the best is shown")
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench_audience.py measures PostgreSQL only: set DATABASE_URL=postgres://...")
    ensure_data(args.contacts, args.purchases or 10 * args.contacts)
    owner_id = ensure_extras()
    print(machine())
    lines = ["| criteria | contacts | size | / raw | id list | / raw | sample of 20 | / raw |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    raw_size, raw = measure_raw(args.runs)
    lines.append(line("plain SQL, every contact (baseline)", raw_size, raw, raw))
    print(lines[-1], flush=True)
    for name, data in CRITERIA.items():
        if data.get("owner_ids") == "OWNER":
            data = {**data, "owner_ids": [owner_id]}
        lines.append(line(name, *measure(data, args.runs), raw))
        print(lines[-1], flush=True)
    print("\n".join(lines))
    print(f"\nAim: size and id list within {AIM_SECONDS:.0f} s each for 1M contacts.")


if __name__ == "__main__":
    main()

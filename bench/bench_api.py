"""POST /api/purchases/ under load, every order sent twice, on PostgreSQL through gunicorn.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/bench_api.py \
        [--contacts 1000000] [--seconds 30] [--new-share 20]

Loads the data if the tables do not hold it (bench.generate), creates an integration user
(sales role: may add contacts and purchases) with a token, starts gunicorn with production
settings (5 sync workers, as deploy/gunicorn.conf.py picks on 2 cores; the per-user API rate
limit raised for the integration, as a shop sending 300 orders a second would configure it),
then runs wrk with 20 connections (bench/lua/purchases_twice.lua): each order is POSTed twice
with the same (source, external_id), the copy usually while the first is still in flight.
`--new-share` percent of the orders come from new customers (a contact is created).

Checks afterwards, from the database: one purchase per order (created answers == rows), every
copy answered 200 "already known", no contact's figures drifted from its purchases (no double
count), zero errors. Aim from the issue: >= 300 requests/s with 20 clients, p99 < 100 ms.
Celery tasks the purchases trigger are queued in Redis (the web side's real cost); no worker
drains them during the run. Beside it, from the same run and server: the trivial page /healthz
under the same wrk -c20 load (bench_dashboard.trivial_page), and the ratios. CPU per request
counts only the gunicorn started here and its connections' PostgreSQL backends (bench/cpu.py).
"""
import argparse
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_dashboard import (Load, _free_port, load_table, stack_env,
                                   start_gunicorn, trivial_page)
from bench.bench_import import machine
from bench.cpu import CpuMeter, server_parts
from bench.bench_scoring_job import ensure_data
from bench.generate import setup_django

SCRIPT = ROOT / "bench" / "lua" / "purchases_twice.lua"
RESULT = re.compile(r"RESULT (.*)")


def integration_token() -> str:
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from accounts.roles import SALES_STAFF

    user, _created = User.objects.get_or_create(username="bench-shop")
    user.groups.add(*Group.objects.filter(name=SALES_STAFF))
    token, _created = Token.objects.get_or_create(user=user)
    return token.key


def run_wrk(base: str, token: str, label: str, *, contacts: int, new_share: int,
            seconds: int) -> dict[str, float]:
    from django.conf import settings

    output = subprocess.run(
        ["wrk", "-t2", "-c20", f"-d{seconds}s", "--timeout", "10s", "-s", str(SCRIPT), base,
         "--", token, label, str(contacts), str(new_share), settings.CRM_BASE_CURRENCY],
        capture_output=True, text=True, check=True).stdout
    found = RESULT.search(output)
    if not found:
        sys.exit(f"wrk printed no result:\n{output}")
    return {key: float(value) for key, value in
            (pair.split("=") for pair in found.group(1).split())}


def verify(label: str, result: dict[str, float]) -> list[str]:
    """What the database says about the run; problems found (none is the aim)."""
    from customers.models import Purchase
    from customers.stats import contacts_with_drift

    purchases = Purchase.objects.filter(source=f"bench-{label}")
    rows = purchases.count()
    orders = purchases.values("external_id").distinct().count()
    touched = purchases.values("contact_id")
    drifted = contacts_with_drift().filter(pk__in=touched).count()
    problems = []
    # wrk stops with up to one request per connection in flight: the server finishes those
    # but wrk never counts their answers.
    if not 0 <= rows - result["created"] <= 20:
        problems.append(f"{rows} purchase rows but {result['created']:.0f} created answers")
    if orders != rows:
        problems.append(f"{rows - orders} orders stored twice")
    if drifted:
        problems.append(f"{drifted} contacts' figures differ from their purchases")
    if result["failed"]:
        problems.append(f"{result['failed']:.0f} requests failed")
    # Likewise a pair may be cut in two at the end.
    if abs(result["created"] - result["known"]) > 20:
        problems.append(f"{result['created']:.0f} created but {result['known']:.0f} known")
    print(f"database: {rows:,} purchases for {orders:,} orders, {drifted} drifted contacts")
    return problems


def clean_up(label: str) -> None:
    """Remove what the run added, so the next run measures the same data set (ensure_data
    reloads everything when the counts differ)."""
    from customers.models import Contact, Purchase
    from customers.stats import contacts_refresh_stats

    added = Purchase.objects.filter(source__startswith="bench-")
    touched = set(added.values_list("contact_id", flat=True))
    added.delete()
    Contact.objects.filter(email__startswith="new-", email__endswith="@bench.example.com").delete()
    contacts_refresh_stats(Contact.objects.filter(pk__in=touched).values_list("pk", flat=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--new-share", type=int, default=20)
    args = parser.parse_args(argv)
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(40)
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench_api.py measures PostgreSQL only: set DATABASE_URL=postgres://...")
    ensure_data(args.contacts, 10 * args.contacts)
    token = integration_token()
    connection.close()
    env = stack_env(CRM_API_THROTTLE_USER="1000000/minute")
    port = _free_port()
    server = start_gunicorn(port, env)
    base = f"http://127.0.0.1:{port}"
    label = f"{int(time.time())}"
    try:
        print(machine())
        run_wrk(base, token, f"warm{label}", contacts=args.contacts, new_share=args.new_share,
                seconds=3)
        baseline = trivial_page(server, base, args.seconds)
        with CpuMeter(**server_parts(server.pid)) as cpu:
            result = run_wrk(base, token, label, contacts=args.contacts,
                             new_share=args.new_share, seconds=args.seconds)
    finally:
        server.terminate()
        server.wait()
    rate = result["requests"] / result["seconds"]
    print(f"POST /api/purchases/, 20 connections, {args.seconds} s, each order twice, "
          f"{args.new_share}% new customers:")
    print(f"  {rate:.0f} requests/s; latency p50 {result['p50']:.1f} ms, p90 "
          f"{result['p90']:.1f} ms, p99 {result['p99']:.1f} ms, max {result['max']:.1f} ms")
    print(f"  answers: {result['created']:.0f} created (201), {result['known']:.0f} already "
          f"known (200), {result['failed']:.0f} errors")
    print(f"  {cpu.summary(int(result['requests']))}")
    load = Load(requests=int(result["requests"]), rate=rate, errors=int(result["failed"]),
                cpu=cpu, output="", latency={50: result["p50"], 99: result["p99"]})
    print(load_table("POST /api/purchases/", load, load.requests, baseline))
    problems = verify(label, result)
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    clean_up(label)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

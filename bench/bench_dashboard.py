"""The sales pages under load, on PostgreSQL with 1M contacts / 10M purchases, through gunicorn.

    DATABASE_URL=postgres://... python bench/bench_dashboard.py [--contacts 1000000]
        [--samples 200] [--seconds 15] [--rounds 2] [--keep-data]

Loads the data if the tables do not hold it (bench.generate), makes sure a scoring run and a
KPI snapshot exist, then starts gunicorn with production settings (5 sync workers, as the
shipped gunicorn.conf.py would pick on 2 cores) and measures:
  1. latency: p50/p95/p99 of the server time (X-Response-Time... measured at the client on
     loopback, so it includes one local round trip) for each page, `--samples` requests each:
     contact list, a deep keyset page, search, contact page, today, KPIs; and every other sort
     of the list (likelihood, purchases, name, spent) on its first page and on the page after
     the contact half-way down that order. The list has one direction per sort. `--rounds`
     times over (each figure taken at least twice on a shared machine), each line with the
     load average when it was taken. The sampled contacts get a history for their page (calls,
     notes, open follow-ups: the call-first page's blocks), deleted again at the end;
  2. throughput: wrk with 20 connections for `--seconds` on the contact list.
Beside both, from the same run and the same server: the trivial page /healthz (one SELECT 1
and one broker connection through the same gunicorn and middleware), measured the same way,
and the ratio page / trivial page. CPU per request counts only the gunicorn started here and
the PostgreSQL backends of its connections (bench/cpu.py).
Aims from the issues: list, contact page and search p95 <= 50 ms; dashboard p95 <= 100 ms;
>= 150 requests/s on the list with 20 concurrent clients, zero errors (#10); every sort of the
list p95 <= 50 ms on its first page and deep in the list, contact page p95 <= 50 ms, call list
(today) p95 <= 100 ms (#19). `--keep-data` refuses to (re)load the data set when the tables
hold anything else (a reload of 1M/10M takes long): it stops instead.
"""
import argparse
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_import import machine
from bench.cpu import (CpuMeter, application_name, ratio, server_parts,
                       tagged_database_url)
from bench.bench_scoring_job import ensure_data
from bench.generate import setup_django


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare() -> str:
    """A sales user's session cookie, a current scoring run and a KPI snapshot."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from accounts.models import User
    from accounts.roles import SALES_STAFF
    from dashboard.kpis import kpis_refresh
    from dashboard.models import KpiSnapshot
    from customers.scoring.runs import current_run

    if current_run() is None:
        print("scoring (no current run) ...", flush=True)
        call_command("score_contacts")
    if not KpiSnapshot.objects.exists():
        kpis_refresh()
    user, _ = User.objects.get_or_create(username="bench-sales")
    user.groups.add(*__import__("django.contrib.auth.models", fromlist=["Group"])
                    .Group.objects.filter(name=SALES_STAFF))
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "accounts.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def deep_cursors(contacts: int) -> dict[str, int]:
    """Per sort of the list (bar the default, measured as "contact list"), the contact
    half-way down its order, as the list orders it for the bench user's language."""
    from django.conf import settings
    from django.utils import translation

    from dashboard.contact_list import SORTS, _filtered, _order, _sortable

    cursors = {}
    with translation.override(settings.LANGUAGE_CODE):
        for sort, (_label, keys) in SORTS.items():
            if sort != "recent":
                ordered = _sortable(_filtered({}, None), keys).order_by(*_order(keys))
                cursors[sort] = ordered.values_list("pk", flat=True)[contacts // 2]
    return cursors


def add_history(ids: list[int]) -> None:
    """Three calls, two notes and an open follow-up for each sampled contact (a contact a
    salesperson works, as the call-first page shows it); remove_history() deletes them. The
    calls are older than CRM_CALLED_RECENTLY_DAYS, so the call list is not changed."""
    from django.utils import timezone

    from accounts.models import User
    from customers.models import CallLog, FollowUp, Note

    user = User.objects.get(username="bench-sales")
    now = timezone.now()
    CallLog.objects.bulk_create(
        CallLog(contact_id=pk, user=user, outcome=outcome, note=f"bench {outcome}",
                called_at=now - timezone.timedelta(days=30 + days))
        for pk in ids for days, outcome in enumerate(["no_answer", "reached", "call_back"]))
    Note.objects.bulk_create(Note(contact_id=pk, author=user, body=f"bench note {n}",
                                  created_at=now - timezone.timedelta(days=40 + n))
                             for pk in ids for n in range(2))
    FollowUp.objects.bulk_create(FollowUp(contact_id=pk, assigned_to=user, created_by=user,
                                          title="bench: call back",
                                          due_on=timezone.localdate() + timezone.timedelta(days=30))
                                 for pk in ids)


def remove_history(ids: list[int]) -> None:
    from customers.models import CallLog, FollowUp, Note

    CallLog.objects.filter(contact_id__in=ids, note__startswith="bench ").delete()
    Note.objects.filter(contact_id__in=ids, body__startswith="bench note").delete()
    FollowUp.objects.filter(contact_id__in=ids, title="bench: call back").delete()


def start_gunicorn(port: int, env: dict, *, app: str = "crm.wsgi:application",
                   ready_path: str = "/login/") -> subprocess.Popen:
    """gunicorn serving `app` (5 sync workers unless WEB_CONCURRENCY says otherwise), once
    `ready_path` answers."""
    # Production settings serve hashed static names from the manifest collectstatic writes.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
                   cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--bind",
         f"127.0.0.1:{port}", "--workers", env.get("WEB_CONCURRENCY", "5"),
         "--log-level", "warning"],
        cwd=ROOT, env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit("gunicorn did not start")


def stack_env(**extra: str) -> dict[str, str]:
    """The environment of the gunicorn the bench starts: production settings, its database
    connections tagged so the meter finds their backends."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings.production",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": tagged_database_url(os.environ["DATABASE_URL"], application_name()),
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "DJANGO_SECURE_SSL_REDIRECT": "False", **extra}


@dataclass
class Load:
    requests: int
    rate: float
    errors: int
    cpu: CpuMeter
    output: str
    latency: dict[int, float]  # percentile -> ms (wrk --latency)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def latency_ms(output: str) -> dict[int, float]:
    """wrk --latency's distribution ('  99%   12.34ms') in milliseconds."""
    return {int(pct): float(value) * _UNITS[unit] for pct, value, unit in
            re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)}


def wrk(server: subprocess.Popen, url: str, seconds: int, *options: str,
        connections: int = 20, script: Path | None = None,
        script_args: tuple[str, ...] = ()) -> Load:
    """wrk with `connections` (20) on url for `seconds`, with the CPU of the bench's own
    stack; with a Lua `script`, its arguments after the URL."""
    lua = ["-s", str(script)] if script else []
    after = ["--", *script_args] if script_args else []
    with CpuMeter(**server_parts(server.pid)) as cpu:
        output = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s",
                                 "--latency", *options, *lua, url, *after],
                                capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Load(requests=int(re.search(r"(\d+) requests in", output).group(1)),
                rate=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
                errors=int(errors.group(1)) if errors else 0, cpu=cpu, output=output,
                latency=latency_ms(output))


def trivial_page(server: subprocess.Popen, base: str, seconds: int) -> Load:
    """The same-run baseline: /healthz under the same load, through the same stack."""
    return wrk(server, f"{base}/healthz", seconds, "-H", "X-Forwarded-Proto: https")


def load_table(name: str, load: Load, requests: int, baseline: Load) -> str:
    """Rate and CPU per request of a load beside the trivial page's, with the ratios."""
    ours, base = load.cpu.per_request(requests), baseline.cpu.per_request(baseline.requests)

    def ms(value: float | None) -> str:
        return "not measured" if value is None else f"{value:.2f} ms"

    lines = ["| load | requests/s | errors | p50 | p99 | " + " | ".join(
                 f"CPU/request {part}" for part in ours) + " |",
             "|---|---:|---:|---:|---:|" + "---:|" * len(ours),
             f"| {name} | {load.rate:.0f} | {load.errors} | {ms(load.latency.get(50))} "
             f"| {ms(load.latency.get(99))} | "
             + " | ".join(ms(value) for value in ours.values()) + " |",
             f"| trivial page (/healthz), same run | {baseline.rate:.0f} | {baseline.errors} "
             f"| {ms(baseline.latency.get(50))} | {ms(baseline.latency.get(99))} | "
             + " | ".join(ms(value) for value in base.values()) + " |",
             f"| ratio (requests/s: trivial / {name}; the rest: {name} / trivial) "
             f"| {ratio(baseline.rate, load.rate)} | | "
             f"{ratio(load.latency.get(50), baseline.latency.get(50))} "
             f"| {ratio(load.latency.get(99), baseline.latency.get(99))} | "
             + " | ".join(ratio(ours[part], base[part]) for part in ours) + " |"]
    return "\n".join(lines)


def timed(url: str, cookie: str) -> float:
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}",
                                                   "X-Forwarded-Proto": "https"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        # urllib follows redirects: a login page instead of the page asked for is an error.
        if response.status != 200 or response.geturl() != url:
            raise RuntimeError(f"{url}: {response.status} at {response.geturl()}")
    return (time.perf_counter() - started) * 1000


def percentiles(values: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=100)
    return statistics.median(values), cuts[94], cuts[98]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep-data", action="store_true")
    args = parser.parse_args(argv)
    # One secret for this process (which creates the session) and gunicorn (which reads it).
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(40)
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench_dashboard.py measures PostgreSQL only: set DATABASE_URL=postgres://...")
    from customers.models import Contact, Purchase

    if args.keep_data and (Contact.objects.count(), Purchase.objects.count()) != (
            args.contacts, 10 * args.contacts):
        sys.exit("--keep-data: the tables do not hold the data set; not reloading it")
    ensure_data(args.contacts, 10 * args.contacts)
    cookie = prepare()

    ids = list(Contact.objects.order_by("?").values_list("pk", flat=True)[:args.samples])
    deep = Contact.objects.order_by("-last_purchase_at", "-id").values_list(
        "pk", flat=True)[args.contacts // 2]
    cursors = deep_cursors(args.contacts)
    add_history(ids)
    connection.close()
    env = stack_env()
    port = _free_port()
    server = start_gunicorn(port, env)
    base = f"http://127.0.0.1:{port}"
    pages = {
        "contact list": lambda i: f"{base}/contacts/",
        "contact list, page after 500,000": lambda i: f"{base}/contacts/?after={deep}",
        "search (a name)": lambda i: f"{base}/contacts/?q={random.choice(['kaya', 'ayse', 'smith', 'rossi'])}",
        "contact page": lambda i: f"{base}/contacts/{ids[i % len(ids)]}/",
        "today (call list)": lambda i: f"{base}/contacts/today/?mine=0",
        "KPIs and charts": lambda i: f"{base}/contacts/kpis/",
    }
    from dashboard.contact_list import SORTS

    for sort, after in cursors.items():
        label = str(SORTS[sort][0]).lower()
        pages[f"sort: {label}, first page"] = lambda i, sort=sort: f"{base}/contacts/?sort={sort}"
        pages[f"sort: {label}, page after {args.contacts // 2:,}"] = (
            lambda i, sort=sort, after=after: f"{base}/contacts/?sort={sort}&after={after}")
    try:
        print(machine())
        for round_number in range(1, args.rounds + 1):
            print(f"\nround {round_number} of {args.rounds}, {time.strftime('%H:%M:%S')}\n")
            print("| page | p50 | p95 | p99 | p95 / trivial page's | load (1 min) |\n"
                  "|---|---:|---:|---:|---:|---:|")
            trivial = None
            # The trivial page first: every page's line carries its ratio to it.
            for name, url in {"trivial page (/healthz), same run": lambda i: f"{base}/healthz",
                              **pages}.items():
                for i in range(5):
                    timed(url(i), cookie)  # warm the worker processes
                values = [timed(url(i), cookie) for i in range(args.samples)]
                p50, p95, p99 = percentiles(values)
                trivial = trivial or p95
                print(f"| {name} | {p50:.1f} ms | {p95:.1f} ms | {p99:.1f} ms "
                      f"| {ratio(p95, trivial)} | {os.getloadavg()[0]:.2f} |", flush=True)
        baseline = trivial_page(server, base, args.seconds)
        load = wrk(server, f"{base}/contacts/", args.seconds, "-H",
                   f"Cookie: sessionid={cookie}", "-H", "X-Forwarded-Proto: https")
        print(load.output)
        # wrk counts redirects as fine: check that the list itself was served, not the login.
        timed(f"{base}/contacts/", cookie)
        print(f"contact list under wrk -c20: {load.rate:.0f} requests/s, {load.errors} errors")
        print(load_table("contact list", load, load.requests, baseline))
    finally:
        server.terminate()
        server.wait()
        remove_history(ids)


if __name__ == "__main__":
    main()

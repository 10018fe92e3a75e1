"""CPU per email of the sending code, in one process: what bench_sending.py's worker runs for a
batch (campaigns.outbox.send_due_messages: claim, send-time checks, contexts, rendering, click
rewriting, MIME, DKIM, SMTP, record), without Celery, into the same aiosmtpd sink.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/profile_sending.py
        [--messages 4000] [--batch 200] [--dkim] [--breakdown] [--profile out.prof] [--top 40]

The figure is the sender's own CPU time (time.process_time: the sink, PostgreSQL and Redis
run in other processes and are not counted), divided by the emails sent, so it moves little
with the load of a shared machine. Settings are the production ones (DEBUG off), as the
worker's. --breakdown adds the CPU time spent in each step of the path (each step's function wrapped with
a process_time counter: a few microseconds per call, unlike a profiler). --profile runs the same under cProfile with a CPU-time clock (slower; for the breakdown,
not the figure) and prints the functions with the most cumulative and own time.
"""
import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DKIM_KEY = ROOT / "campaigns" / "tests" / "dkim_test_key.pem"


# (module, attribute, label): the steps of the path, none inside another, so they add up.
STEPS = [
    ("campaigns.outbox.batch", "claim_batch", "claim (rows, lease)"),
    ("campaigns.outbox.batch", "_load", "load the claimed rows"),
    ("campaigns.outbox.batch", "contacts_lock", "per-contact locks"),
    ("campaigns.outbox.batch", "contacts_unlock", "per-contact locks"),
    ("campaigns.outbox.batch", "sending_pause", "send-time checks"),
    ("campaigns.outbox.batch", "blocked_messages", "send-time checks"),
    ("campaigns.outbox.batch", "message_contexts", "template contexts"),
    ("campaigns.outbox.batch", "_batch_translations", "template contexts"),
    ("campaigns.outbox.batch", "signer", "DKIM sign"),
    ("campaigns.outbox.batch", "render_email", "render the template"),
    ("campaigns.outbox.batch", "links_rewrite", "click rewriting"),
    ("campaigns.outbox.batch", "build_email", "build the email object"),
    ("campaigns.smtp", "mime_bytes", "MIME bytes"),
    ("campaigns.dkim.Signer", "sign", "DKIM sign"),
    ("campaigns.smtp", "_dot_stuff", "SMTP exchange"),
    ("campaigns.smtp.Outbound", "_send_smtp", "SMTP exchange"),
    ("campaigns.smtp.Outbound", "_open", "SMTP exchange"),
    ("campaigns.smtp.Outbound", "close", "SMTP exchange"),
    ("campaigns.outbox.batch._Batch", "handoff", "record result + hand-off mark"),
    ("campaigns.outbox.batch._Batch", "flush", "record result + hand-off mark"),
    ("campaigns.outbox.batch._Batch", "answered", "record result + hand-off mark"),
    ("campaigns.outbox.batch", "batch_lease_release", "claim (rows, lease)"),
]


def breakdown_install() -> dict[str, float]:
    """Wrap each step with a CPU-time counter; returns {label: CPU seconds}, filled as it runs."""
    import importlib

    spent: dict[str, float] = {}

    def wrapped(function, label):
        def step(*args, **kwargs):
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - started
        return step

    for path, attribute, label in STEPS:
        module, cls = path, ""
        if path.endswith((".Signer", ".Outbound", "._Batch")):  # a method of a class
            module, _, cls = path.rpartition(".")
        owner = importlib.import_module(module)
        if cls:
            owner = getattr(owner, cls)
        setattr(owner, attribute, wrapped(getattr(owner, attribute), label))
    return spent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--dkim", action="store_true", help="sign every email (test key)")
    parser.add_argument("--breakdown", action="store_true", help="CPU time per step")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the sending here")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)

    from bench.bench_sending import Sink

    sink = Sink()  # before Django: the sink process needs none of it
    os.environ.update(DJANGO_SETTINGS_MODULE="crm.settings.production",
                      DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "bench-only"),
                      DJANGO_ALLOWED_HOSTS="crm.example.com", LOG_LEVEL="WARNING",
                      EMAIL_URL=f"smtp://127.0.0.1:{sink.port}")
    if args.dkim:
        os.environ.update(CRM_DKIM_DOMAIN="shop.example", CRM_DKIM_SELECTOR="bench",
                          CRM_DKIM_PRIVATE_KEY_FILE=str(DKIM_KEY))
    from bench.bench_sending import create_outbox
    from bench.generate import setup_django

    setup_django()
    from django.db import connection

    from campaigns.outbox import send_due_messages

    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL")
    try:
        run_id = create_outbox(args.messages)
        send_due_messages(run_id=run_id, limit=1)  # imports, compiled templates, connections
        steps = breakdown_install() if args.breakdown else None
        sent = 1
        # CPU time, not wall time: waiting for the sink and the database is not the sender's cost.
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        while (report := send_due_messages(run_id=run_id, limit=args.batch)).claimed:
            sent += report.sent
        if profiler:
            profiler.disable()
        cpu, seconds = time.process_time() - cpu, time.perf_counter() - started
        received, distinct, duplicated, signed = sink.ask("stats")
    finally:
        sink.stop()
    sent -= 1
    print(f"{sent:,} emails in {seconds:.1f} s, sender CPU {cpu:.2f} s: "
          f"{cpu / sent * 1000:.3f} ms per email{' (under cProfile)' if profiler else ''}; "
          f"sink {received:,} received, {distinct:,} distinct, {duplicated} duplicated, "
          f"{signed:,} signed")
    if received != distinct or duplicated or sent != args.messages - 1 or received != args.messages:
        sys.exit("check failed: not every message arrived exactly once")
    if steps is not None:
        print("| step | CPU ms per email | share |\n|---|---:|---:|")
        for name, spent in sorted(steps.items(), key=lambda item: -item[1]):
            print(f"| {name} | {spent / sent * 1000:.3f} | {spent / cpu:.0%} |")
        rest = cpu - sum(steps.values())
        print(f"| everything else (Django cursor/ORM overhead between steps, the loop) | "
              f"{rest / sent * 1000:.3f} | {rest / cpu:.0%} |")
    if profiler:
        profiler.dump_stats(args.profile)
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()

"""Sending benchmark: the path users run (a Celery prefork worker with the shipped settings)
into a local SMTP server, against raw smtplib in the same run.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/bench_sending.py
        [--messages 100000] [--processes 2] [--batch 200] [--raw-messages 20000] [--direct]
        [--dkim] [--no-shop-links] [--reply-delay-ms 50] [--pool threads]

--reply-delay-ms makes the sink answer each email's final 250 that much later, as a relay
across a network does (the other SMTP replies stay instant); --pool threads runs the worker
with Celery's threads pool (--processes threads) instead of the shipped prefork pool;
--no-shop-links sends the email without its two shop links (the unsubscribe link stays).

Creates --messages contacts (emails on bench-sending.invalid, with consent), one SENDING run
and its outbox rows; starts an aiosmtpd sink in its own process (it counts every Message-ID it
accepts); then starts `celery -A crm worker --pool=prefork --concurrency=--processes` with the
production settings (crm-worker.service's command; Redis as the broker) and queues the run the
way starting a campaign does (campaigns.send_run for the run). The clock runs from that
call until the run is DONE: claims, send-time checks, rendering, one SMTP connection per
batch, a commit per message, every batch a Celery task. Afterwards it checks the sink holds
every Message-ID exactly once and every row is SENT. For scale, the same number of processes
then push --raw-messages pre-built emails through plain smtplib into the same sink (no
database, no rendering): the ceiling the sink and loopback allow. --direct adds the old
measurement (processes calling campaigns.outbox.send_due_messages in a loop, no Celery).
--dkim sends a second outbox of the same size with DKIM signing on (campaigns.dkim, the test
key campaigns/tests/dkim_test_key.pem, 2048 bits) through the same worker setup, so the
table has emails/s with and without signing from the same run. For the sender's CPU per
email and where it goes (steady on a shared machine, unlike emails/s), see
bench/profile_sending.py.

Deletes its own earlier data (the bench campaign and bench-sending.invalid contacts) only.
"""
import argparse
import asyncio
import multiprocessing
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import setup_django

CAMPAIGN = "bench-sending"
DOMAIN = "bench-sending.invalid"
TARGET_PER_SECOND = 500
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


# --- The sink, in its own process -------------------------------------------------------------

class CountingHandler:
    def __init__(self, reply_delay: float = 0.0) -> None:
        self.ids: Counter = Counter()
        self.signed = 0
        self.reply_delay = reply_delay

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        if self.reply_delay:  # a relay across a network: the final reply takes its time
            await asyncio.sleep(self.reply_delay)
        found = MESSAGE_ID.search(envelope.content)
        self.ids[found.group(1).decode() if found else "?"] += 1
        self.signed += envelope.content.startswith(b"DKIM-Signature:")
        return "250 2.0.0 Accepted"


def sink_main(port: int, commands, reply_delay: float = 0.0) -> None:
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # it logs every command at INFO
    handler = CountingHandler(reply_delay)
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    commands.send("ready")
    while (command := commands.recv()) != "stop":
        if command == "stats":
            commands.send((sum(handler.ids.values()), len(handler.ids),
                           sum(1 for n in handler.ids.values() if n > 1), handler.signed))
        elif command == "reset":
            handler.ids.clear()
            handler.signed = 0
            commands.send("ok")
    controller.stop()


class Sink:
    def __init__(self, reply_delay: float = 0.0) -> None:
        from campaigns.tests.smtp import free_port

        self.port = free_port()
        self.pipe, child_end = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=sink_main,
                                               args=(self.port, child_end, reply_delay))
        self.process.start()
        assert self.pipe.recv() == "ready"

    def ask(self, command: str):
        self.pipe.send(command)
        return self.pipe.recv()

    def stop(self) -> None:
        self.pipe.send("stop")
        self.process.join(10)


# --- Data -------------------------------------------------------------------------------------

# The email's two parts; the shop's link appears in each unless --no-shop-links (then only the
# unsubscribe link, which is the CRM's own and never rewritten).
SHOP_LINK_TEXT = "New this week: https://shop.example.com/new?utm_source=crm\n"
SHOP_LINK_HTML = ("<p><a href=\"https://shop.example.com/new?utm_source=crm&amp;m=1\">"
                  "New this week</a></p>")


def email_parts(shop_links: bool) -> dict[str, str]:
    text_link, html_link = (SHOP_LINK_TEXT, SHOP_LINK_HTML) if shop_links else ("", "")
    return {
        "subject": "{{ contact.first_name }}, a thank-you from us",
        # Each shop link goes through the click redirect (campaigns.clicks).
        "body_text": ("Hi {{ contact.first_name }},\n\nThanks for shopping with us."
                      "{% if coupon %} Your code: {{ coupon.code }}.{% endif %}\n"
                      f"{text_link}\nUnsubscribe: {{{{ unsubscribe_url }}}}\n"),
        "body_html": ("<p>Hi {{ contact.first_name }},</p><p>Thanks for shopping with us.</p>"
                      f"{html_link}<p><a href=\"{{{{ unsubscribe_url }}}}\">Unsubscribe</a></p>"),
    }


def create_outbox(count: int, *, shop_links: bool = True) -> int:
    from django.utils import timezone

    from campaigns.models import Campaign, CampaignRun, EmailTemplate, Message
    from campaigns.rendering import new_message_id
    from customers.models import Contact

    Campaign.objects.filter(name=CAMPAIGN).delete()
    Contact.objects.filter(email__endswith="@" + DOMAIN).delete()
    template, _ = EmailTemplate.objects.update_or_create(name=CAMPAIGN,
                                                         defaults=email_parts(shop_links))
    campaign = Campaign.objects.create(name=CAMPAIGN, template=template)
    run = CampaignRun.objects.create(campaign=campaign, key="bench",
                                     status=CampaignRun.Status.SENDING)
    now = timezone.now()
    Contact.objects.bulk_create(
        [Contact(email=f"c{i}@{DOMAIN}", first_name=f"Name{i}", last_name="Bench",
                 marketing_consent=True, consent_changed_at=now) for i in range(count)],
        batch_size=5000)
    contact_ids = Contact.objects.filter(email__endswith="@" + DOMAIN).values_list("id", flat=True)
    Message.objects.bulk_create(
        [Message(run=run, campaign=campaign, contact_id=cid, message_id=new_message_id())
         for cid in contact_ids.iterator()], batch_size=5000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE campaigns_message")
        cursor.execute("VACUUM ANALYZE customers_contact")
    return run.pk


# --- Child processes --------------------------------------------------------------------------

SENDER = """
import sys, time
sys.path.insert(0, {root!r})
from bench.generate import setup_django
setup_django()
from django.conf import settings
settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", {port}
settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
from campaigns.outbox import send_due_messages
print("ready", flush=True); sys.stdin.readline()
started, sent = time.time(), 0
while (report := send_due_messages(run_id={run_id}, limit={batch})).claimed:
    sent += report.sent
print(started, time.time(), sent, flush=True)
"""

RAW = """
import smtplib, sys, time
data = open({path!r}, "rb").read()
smtp = smtplib.SMTP("127.0.0.1", {port})
print("ready", flush=True); sys.stdin.readline()
started = time.time()
for i in range({count}):
    smtp.sendmail("news@shop.example", ["c%d@{domain}" % i],
                  data.replace(b"<BENCH-ID>", b"<raw-%d-%d@shop.example>" % ({index}, i)))
smtp.quit()
print(started, time.time(), {count}, flush=True)
"""


def run_children(sources: list[str]) -> tuple[float, int, float]:
    """Start the children, wait until all are ready, release them at once; (seconds, sent,
    CPU seconds of the children)."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [subprocess.Popen([sys.executable, "-c", source], cwd=ROOT, env=environ,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                for source in sources]
    for child in children:
        assert child.stdout.readline().strip() == "ready"
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    results, cpu = [], 0.0
    for child in children:
        results.append(child.stdout.readline().split())
        _pid, status, usage = os.wait4(child.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit("a child failed")
        cpu += usage.ru_utime + usage.ru_stime
    started = min(float(r[0]) for r in results)
    ended = max(float(r[1]) for r in results)
    return ended - started, sum(int(r[2]) for r in results), cpu


DKIM_KEY = ROOT / "campaigns" / "tests" / "dkim_test_key.pem"


def send_through_celery(run_id: int, sink_port: int, processes: int, batch: int,
                        dkim: bool = False, pool: str = "prefork") -> tuple[float, float]:
    """A prefork worker as deployed sends the run; (seconds from queueing to DONE, CPU seconds
    of the worker's processes). `dkim`: the worker signs every email."""
    from django.db import connection

    from campaigns.models import CampaignRun
    from campaigns.tasks import send_run_task

    db = connection.settings_dict
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings.production",
               "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-only"),
               "DJANGO_ALLOWED_HOSTS": "crm.example.com",
               "DATABASE_URL": (f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/"
                                f"{db['NAME']}"),
               "EMAIL_URL": f"smtp://127.0.0.1:{sink_port}", "CRM_EMAIL_BATCH_SIZE": str(batch),
               "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    if dkim:
        environ.update(CRM_DKIM_DOMAIN="shop.example", CRM_DKIM_SELECTOR="bench",
                       CRM_DKIM_PRIVATE_KEY_FILE=str(DKIM_KEY))
    log = open(Path("/tmp") / "crm-bench-worker.log", "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [str(Path(sys.executable).with_name("celery")), "-A", "crm", "worker", f"--pool={pool}",
         f"--concurrency={processes}", "--loglevel=WARNING", "--without-gossip",
         "--without-mingle"], cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT)
    try:
        time.sleep(8)  # the worker connects and forks its pool
        if worker.poll() is not None:
            sys.exit("the worker did not start: see /tmp/crm-bench-worker.log")
        before = os.times()
        started = time.monotonic()
        send_run_task.delay(run_id)  # what starting a campaign queues
        while CampaignRun.objects.get(pk=run_id).status != CampaignRun.Status.DONE:
            if worker.poll() is not None:
                sys.exit("the worker died: see /tmp/crm-bench-worker.log")
            time.sleep(0.05)
        seconds = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(60)
        log.close()
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system
                                                          - before.children_system)
    return seconds, cpu


def sample_email(path: Path) -> None:
    """One email as the sending code builds it, with a placeholder Message-ID, for raw smtplib."""
    from django.core.mail import get_connection

    from campaigns.models import Message
    from campaigns.rendering import build_email

    message = Message.objects.select_related("contact", "campaign__template").filter(
        campaign__name=CAMPAIGN).first()
    message.message_id = "<BENCH-ID>"
    path.write_bytes(build_email(message, get_connection()).message().as_bytes(linesep="\r\n"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--raw-messages", type=int, default=20_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/crm-bench"))
    parser.add_argument("--direct", action="store_true",
                        help="also time processes calling the sender directly (no Celery)")
    parser.add_argument("--no-shop-links", action="store_true",
                        help="the email without links to the shop (only the unsubscribe "
                             "link), as when the first sending aim (#15) was set")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads"],
                        help="the worker's pool; --processes is its concurrency")
    parser.add_argument("--reply-delay-ms", type=float, default=0.0,
                        help="the sink answers each email's final 250 this much later, as a "
                             "relay across a network does (default 0: loopback)")
    parser.add_argument("--dkim", action="store_true",
                        help="also send the same number with DKIM signing on")
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection
    from django.db.models import Count

    from campaigns.models import Message

    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL")
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"creating {args.messages:,} contacts and outbox rows ...", flush=True)
    run_id = create_outbox(args.messages, shop_links=not args.no_shop_links)
    connection.close()
    sink = Sink(args.reply_delay_ms / 1000)
    direct = None
    try:
        print(f"sending through a Celery prefork worker, concurrency {args.processes} ...",
              flush=True)
        seconds, cpu = send_through_celery(run_id, sink.port, args.processes, args.batch,
                                           pool=args.pool)
        received, distinct, duplicated, _signed = sink.ask("stats")
        statuses = dict(Message.objects.filter(run_id=run_id).order_by().values("status")
                        .annotate(n=Count("id")).values_list("status", "n"))
        sent = statuses.get("sent", 0)
        sample_email(args.workdir / "sample.eml")
        signed = None
        if args.dkim:
            run_id = create_outbox(args.messages, shop_links=not args.no_shop_links)
            connection.close()
            sink.ask("reset")
            print("sending with DKIM signing through the same worker setup ...", flush=True)
            s_seconds, s_cpu = send_through_celery(run_id, sink.port, args.processes,
                                                   args.batch, dkim=True, pool=args.pool)
            s_stats = sink.ask("stats")
            s_statuses = dict(Message.objects.filter(run_id=run_id).order_by().values("status")
                              .annotate(n=Count("id")).values_list("status", "n"))
            signed = (s_seconds, s_cpu, s_stats, s_statuses)
        if args.direct:
            run_id = create_outbox(args.messages, shop_links=not args.no_shop_links)
            connection.close()
            sink.ask("reset")
            print(f"sending directly (no Celery) with {args.processes} processes ...",
                  flush=True)
            direct = run_children([
                SENDER.format(root=str(ROOT), port=sink.port, run_id=run_id, batch=args.batch)
                for _ in range(args.processes)])
        sink.ask("reset")
        per = args.raw_messages // args.processes
        print(f"raw smtplib with {args.processes} processes ...", flush=True)
        raw_seconds, raw_sent, raw_cpu = run_children([
            RAW.format(path=str(args.workdir / "sample.eml"), port=sink.port, count=per,
                       domain=DOMAIN, index=i) for i in range(args.processes)])
        raw_received = sink.ask("stats")[0]
    finally:
        sink.stop()
    rate, raw_rate = sent / seconds, raw_sent / raw_seconds
    print(f"\noutbox statuses: {statuses}")
    print(f"sink: {received:,} received, {distinct:,} distinct Message-IDs, "
          f"{duplicated} duplicated; raw: {raw_received:,} received")
    print("| path | emails | processes | seconds | emails/s | sender CPU s (worker: with its start-up) |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| outbox through Celery (prefork worker, batch {args.batch}) | {sent:,} | "
          f"{args.processes} | {seconds:.1f} | {rate:,.0f} | {cpu:.1f} |")
    if direct:
        d_seconds, d_sent, d_cpu = direct
        print(f"| outbox called directly (no Celery) | {d_sent:,} | {args.processes} | "
              f"{d_seconds:.1f} | {d_sent / d_seconds:,.0f} | {d_cpu:.1f} |")
    print(f"| raw smtplib, same sink | {raw_sent:,} | {args.processes} | {raw_seconds:.1f} "
          f"| {raw_rate:,.0f} | {raw_cpu:.1f} |")
    if signed:
        s_seconds, s_cpu, s_stats, s_statuses = signed
        s_sent = s_statuses.get("sent", 0)
        print(f"| outbox through Celery, DKIM-signed (rsa-sha256, 2048 bits) | {s_sent:,} | "
              f"{args.processes} | {s_seconds:.1f} | {s_sent / s_seconds:,.0f} | {s_cpu:.1f} |")
    print(f"ratio outbox / raw: {rate / raw_rate:.2f}; target {TARGET_PER_SECOND}/s: "
          f"{'met' if rate >= TARGET_PER_SECOND else 'NOT met'}")
    if signed:
        s_rate = s_sent / s_seconds
        print(f"ratio signed outbox / raw: {s_rate / raw_rate:.2f}; signed / unsigned: "
              f"{s_rate / rate:.2f}; target {TARGET_PER_SECOND}/s with DKIM: "
              f"{'met' if s_rate >= TARGET_PER_SECOND else 'NOT met'}")
        print(f"signed run sink: {s_stats[0]:,} received, {s_stats[1]:,} distinct, "
              f"{s_stats[2]} duplicated, {s_stats[3]:,} carrying a DKIM-Signature")
        if not (s_stats[0] == s_stats[1] == s_stats[3] == s_sent == args.messages
                and s_stats[2] == 0):
            sys.exit("check failed: the signed run did not deliver every message once, signed")
    ok = (received == distinct == sent == args.messages and duplicated == 0
          and statuses == {"sent": args.messages})
    if not ok:
        sys.exit("check failed: not every message arrived exactly once")
    print("check: every Message-ID arrived exactly once, every row SENT")


if __name__ == "__main__":
    main()

"""The click redirect under load: 50 concurrent clients, on PostgreSQL, through gunicorn with
the shipped (production) settings.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/bench_clicks.py \
        [--seconds 30] [--emails 2000]

Makes --emails sent campaign emails (handed over an hour ago) and a click link for each
(campaigns.clicks), starts gunicorn (5 sync workers, as deploy/gunicorn.conf.py picks on 2
cores) serving crm.wsgi, and runs wrk with 50 connections GETting the links in turn with a
phone browser's user agent: the token verified, the click recorded once (INSERT ... SELECT ...
ON CONFLICT DO NOTHING), 302 to the shop. Beside it, from the same run and server: /healthz
under the same load, and the ratios. Aim (#21 point 6): p99 <= 20 ms under 50 concurrent
clients. Checks afterwards: one click recorded per email, none twice.
"""
import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.local")
os.environ["DJANGO_DEBUG"] = "false"

SCRIPT = ROOT / "bench" / "lua" / "clicks.lua"
CONNECTIONS = 50


def wrk_clicks(server: subprocess.Popen, url: str, seconds: int, paths_file: Path | None):
    """wrk with 50 connections: the click links in turn, or (no file) `url` itself."""
    from bench.bench_dashboard import wrk

    if paths_file:
        return wrk(server, url, seconds, connections=CONNECTIONS, script=SCRIPT,
                   script_args=(str(paths_file),))
    return wrk(server, url, seconds, "-H", "X-Forwarded-Proto: https",
               connections=CONNECTIONS)


def sent_emails(count: int, label: str) -> list[int]:
    """`count` sent emails of one campaign run, to as many contacts (set-based)."""
    from django.utils import timezone

    from campaigns.models import Campaign, CampaignRun, EmailTemplate, Message
    from campaigns.rendering import new_message_id
    from customers.models import Contact

    template = EmailTemplate.objects.create(name=f"Clicks {label}", subject="Hi",
                                            body_text="https://shop.example.com/")
    campaign = Campaign.objects.create(name=f"Clicks {label}", template=template)
    run = CampaignRun.objects.create(campaign=campaign, key=label,
                                     status=CampaignRun.Status.DONE)
    contacts = Contact.objects.bulk_create(
        [Contact(email=f"{label}-{n}@example.com", marketing_consent=True)
         for n in range(count)], batch_size=1000)
    sent_at = timezone.now() - dt.timedelta(hours=1)
    messages = Message.objects.bulk_create(
        [Message(run=run, campaign=campaign, contact=contact, status=Message.Status.SENT,
                 message_id=new_message_id(), to_email=contact.email, sent_at=sent_at)
         for contact in contacts], batch_size=1000)
    return [message.pk for message in messages]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--emails", type=int, default=2000)
    args = parser.parse_args(argv)
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("Set DATABASE_URL to a PostgreSQL database and REDIS_URL.")
    os.environ.setdefault("CRM_SHOPS_ENCRYPTION_KEYS",
                          "x7Q3x1oVNvdxbQF9sm2mXkNfWPmCOW6XAJtKwTHCKAk=")

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.bench_dashboard import _free_port, load_table, stack_env
    from bench.bench_import import machine
    from bench.bench_shop_webhooks import start_gunicorn
    from campaigns.clicks import click_token
    from campaigns.models import LinkClick

    print(machine())
    label = f"c{int(time.time())}"
    ids = sent_emails(args.emails, label)
    paths_file = Path(tempfile.mkstemp(suffix=".txt")[1])
    paths_file.write_text("".join(
        f"/email/c/{click_token(pk, f'https://shop.example.com/kampanya?e={pk}')}/\n"
        for pk in ids))
    port = _free_port()
    env = stack_env(WEB_CONCURRENCY="5", CRM_PUBLIC_URL=f"http://127.0.0.1:{port}",
                    CRM_SHOPS_ENCRYPTION_KEYS=os.environ["CRM_SHOPS_ENCRYPTION_KEYS"])
    server = start_gunicorn(port, env)
    base = f"http://127.0.0.1:{port}"
    try:
        wrk_clicks(server, base, 3, paths_file)  # warm-up: every worker's caches
        load = wrk_clicks(server, base, args.seconds, paths_file)
        # The same-run baseline: /healthz with as many connections, through the same stack.
        baseline = wrk_clicks(server, f"{base}/healthz", args.seconds, None)
    finally:
        server.terminate()
        server.wait(timeout=30)
        paths_file.unlink()
    clicks = LinkClick.objects.filter(message_id__in=ids)
    print(load_table(f"click redirect ({CONNECTIONS} clients)", load, load.requests, baseline))
    print(f"{load.requests:,} clicks answered, {load.errors} errors; {clicks.count():,} clicks "
          f"recorded for {len(ids):,} emails (one per email: "
          f"{'yes' if clicks.count() <= len(ids) else 'NO'})")
    p99 = load.latency.get(99)
    print(f"aim p99 <= 20 ms under {CONNECTIONS} concurrent clients: "
          f"{'met' if p99 is not None and p99 <= 20 else 'not met'} (p99 {p99} ms)")


if __name__ == "__main__":
    main()

"""A store's webhook door under load: 20 concurrent deliveries, on PostgreSQL, through
gunicorn with the shipped (production) settings.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/bench_shop_webhooks.py \
        [--seconds 30]

Connects a store (the bench platform: the stub's signature, base64 HMAC-SHA256 of the body),
starts gunicorn (5 sync workers, as deploy/gunicorn.conf.py picks on 2 cores) serving
bench.shop_wsgi (crm.wsgi with the bench platform registered), then runs wrk with 20
connections POSTing a signed order delivery (2 KB, three lines) to /shops/webhooks/<token>/,
each request with its own delivery id: the signature checked, the body stored, the processing
queued in Redis (no worker drains it during the run: the door's own cost), 200. Beside it,
from the same run and server: /healthz under the same load, and the ratios.
Aim (#20 point 5): p99 < 50 ms with 20 concurrent deliveries.
Checks afterwards: every 200 is one stored delivery.
"""
import argparse
import json
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

SCRIPT = ROOT / "bench" / "lua" / "shop_webhooks.lua"


def start_gunicorn(port: int, env: dict) -> subprocess.Popen:
    from bench.bench_dashboard import start_gunicorn as start

    return start(port, env, app="bench.shop_wsgi:application", ready_path="/healthz")


def wrk_script(server: subprocess.Popen, url: str, seconds: int, *script_args: str):
    """wrk -c20 with the deliveries script (its arguments after the URL), with the CPU of the
    bench's own stack."""
    from bench.bench_dashboard import wrk

    return wrk(server, url, seconds, script=SCRIPT, script_args=script_args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args(argv)
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("Set DATABASE_URL to a PostgreSQL database and REDIS_URL.")
    key = os.environ.setdefault(
        "CRM_SHOPS_ENCRYPTION_KEYS", "x7Q3x1oVNvdxbQF9sm2mXkNfWPmCOW6XAJtKwTHCKAk=")

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import bench.shop_stub  # noqa: F401 - the bench platform
    from bench.bench_dashboard import _free_port, load_table, stack_env, trivial_page
    from bench.bench_import import machine
    from shops.models import Store, WebhookDelivery
    from shops.tests.stub_platform import order_json, sign

    print(machine())
    label = f"w{int(time.time())}"
    secret = "bench-webhook-secret"
    store = Store(platform="benchshop", name=f"Webhooks {label}", key=label,
                  base_url="https://shop.example.com")
    store.set_credentials({"token": "t"})
    store.set_webhook_secret(secret)
    store.save()
    body = json.dumps(order_json(1, email="buyer@example.com")).encode()
    body_file = Path(tempfile.mkstemp(suffix=".json")[1])
    body_file.write_bytes(body)

    port = _free_port()
    env = stack_env(CRM_SHOPS_ENCRYPTION_KEYS=key, WEB_CONCURRENCY="5",
                    CRM_PUBLIC_URL=f"http://127.0.0.1:{port}")
    server = start_gunicorn(port, env)
    base = f"http://127.0.0.1:{port}"
    path = f"/shops/webhooks/{store.webhook_token}/"
    try:
        wrk_script(server, base + path, 3, path, "order.updated", sign(secret, body),
                   str(body_file), f"{label}-warm")  # warm-up: every worker's caches
        before = WebhookDelivery.objects.filter(store=store).count()
        load = wrk_script(server, base + path, args.seconds, path, "order.updated",
                          sign(secret, body), str(body_file), label)
        stored = WebhookDelivery.objects.filter(store=store).count() - before
        baseline = trivial_page(server, base, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
        body_file.unlink()
    print(load_table("signed order delivery", load, load.requests, baseline))
    print(f"{load.requests:,} deliveries answered, {load.errors} errors, {stored:,} stored "
          f"(requests still in flight when wrk stops are stored but not counted: a few more)")
    p99 = load.latency.get(99)
    print(f"aim p99 < 50 ms with 20 concurrent deliveries: "
          f"{'met' if p99 is not None and p99 < 50 else 'not met'} (p99 {p99} ms)")


if __name__ == "__main__":
    main()

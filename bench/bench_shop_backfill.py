"""A store's backfill through the connector, on PostgreSQL, from a fake API served locally.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/bench_shop_backfill.py \
        [--orders 100000] [--lines 3] [--page 250] [--in-process]

Serves `--orders` orders of `--lines` lines each (the stub platform's contract JSON, pages
of `--page`, a cursor per page) from a local HTTP server, connects a store to it, starts its
backfill with sync_start and lets a real Celery worker (started here, `--pool solo`, the
bench platform included) run the job: pages read over HTTP, parsed, imported set-based
(shops.services.orders.orders_ingest -> customers.imports.purchases.purchases_import_rows),
ShopOrder rows and line maps written, the job's cursor stored after each page. The figure is
the job's own started -> finished time (the worker's start-up excluded) and orders/s.
`--in-process` runs the job in this process instead (no broker needed).

Same-run baseline: the same orders' rows (one per line) imported with purchases_import_rows
in chunks of the same page size, in this process, without HTTP, parsing or ShopOrder rows:
the connector's cost over the bare import. Aim (#20 point 5): >= 2,000 orders/s.

Checks afterwards: one purchase per order, `--lines` lines each, the products once.
"""
import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.local")
os.environ["DJANGO_DEBUG"] = "false"  # no query log growing in memory
os.environ["CRM_SHOPS_ALLOW_PRIVATE_ADDRESSES"] = "true"

CATEGORIES = ["Kahve", "Çay", "Ev", "Tatlı", "Baharat", "Kitap"]


def order_pages(orders: int, lines: int, page: int, *, domain: str) -> list[bytes]:
    """The fake API's answers, made once: page i's body, its `next` cursor i+1."""
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    bodies = []
    for first in range(0, orders, page):
        chunk = []
        for number in range(first + 1, min(first + page, orders) + 1):
            at = (start + dt.timedelta(minutes=7 * number)).isoformat()
            chunk.append({
                "id": number, "number": f"#{number}", "created_at": at, "updated_at": at,
                "state": "paid", "currency": "TRY", "code": "", "channel": "web",
                "refunds": [],
                "customer": {"email": f"c{number % (orders // 3 + 1)}@{domain}",
                             "first_name": "Ada", "last_name": f"Buyer{number % 997}"},
                "lines": [{"id": f"{number}-{k}", "sku": f"SKU-{(number * 7 + k) % 2000}",
                           "name": f"Product {(number * 7 + k) % 2000}",
                           "category": CATEGORIES[(number * 7 + k) % 2000 % len(CATEGORIES)],
                           "quantity": str(1 + (number + k) % 3),
                           "unit_price": f"{10 + (number * 13 + k) % 490}.90",
                           "discount": "1.00" if k == 0 else "0"} for k in range(lines)]})
        last = first + page >= orders
        bodies.append(json.dumps({"orders": chunk, "total": orders,
                                  "next": None if last else str(len(bodies) + 1)}).encode())
    return bodies


def serve(pages: list[bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            query = parse_qs(urlsplit(self.path).query)
            index = int(query.get("after", ["0"])[0] or 0)
            body = pages[index] if urlsplit(self.path).path == "/orders" else b'{"name": "x"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_worker() -> subprocess.Popen:
    env = {**os.environ}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool", "solo",
         "--include", "bench.shop_stub", "--without-heartbeat", "--without-mingle",
         "--without-gossip", "--loglevel", "WARNING"], cwd=ROOT, env=env)
    return worker


def wait_done(job_id: int, timeout: float) -> None:
    from shops.models import SyncJob

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = SyncJob.objects.filter(pk=job_id).values_list("status", flat=True).get()
        if status in (SyncJob.Status.DONE, SyncJob.Status.FAILED):
            return
        time.sleep(0.5)
    sys.exit("the job did not finish in time")


def baseline(pages: list[bytes], *, key: str) -> float:
    """The same orders' rows through purchases_import_rows, page by page: seconds."""
    from customers.imports.purchases import purchases_import_rows
    from shops.services.orders import _import_rows
    from shops.tests.stub_platform import order_from_json

    parsed = [[order_from_json(order) for order in json.loads(body)["orders"]]
              for body in pages]
    rows = [_import_rows(orders)[0] for orders in parsed]
    started = time.perf_counter()
    for chunk in rows:
        purchases_import_rows(rows=chunk, source=f"base:{key}", skip_invalid=True,
                              historical=True, store=f"base-{key}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--page", type=int, default=250)
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (and REDIS_URL for the worker).")
    os.environ["CRM_BENCH_SHOP_PAGE"] = str(args.page)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import bench.shop_stub  # noqa: F401 - registers the bench platform here too
    from bench.bench_import import machine
    from customers.models import Product, Purchase, PurchaseLine
    from shops.models import ShopOrder, Store, SyncJob
    from shops.services.sync import sync_job_run, sync_start

    print(machine())
    key = f"b{int(time.time())}"
    made = time.perf_counter()
    pages = order_pages(args.orders, args.lines, args.page, domain=f"{key}.example.com")
    print(f"{len(pages)} pages of {args.page} made in {time.perf_counter() - made:.1f} s")
    server = serve(pages)
    host, port = server.server_address[:2]
    store = Store(platform="benchshop", name=f"Bench {key}", key=key,
                  base_url=f"http://{host}:{port}")
    store.set_credentials({"token": "good-token"})
    store.save()

    worker = None
    try:
        if args.in_process:
            job = SyncJob.objects.create(store=store, kind=SyncJob.Kind.BACKFILL)
            sync_job_run(job.pk)
        else:
            worker = start_worker()
            time.sleep(3)
            job = sync_start(store=store, kind=SyncJob.Kind.BACKFILL)
            wait_done(job.pk, timeout=3600)
        job.refresh_from_db()
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=60)
        server.shutdown()
    seconds = (job.finished_at - job.started_at).total_seconds()
    purchases = Purchase.objects.filter(source=store.source)
    checks = {
        "status": job.status, "purchases": purchases.count(),
        "lines": PurchaseLine.objects.filter(purchase__source=store.source).count(),
        "products": Product.objects.filter(store=store.key).count(),
        "shop orders with a line map": ShopOrder.objects.filter(store=store).exclude(
            line_map={}).count(),
    }
    print(f"connector ({'in-process' if args.in_process else 'Celery worker'}): "
          f"{args.orders:,} orders x {args.lines} lines in {seconds:.1f} s = "
          f"{args.orders / seconds:,.0f} orders/s ({job.pages} pages)")
    print("checks:", checks)
    ok = (checks["purchases"] == args.orders and checks["lines"] == args.orders * args.lines
          and checks["shop orders with a line map"] == args.orders)
    if not args.no_baseline:
        # Other customers' addresses: contacts are new in both runs (the same work).
        pages = order_pages(args.orders, args.lines, args.page, domain=f"base-{key}.example.com")
        base = baseline(pages, key=key)
        print(f"baseline purchases_import_rows, same rows, same chunks: {base:.1f} s = "
              f"{args.orders / base:,.0f} orders/s; connector/baseline time "
              f"{seconds / base:.2f}x")
    print(f"aim >= 2,000 orders/s: {'met' if args.orders / seconds >= 2000 else 'not met'}; "
          f"checks {'passed' if ok else 'FAILED'}")


if __name__ == "__main__":
    main()

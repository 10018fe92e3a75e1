"""What was bought, at scale, on PostgreSQL: the nightly product figures and the daily reads.

    DATABASE_URL=postgres://... python bench/bench_bought.py [--contacts 1000000]
        [--purchases 4000000]

Loads contacts and purchases (bench.generate) if the tables do not hold them, then gives every
purchase 1 to 4 lines (2.5 on average: 10,000,000 lines for 4,000,000 purchases) in one
INSERT ... SELECT. Each contact buys from a "taste" of 7 neighbouring products out of about
6,000 (neighbourhoods overlap), so contacts share pairs as real shops' customers do; 5% of
lines are refunded. Then times, wall clock:

* customers.bought.pairs.product_pairs_refresh (the set-based co-occurrence SQL);
* customers.bought.pairs.product_reorder_refresh (gaps in SQL, medians in Python);
* customers.bought.selectors.reorder_due for today (the daily trigger's read);
* usual_products and also_bought for a sending batch of 200 contacts.
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_scoring_job import ensure_data
from bench.generate import setup_django

LINES_SQL = """
INSERT INTO customers_product (store, sku, name, category, created_at, updated_at)
SELECT '', 'B-' || i, 'Product ' || i, 'Category ' || (i % 40), now(), now()
FROM generate_series(0, 6010) AS i ON CONFLICT DO NOTHING;

INSERT INTO customers_purchaseline (purchase_id, product_id, quantity, unit_price, discount,
                                    total, total_base, refunded_quantity)
SELECT p.id, pr.id, 1, 10, 0, 10, 10, CASE WHEN random() < 0.05 THEN 1 ELSE 0 END
FROM customers_purchase p
CROSS JOIN LATERAL generate_series(1, 1 + (p.id % 4)) AS g
JOIN customers_product pr
  ON pr.store = '' AND pr.sku = 'B-' || ((p.contact_id % 2000) * 3 + ((p.id * 7 + g * 3) % 7));
"""


def ensure_lines(purchases: int) -> None:
    from django.db import connection

    from customers.models import PurchaseLine

    expected = sum(1 + (i % 4) for i in range(4)) * purchases // 4
    have = PurchaseLine.objects.count()
    if abs(have - expected) < purchases // 10:
        print(f"using the {have:,} lines already loaded")
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE customers_purchaseline, customers_productpair, "
                       "customers_productreorder")
        cursor.execute(LINES_SQL)
        cursor.execute("VACUUM ANALYZE customers_purchaseline")
        cursor.execute("VACUUM ANALYZE customers_product")
    print(f"{PurchaseLine.objects.count():,} lines loaded in "
          f"{time.perf_counter() - started:.1f}s")


def timed(label: str, function):
    started = time.perf_counter()
    result = function()
    print(f"{label}: {time.perf_counter() - started:.1f}s -> {result}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=4_000_000)
    args = parser.parse_args()
    setup_django()
    from django.utils import timezone

    from customers.bought.pairs import product_pairs_refresh, product_reorder_refresh
    from customers.bought.selectors import also_bought, reorder_due, usual_products
    from customers.models import Contact

    ensure_data(args.contacts, args.purchases)
    ensure_lines(args.purchases)
    timed("product_pairs_refresh (pairs stored)", product_pairs_refresh)
    timed("product_reorder_refresh (products with an interval)", product_reorder_refresh)
    timed("reorder_due today (due pairs)",
          lambda: len(reorder_due(today=timezone.localdate())))
    batch = list(Contact.objects.filter(purchase_count__gt=2).values_list("pk", flat=True)[:200])
    timed("usual_products, 200 contacts", lambda: len(usual_products(batch)))
    timed("also_bought, 200 contacts", lambda: len(also_bought(batch)))


if __name__ == "__main__":
    main()

"""The nightly figures behind "also bought" and reorder reminders, set-based.

`product_pairs_refresh` replaces customers.ProductPair in one transaction with one
INSERT ... SELECT: counted lines (purchase not refunded, line not refunded in full) reduced to
distinct (contact, product), products bought by fewer than the minimum support dropped before
the self-join (they can pair with nothing), pairs counted once (a < b) and stored both ways
with their confidence and lift (customers.bought.stats, which the tests compare it with), the
best CRM_COOCCURRENCE_PER_PRODUCT per product kept (a window function).

`product_reorder_refresh` replaces customers.ProductReorder: the gaps between a contact's
distinct days of buying a product come from SQL (LAG), only for contacts who bought it on two
days or more; the medians are taken in Python (customers.bought.stats), streamed by product.
"""
import datetime as dt
from itertools import groupby

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import ProductPair, ProductReorder, Purchase, PurchaseLine
from .stats import median

_LINE, _PURCHASE = PurchaseLine._meta.db_table, Purchase._meta.db_table
# Counted lines: the purchase is not refunded, the line not refunded in full.
_COUNTED = f"""
    FROM {_LINE} l JOIN {_PURCHASE} p ON p.id = l.purchase_id
    WHERE p.refunded_at IS NULL AND l.refunded_quantity < l.quantity
"""
_PAIRS_SQL = f"""
WITH cp AS (SELECT DISTINCT p.contact_id AS contact_id, l.product_id AS product_id {_COUNTED}),
singles AS (SELECT product_id, COUNT(*) AS n FROM cp GROUP BY product_id),
total AS (SELECT COUNT(DISTINCT contact_id) AS n FROM cp),
kept AS (SELECT cp.contact_id, cp.product_id FROM cp
         JOIN singles s ON s.product_id = cp.product_id WHERE s.n >= %(min)s),
both_ AS (SELECT a.product_id AS a, b.product_id AS b, COUNT(*) AS n_ab
          FROM kept a JOIN kept b ON b.contact_id = a.contact_id AND a.product_id < b.product_id
          GROUP BY a.product_id, b.product_id HAVING COUNT(*) >= %(min)s),
directed AS (SELECT a AS product_id, b AS other_id, n_ab FROM both_
             UNION ALL SELECT b, a, n_ab FROM both_),
scored AS (SELECT d.product_id, d.other_id, d.n_ab,
                  CAST(d.n_ab AS DOUBLE PRECISION) / sa.n AS confidence,
                  CAST(d.n_ab * t.n AS DOUBLE PRECISION)
                      / CAST(sa.n * sb.n AS DOUBLE PRECISION) AS lift
           FROM directed d JOIN singles sa ON sa.product_id = d.product_id
           JOIN singles sb ON sb.product_id = d.other_id CROSS JOIN total t),
ranked AS (SELECT scored.*, ROW_NUMBER() OVER (
               PARTITION BY product_id ORDER BY lift DESC, n_ab DESC, other_id) AS place
           FROM scored)
INSERT INTO {ProductPair._meta.db_table}
    (product_id, other_id, contacts, confidence, lift, computed_at)
SELECT product_id, other_id, n_ab, confidence, lift, %(now)s FROM ranked
WHERE place <= %(per_product)s
"""


def product_pairs_refresh(*, now: dt.datetime | None = None) -> int:
    """Recompute every product pair; returns the pairs stored (both directions)."""
    params = {"min": settings.CRM_COOCCURRENCE_MIN_SUPPORT, "now": now or timezone.now(),
              "per_product": settings.CRM_COOCCURRENCE_PER_PRODUCT}
    with transaction.atomic(), connection.cursor() as cursor:
        ProductPair.objects.all().delete()
        cursor.execute(_PAIRS_SQL, params)
    # SQLite reports no row count for WITH ... INSERT: counted (products x 20 rows at most).
    return ProductPair.objects.count()


def _day_gap() -> str:
    if connection.vendor == "postgresql":
        return "purchased_on - LAG(purchased_on) OVER w"
    return "CAST(julianday(purchased_on) - julianday(LAG(purchased_on) OVER w) AS INTEGER)"


def _gaps_sql() -> str:
    return f"""
    WITH days AS (SELECT DISTINCT p.contact_id AS contact_id, l.product_id AS product_id,
                         p.purchased_on AS purchased_on {_COUNTED}),
    gaps AS (SELECT product_id, contact_id, {_day_gap()} AS gap FROM days
             WINDOW w AS (PARTITION BY product_id, contact_id ORDER BY purchased_on))
    SELECT product_id, contact_id, gap FROM gaps WHERE gap IS NOT NULL
    ORDER BY product_id, contact_id
    """


def _rows(cursor, size: int = 10_000):
    while chunk := cursor.fetchmany(size):
        yield from chunk


def product_reorder_refresh(*, now: dt.datetime | None = None) -> int:
    """Recompute every product's typical reorder interval; returns the products that have
    one (at least CRM_REORDER_MIN_CONTACTS contacts who bought it on two days or more)."""
    now, least = now or timezone.now(), settings.CRM_REORDER_MIN_CONTACTS
    found: list[ProductReorder] = []
    with transaction.atomic():
        with connection.chunked_cursor() as cursor:  # PostgreSQL: a server-side cursor
            cursor.execute(_gaps_sql())
            for product_id, rows in groupby(_rows(cursor), key=lambda row: row[0]):
                own = [median([gap for _p, _c, gap in gaps])
                       for _contact, gaps in groupby(rows, key=lambda row: row[1])]
                if len(own) >= least:
                    found.append(ProductReorder(product_id=product_id, contacts=len(own),
                                                median_days=int(median(own) + 0.5),
                                                computed_at=now))
        ProductReorder.objects.all().delete()
        ProductReorder.objects.bulk_create(found, batch_size=2000)
    return len(found)


def product_figures_refresh() -> tuple[int, int]:
    """The nightly job: pairs, then reorder intervals."""
    now = timezone.now()
    return product_pairs_refresh(now=now), product_reorder_refresh(now=now)

"""Reads of what contacts bought, for many contacts at once (a sending batch, a daily check).

Only counted lines count: the purchase is not refunded and the line not refunded in full.

    usual_products(contact_ids)   {contact: [ProductRef]} bought in the most distinct purchases
    also_bought(contact_ids)      {contact: [ProductRef]} others' pairs with their usual and last
    reorder_due(today=...)        [ReorderDue] whose typical interval has passed
"""
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

from django.conf import settings
from django.db.models import Count, F, Max, QuerySet

from ..models import Product, ProductPair, ProductReorder, PurchaseLine
from .stats import reorder_interval

USUAL_LIMIT = 3
ALSO_BOUGHT_LIMIT = 3
# The daily reorder check reads purchases of the last two years: a product last bought
# before that is not "running out".
REORDER_HORIZON_DAYS = 730


@dataclass(frozen=True)
class ProductRef:
    id: int
    name: str
    category: str

    def as_context(self) -> dict:
        """What a template may print: plain strings (escaped in HTML like any value)."""
        return {"name": self.name, "category": self.category}


@dataclass(frozen=True)
class ReorderDue:
    contact_id: int
    product_id: int
    last_purchased_on: dt.date
    interval_days: int
    due_on: dt.date


def counted_lines() -> QuerySet[PurchaseLine]:
    return PurchaseLine.objects.filter(purchase__refunded_at__isnull=True,
                                       refunded_quantity__lt=F("quantity"))


def _refs(product_ids: Iterable[int]) -> dict[int, ProductRef]:
    rows = Product.objects.filter(pk__in=set(product_ids)).values_list("pk", "name", "sku",
                                                                       "category")
    return {pk: ProductRef(pk, name or sku, category) for pk, name, sku, category in rows}


def _usual_ids(contact_ids: list[int], limit: int) -> dict[int, list[int]]:
    rows = (counted_lines().filter(purchase__contact_id__in=contact_ids)
            .values("purchase__contact_id", "product_id")
            .annotate(purchases=Count("purchase_id", distinct=True),
                      last=Max("purchase__purchased_at"))
            .order_by("purchase__contact_id", "-purchases", "-last", "product_id"))
    usual: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        if len(ids := usual[row["purchase__contact_id"]]) < limit:
            ids.append(row["product_id"])
    return usual


def usual_products(contact_ids: Iterable[int], *, limit: int = USUAL_LIMIT
                   ) -> dict[int, list[ProductRef]]:
    """Each contact's most repeated products: bought in the most distinct purchases, ties
    to the one bought most recently. Two queries for any number of contacts."""
    usual = _usual_ids(list(contact_ids), limit)
    refs = _refs(pk for ids in usual.values() for pk in ids)
    return {contact: [refs[pk] for pk in ids] for contact, ids in usual.items()}


def _last_purchase_products(contact_ids: list[int]) -> dict[int, set[int]]:
    """The products of each contact's latest purchase that has counted lines."""
    rows = (counted_lines().filter(purchase__contact_id__in=contact_ids)
            .values_list("purchase__contact_id", "purchase__purchased_at", "purchase_id",
                         "product_id")
            .order_by("purchase__contact_id", "-purchase__purchased_at", "-purchase_id"))
    last: dict[int, set[int]] = {}
    for contact_id, group in groupby(rows, key=lambda row: row[0]):
        lines = list(group)
        last[contact_id] = {row[3] for row in lines if row[2] == lines[0][2]}
    return last


def also_bought(contact_ids: Iterable[int], *, limit: int = ALSO_BOUGHT_LIMIT
                ) -> dict[int, list[ProductRef]]:
    """Products other contacts bought with this contact's usual or last products (the
    nightly customers.ProductPair), best lift first, never one the contact ever had on a
    line (refunded or not). Four queries for any number of contacts."""
    ids = list(contact_ids)
    sources = _usual_ids(ids, USUAL_LIMIT)
    for contact_id, products in _last_purchase_products(ids).items():
        sources[contact_id] = list(dict.fromkeys([*sources[contact_id], *products]))
    had: dict[int, set[int]] = defaultdict(set)
    for contact_id, product_id in (PurchaseLine.objects.filter(purchase__contact_id__in=ids)
                                   .values_list("purchase__contact_id", "product_id")):
        had[contact_id].add(product_id)
    pairs: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for product_id, other_id, lift, contacts in ProductPair.objects.filter(
            product_id__in={pk for products in sources.values() for pk in products}
    ).values_list("product_id", "other_id", "lift", "contacts"):
        pairs[product_id].append((lift, contacts, other_id))
    chosen = {contact_id: _best_others(products, pairs, had[contact_id], limit)
              for contact_id, products in sources.items()}
    refs = _refs(pk for others in chosen.values() for pk in others)
    return {contact_id: [refs[pk] for pk in others]
            for contact_id, others in chosen.items() if others}


def _best_others(products: list[int], pairs: dict, had: set[int], limit: int) -> list[int]:
    best: dict[int, tuple[float, int]] = {}
    for product_id in products:
        for lift, contacts, other_id in pairs.get(product_id, ()):
            if other_id not in had:
                best[other_id] = max(best.get(other_id, (lift, contacts)), (lift, contacts))
    ranked = sorted(best, key=lambda pk: (-best[pk][0], -best[pk][1], pk))
    return ranked[:limit]


def _days_rows(today: dt.date, contact_ids: Iterable[int] | None):
    since = today - dt.timedelta(days=REORDER_HORIZON_DAYS)
    lines = counted_lines().filter(purchase__purchased_on__gte=since,
                                   purchase__purchased_on__lte=today)
    if contact_ids is not None:
        lines = lines.filter(purchase__contact_id__in=list(contact_ids))
    return (lines.values_list("purchase__contact_id", "product_id", "purchase__purchased_on")
            .distinct().order_by("purchase__contact_id", "product_id",
                                 "purchase__purchased_on").iterator(chunk_size=10_000))


def reorder_due(*, today: dt.date, catch_up_days: int | None = None,
                contact_ids: Iterable[int] | None = None) -> list[ReorderDue]:
    """(contact, product) whose reorder interval has passed since the contact last bought
    it: due today or within the last `catch_up_days` (CRM_REORDER_CATCH_UP_DAYS). The
    interval is the contact's own median where they bought it on two days or more, else the
    product's (customers.ProductReorder); without either, nothing is due."""
    catch_up = settings.CRM_REORDER_CATCH_UP_DAYS if catch_up_days is None else catch_up_days
    product_days = dict(ProductReorder.objects.values_list("product_id", "median_days"))
    due = []
    for (contact_id, product_id), rows in groupby(_days_rows(today, contact_ids),
                                                  key=lambda row: row[:2]):
        days = [row[2] for row in rows]
        interval = reorder_interval(days, product_days.get(product_id))
        if interval is None:
            continue
        interval_days = max(int(interval + 0.5), 1)
        due_on = days[-1] + dt.timedelta(days=interval_days)
        if today - dt.timedelta(days=catch_up) <= due_on <= today:
            due.append(ReorderDue(contact_id, product_id, days[-1], interval_days, due_on))
    return due

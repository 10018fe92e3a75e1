"""The covariate model's attributes from the database, as of a day (set-based).

customers' own: the first purchase's reporting channel (Purchase.channel, the shop's label mapped
through ChannelMapping) and acquisition source (Purchase.source), as categorical level codes.
The apps above customers add theirs through customers.hooks.scoring_features (survey score,
support cases, website events, email engagement) and, once order lines exist,
customers.hooks.scoring_products. The model code (model/attributes.py) sees only arrays.

Level codes: the channel's position in Channel (stable), the source's CRC-32 (stable across runs
and processes, unlike hash()); words for them come from the contact's own purchase
(report.py), so no table of levels is kept.

The first order's categories (order lines, issue #20): the shop's CRM_SCORING_FIRST_ORDER_
CATEGORIES most common categories among first orders (counted in contacts, as of the scoring
day, set-based) each become a numeric attribute "first_category:<CRC-32 of the category>":
1 when the contact's first order had a line of that category, 0 when it had lines but none of
it, unknown (absent) when it had no lines. The categories are chosen once when a run trains;
scoring reads the ones its model was trained on (model_categories), so training and scoring
always build the same columns. A shop without lines has no such attribute: its scores are
exactly as before.
"""
import datetime as dt
import zlib

import numpy as np
from django.conf import settings
from django.db.models import Count, F

from .. import hooks
from ..models import Channel, Contact, Purchase, PurchaseLine
from ..normalise import shop_timezone
from .model.attributes import UNKNOWN, Attributes, AttributeSource, combine, empty, from_pairs
from .store import day_index

CHANNELS = tuple(Channel.values)  # level code = position


def channel_code(channel: str) -> int:
    return CHANNELS.index(channel) if channel in CHANNELS else UNKNOWN


def source_code(source: str) -> int:
    return zlib.crc32(source.strip().lower().encode())


def contact_filter(queryset, contact_ids, field: str = "contact_id"):
    """The queryset limited to an id range (first, last), a list of ids, or everyone (None)."""
    if isinstance(contact_ids, tuple):
        first, last = contact_ids
        return queryset.filter(**{f"{field}__gte": first, f"{field}__lte": last})
    if contact_ids is not None:
        return queryset.filter(**{f"{field}__in": list(contact_ids)})
    return queryset


def day_end(day: dt.date) -> dt.datetime:
    """The first instant after `day` in the shop's time zone: "as of day" means before it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=shop_timezone())


def first_purchase_attributes(*, as_of: dt.date, contact_ids=None) -> Attributes:
    """Categorical "channel" and "source" of each contact's first live purchase on or before
    as_of (the one at Contact.first_purchase_at; the lowest id on a tie)."""
    purchases = contact_filter(
        Purchase.objects.filter(refunded_at__isnull=True, purchased_on__lte=as_of,
                                contact__first_purchase_at=F("purchased_at")),
        contact_ids)
    rows = purchases.order_by("contact_id", "id").values_list("contact_id", "channel", "source")
    ids, channels, sources = [], [], []
    seen = -1
    for contact_id, channel, source in rows.iterator(chunk_size=20_000):
        if contact_id == seen:
            continue
        seen = contact_id
        ids.append(contact_id)
        channels.append(channel_code(channel))
        sources.append(source_code(source))
    return Attributes(np.asarray(ids, dtype=np.int64), {},
                      {"channel": np.asarray(channels, dtype=np.int64),
                       "source": np.asarray(sources, dtype=np.int64)})


CATEGORY_ATTRIBUTE = "first_category:"


def category_code(category: str) -> int:
    """A category's stable code: its words, lower-cased, CRC-32 (the model's column names)."""
    return zlib.crc32(" ".join(category.split()).lower().encode())


def _first_order_lines(as_of: dt.date):
    return PurchaseLine.objects.filter(
        purchase__refunded_at__isnull=True, purchase__purchased_on__lte=as_of,
        purchase__contact__first_purchase_at=F("purchase__purchased_at"))


def first_order_top_categories(*, as_of: dt.date) -> tuple[int, ...]:
    """The codes of the shop's CRM_SCORING_FIRST_ORDER_CATEGORIES categories found in most
    contacts' first orders as of as_of (the whole shop, whoever is scored; one query)."""
    limit = settings.CRM_SCORING_FIRST_ORDER_CATEGORIES
    if limit <= 0:
        return ()
    counts: dict[int, int] = {}
    rows = (_first_order_lines(as_of).exclude(product__category="")
            .values_list("product__category")
            .annotate(contacts=Count("purchase__contact_id", distinct=True)))
    for category, contacts in rows:
        code = category_code(category)
        counts[code] = counts.get(code, 0) + contacts
    return tuple(sorted(counts, key=lambda code: (-counts[code], code))[:limit])


def first_order_categories(*, as_of: dt.date, categories, contact_ids=None) -> Attributes:
    """Numeric "first_category:<code>" for each of `categories`: 1 if the contact's first live
    order (at Contact.first_purchase_at) on or before as_of had a line of it, 0 if it had
    lines but none of it; contacts whose first order had no lines are left out (unknown)."""
    if not categories:
        return empty()
    rows = (contact_filter(_first_order_lines(as_of), contact_ids, "purchase__contact_id")
            .values_list("purchase__contact_id", "product__category").distinct())
    position = {int(code): column for column, code in enumerate(categories)}
    had: dict[int, set[int]] = {}
    for contact_id, category in rows.iterator(chunk_size=20_000):
        columns = had.setdefault(contact_id, set())
        column = position.get(category_code(category))
        if column is not None:
            columns.add(column)
    ids = np.asarray(sorted(had), dtype=np.int64)
    values = np.zeros((len(position), len(ids)))
    for row, contact_id in enumerate(ids.tolist()):
        for column in had[contact_id]:
            values[column, row] = 1.0
    return Attributes(ids, {f"{CATEGORY_ATTRIBUTE}{code}": values[column]
                            for code, column in position.items()})


def model_categories(features) -> tuple[int, ...]:
    """The category codes a trained model's feature names use ("num:first_category:123")."""
    from .model.covariate import feature_source

    codes = {int(source.removeprefix(CATEGORY_ATTRIBUTE)) for source in map(feature_source,
                                                                              features)
             if source.startswith(CATEGORY_ATTRIBUTE)}
    return tuple(sorted(codes))


def attributes_at(day: dt.date, *, contact_ids=None,
                  first_purchases: Attributes | None = None,
                  categories: tuple[int, ...] | None = None) -> Attributes:
    """Everything known about the contacts as of the end of `day`: customers' own attributes
    and every app's (hooks.scoring_features, hooks.scoring_products). `categories`: the
    first-order categories to read (a trained model's); by default the shop's top ones."""
    own = first_purchases or first_purchase_attributes(as_of=day, contact_ids=contact_ids)
    if categories is None:
        categories = first_order_top_categories(as_of=day)
    parts = [own]
    if categories:
        parts.append(first_order_categories(as_of=day, categories=categories,
                                            contact_ids=contact_ids))
    for hook in (hooks.scoring_features, hooks.scoring_products):
        parts.extend(part for part in hook.call(day, contact_ids) if part is not None)
    return combine(parts)


def attribute_source(*, as_of: dt.date, contact_ids=None) -> AttributeSource:
    """For pipeline.fit: attributes as of any day up to as_of (asked for a few cutoffs a run;
    the first purchases are read once, as of as_of: a contact whose first purchase came later
    than an earlier cutoff is not in that cutoff's snapshot anyway)."""
    first = first_purchase_attributes(as_of=as_of, contact_ids=contact_ids)
    categories = first_order_top_categories(as_of=as_of)
    base = day_index(as_of)

    def source(day: int) -> Attributes:
        if day > base:
            raise ValueError("attributes asked for a day after the scoring date")
        return attributes_at(as_of - dt.timedelta(days=base - day), contact_ids=contact_ids,
                             first_purchases=first, categories=categories)

    return source


def contact_first_purchase(contact: Contact) -> Purchase | None:
    """The contact's first live purchase (for the words of its drivers)."""
    return (Purchase.objects.filter(contact=contact, refunded_at__isnull=True)
            .order_by("purchased_at", "id").first())


def pairs(rows, *, categorical: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(ids, values) arrays from (contact_id, value) rows, for providers."""
    rows = list(rows)
    if not rows:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64 if categorical else float)
    ids, values = zip(*rows, strict=True)
    return from_pairs(ids, [np.nan if v is None else v for v in values], categorical=categorical)


def numeric(**columns: tuple[np.ndarray, np.ndarray]) -> Attributes:
    """One Attributes from several (ids, values) numeric columns (unknown where absent)."""
    return combine([Attributes(ids, {name: values}) for name, (ids, values) in columns.items()])


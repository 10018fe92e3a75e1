"""The covariate model's attributes from the database, as of a day (set-based).

customers' own: the first purchase's reporting channel (Purchase.channel, the shop's label mapped
through ChannelMapping) and acquisition source (Purchase.source), as categorical level codes.
The apps above customers add theirs through customers.hooks.scoring_features (survey score,
support cases, website events, email engagement) and, once order lines exist,
customers.hooks.scoring_products. The model code (model/attributes.py) sees only arrays.

Level codes: the channel's position in Channel (stable), the source's CRC-32 (stable across runs
and processes, unlike hash()); words for them come from the contact's own purchase
(report.py), so no table of levels is kept.
"""
import datetime as dt
import zlib

import numpy as np
from django.db.models import F

from .. import hooks
from ..models import Channel, Contact, Purchase
from ..normalise import shop_timezone
from .model.attributes import UNKNOWN, Attributes, AttributeSource, combine, from_pairs
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


def attributes_at(day: dt.date, *, contact_ids=None,
                  first_purchases: Attributes | None = None) -> Attributes:
    """Everything known about the contacts as of the end of `day`: customers' own attributes
    and every app's (hooks.scoring_features, hooks.scoring_products)."""
    own = first_purchases or first_purchase_attributes(as_of=day, contact_ids=contact_ids)
    parts = [own]
    for hook in (hooks.scoring_features, hooks.scoring_products):
        parts.extend(part for part in hook.call(day, contact_ids) if part is not None)
    return combine(parts)


def attribute_source(*, as_of: dt.date, contact_ids=None) -> AttributeSource:
    """For pipeline.fit: attributes as of any day up to as_of (asked for a few cutoffs a run;
    the first purchases are read once, as of as_of: a contact whose first purchase came later
    than an earlier cutoff is not in that cutoff's snapshot anyway)."""
    first = first_purchase_attributes(as_of=as_of, contact_ids=contact_ids)
    base = day_index(as_of)

    def source(day: int) -> Attributes:
        if day > base:
            raise ValueError("attributes asked for a day after the scoring date")
        return attributes_at(as_of - dt.timedelta(days=base - day), contact_ids=contact_ids,
                             first_purchases=first)

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


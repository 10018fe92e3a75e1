"""A purchase's channel: the shop's own label, kept as written (trimmed), and the reporting
channel it counts as (online, store, phone, marketplace, other), found through the mapping
managers edit in the admin (ChannelMapping, keyed by the label folded: case- and
Turkish-İ-insensitive).

A label nobody has mapped is never a reason to refuse a purchase: it counts as "other" and is
listed in the mapping admin as unmapped, with how many purchases used it; mapping it later
re-maps the stored purchases (purchases_remap). The five reporting values map to themselves
unless a mapping says otherwise, so the API's "online" or "marketplace" keep working.
"""
import logging
import time
import uuid
from collections.abc import Mapping

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from .models import CHANNEL_LABEL_MAX_LENGTH, Channel, ChannelMapping, Purchase
from .normalise import channel_key

logger = logging.getLogger(__name__)

_REPORTING = {value: value for value in Channel.values}


def channel_label_clean(text: str | None) -> str:
    """The label as stored: trimmed; refused only when longer than the column."""
    label = (text or "").strip()
    if len(label) > CHANNEL_LABEL_MAX_LENGTH:
        raise ValidationError(
            _("Channel is longer than %(limit)d characters: give the shop's name for the "
              "channel (such as web, app or Trendyol).") % {"limit": CHANNEL_LABEL_MAX_LENGTH})
    if "\x00" in label:
        raise ValidationError(_("%(column)s contains a NUL character.") % {"column": "channel"})
    return label


def channel_mapping() -> dict[str, str]:
    """Every mapped label's key and its reporting channel (one query: load once per file)."""
    mapped = dict(ChannelMapping.objects.exclude(channel="").values_list("key", "channel"))
    return {**_REPORTING, **mapped}


# The mapping as the doors recording one purchase at a time read it: kept per process and
# reloaded when a manager changes it (a version in the shared cache, checked per purchase) or
# after _MAPPING_SECONDS at most (a cache not shared between processes, or unreachable).
_MAPPING_SECONDS = 60
_VERSION_KEY = "customers:channel-mapping-version"
_cached: tuple[float, object, dict[str, str]] | None = None


def _shared_version() -> object:
    try:
        return cache.get(_VERSION_KEY)
    except Exception:  # noqa: BLE001 - the cache down must not refuse a sale: the TTL serves
        return None


def channel_mapping_cached() -> dict[str, str]:
    """channel_mapping(), without a query for most purchases (see above)."""
    global _cached
    version, now = _shared_version(), time.monotonic()
    if _cached is None or _cached[1] != version or now - _cached[0] > _MAPPING_SECONDS:
        _cached = (now, version, channel_mapping())
    return _cached[2]


def channel_mapping_forget() -> None:
    """This process reads the mapping afresh next time."""
    global _cached
    _cached = None


@receiver([post_save, post_delete], sender=ChannelMapping)
def _mapping_written(**kwargs) -> None:
    channel_mapping_forget()
    transaction.on_commit(_mapping_changed)


def _mapping_changed() -> None:
    """After a change commits: every process reloads the mapping."""
    channel_mapping_forget()
    try:
        cache.set(_VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:  # noqa: BLE001 - other processes then reload within _MAPPING_SECONDS
        logger.warning("Could not announce a channel mapping change through the cache.")


def reporting_channel(label: str, mapping: Mapping[str, str] | None = None,
                      default: str = Channel.ONLINE) -> str:
    """The reporting channel of a (clean) label; a blank label is `default`, an unknown one
    "other"."""
    if not label:
        return default
    if mapping is None:
        mapping = channel_mapping_cached()
    return mapping.get(channel_key(label), Channel.OTHER)


def channel_resolve(text: str | None, *, default: str = Channel.ONLINE) -> tuple[str, str]:
    """(label as stored, reporting channel) for one purchase of a door that records one."""
    label = channel_label_clean(text)
    channel = reporting_channel(label, default=default)
    return label, channel


def unmapped_labels_seen(counts: Mapping[str, int]) -> None:
    """Count purchases recorded with labels that are not mapped: each one appears in the
    mapping admin ("unmapped, seen N times") for a manager to map. One statement per label,
    a few per import file; labels mapped meanwhile are only counted."""
    by_key: dict[str, int] = {}
    label_of: dict[str, str] = {}
    for label, count in counts.items():
        key = channel_key(label)
        if key and key not in _REPORTING:
            by_key[key] = by_key.get(key, 0) + count
            label_of.setdefault(key, label)
    for key, count in sorted(by_key.items()):  # a fixed order: concurrent imports wait, not lock
        updated = ChannelMapping.objects.filter(key=key, channel="").update(
            seen=F("seen") + count)
        if not updated:
            with transaction.atomic():
                ChannelMapping.objects.bulk_create(
                    [ChannelMapping(key=key, label=label_of[key], channel="", seen=count)], ignore_conflicts=True)


def label_seen(label: str, channel: str) -> None:
    """After one purchase: an unmapped label is counted (see unmapped_labels_seen)."""
    if label and channel == Channel.OTHER and channel_key(label) not in channel_mapping_cached():
        unmapped_labels_seen({label: 1})


def purchases_remap(key: str, channel: str) -> int:
    """Give the stored purchases whose label has this key their (new) reporting channel,
    set-based: the distinct labels stored are read once, and one UPDATE changes the purchases
    of those that fold to the key. Returns how many purchases changed.

    A key that is no longer mapped (deleted, or blank) sends its purchases to "other", or,
    for the five reporting values themselves, to that value."""
    target = channel or _REPORTING.get(key, Channel.OTHER)
    labels = [label for label in Purchase.objects.exclude(channel_label="")
              .values_list("channel_label", flat=True).distinct().order_by()
              if channel_key(label) == key]
    if not labels:
        return 0
    return Purchase.objects.filter(channel_label__in=labels).exclude(channel=target).update(
        channel=target)


def channel_mapping_save(mapping: ChannelMapping) -> int:
    """Save a manager's mapping (new, changed label or changed channel) and re-map the stored
    purchases of the labels it touched. Returns how many purchases changed channel."""
    old_key = None
    if mapping.pk:
        old_key = ChannelMapping.objects.filter(pk=mapping.pk).values_list("key", flat=True).first()
    with transaction.atomic():
        mapping.save()
        changed = purchases_remap(mapping.key, mapping.channel)
        if old_key and old_key != mapping.key:  # the old label is no longer mapped
            changed += purchases_remap(old_key, "")
    return changed


def channel_mapping_delete(mappings) -> int:
    """Delete mappings; their labels' purchases count as "other" again (or as the reporting
    value a label names). Returns how many purchases changed channel."""
    changed = 0
    with transaction.atomic():
        for mapping in list(mappings):
            mapping.delete()
            changed += purchases_remap(mapping.key, "")
    return changed

"""The derived purchase figures on Contact, computed in the database for any set of contacts.

One definition serves every writer (dashboard, admin, import, API) and the drift check, so the
stored figures and a fresh re-derivation can never disagree by construction.
"""
import functools
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import islice

from django.db import connection
from django.db.models import Count, DecimalField, F, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.db.models.sql import UpdateQuery

from .hooks import stage_watchers
from .models import Contact, Purchase
from .querysets import net_amount_base

STAT_FIELDS = ("purchase_count", "first_purchase_at", "last_purchase_at", "total_spent")
_CHUNK = 2000


def _aggregate(expression):
    live = (
        Purchase.objects.counted().filter(contact=OuterRef("pk")).order_by().values("contact")
    )
    return Subquery(live.annotate(value=expression).values("value"))


def stat_expressions() -> dict:
    return {
        "purchase_count": Coalesce(_aggregate(Count("purchased_on", distinct=True)), 0),
        "first_purchase_at": _aggregate(Min("purchased_at")),
        "last_purchase_at": _aggregate(Max("purchased_at")),
        "total_spent": Coalesce(
            _aggregate(Sum(net_amount_base())),  # partial refunds taken off
            Value(Decimal(0)),
            output_field=DecimalField(max_digits=18, decimal_places=3),
        ),
    }


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    iterator = iter(ids)
    while chunk := list(islice(iterator, _CHUNK)):
        yield chunk


def contacts_refresh_stats(contact_ids: Iterable[int], *, announce: bool = True) -> None:
    """Recompute purchase count, first/last purchase and total spent for these contacts.

    Stage changes are announced (hooks.stage_watch: webhooks' contact.stage_changed) unless
    announce is False (a historical import)."""
    # No reads at all unless a registered watcher (a webhook) wants stage changes.
    watcher = stage_watchers(announce=announce)
    for chunk in _chunks(contact_ids):
        watcher.before(chunk)
        if len(chunk) == 1:
            _refresh_one(chunk[0])
        else:
            Contact.objects.filter(pk__in=chunk).update(**stat_expressions())
        watcher.after(chunk)  # contact.stage_changed for those whose stage moved


# Stands in for the contact id in the cached statement; never a real id (ids are positive).
_SENTINEL_ID = -7_340_033


def _refresh_one(contact_id: int) -> None:
    """The same UPDATE for one contact (every recorded purchase), compiled once per process:
    building the four correlated subqueries costs more than the database spends running them."""
    sql, params, at = _one_contact_update(connection.alias, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params[:at], contact_id, *params[at + 1:]])


@functools.cache
def _one_contact_update(alias: str, vendor: str) -> tuple[str, list, int]:
    query = Contact.objects.filter(pk=_SENTINEL_ID).query.chain(UpdateQuery)
    query.add_update_values(stat_expressions())
    sql, params = query.get_compiler(alias).as_sql()
    params = list(params)
    if params.count(_SENTINEL_ID) != 1:
        raise RuntimeError("The contact id must appear once in the stats UPDATE")
    return sql, params, params.index(_SENTINEL_ID)


def _differs(field: str) -> Q:
    computed = f"computed_{field}"
    both_set = Q(**{f"{field}__isnull": False, f"{computed}__isnull": False})
    return (
        (both_set & ~Q(**{field: F(computed)}))
        | Q(**{f"{field}__isnull": True, f"{computed}__isnull": False})
        | Q(**{f"{field}__isnull": False, f"{computed}__isnull": True})
    )


def contacts_with_drift():
    """Contacts whose stored figures differ from what their purchases say."""
    computed = {f"computed_{k}": v for k, v in stat_expressions().items()}
    condition = Q()
    for field in STAT_FIELDS:
        condition |= _differs(field)
    return Contact.objects.annotate(**computed).filter(condition)

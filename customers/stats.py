"""The derived purchase figures on Contact, computed in the database for any set of contacts.

One definition serves every writer (dashboard, admin, import, API) and the drift check, so the
stored figures and a fresh re-derivation can never disagree by construction.
"""
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import islice

from django.db.models import Count, DecimalField, F, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import Contact, Purchase

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
            _aggregate(Sum("amount_base")),
            Value(Decimal(0)),
            output_field=DecimalField(max_digits=18, decimal_places=3),
        ),
    }


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    iterator = iter(ids)
    while chunk := list(islice(iterator, _CHUNK)):
        yield chunk


def contacts_refresh_stats(contact_ids: Iterable[int]) -> None:
    """Recompute purchase count, first/last purchase and total spent for these contacts."""
    for chunk in _chunks(contact_ids):
        Contact.objects.filter(pk__in=chunk).update(**stat_expressions())


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

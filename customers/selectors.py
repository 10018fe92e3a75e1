"""Reads for screens: each returns exactly what its page shows, in a fixed number of queries."""
from django.db.models import QuerySet, Subquery, Sum

from .models import Contact, ContactScore, Purchase


def contact_list(*, search: str = "", stage: str = "", owner=None) -> QuerySet[Contact]:
    contacts = Contact.objects.select_related("owner")
    if search:
        contacts = contacts.search(search)
    if stage:
        contacts = contacts.filter(stage=stage)
    if owner is not None:
        contacts = contacts.owned_by(owner)
    return contacts.order_by("-last_purchase_at", "-id")


def contact_purchases(*, contact: Contact) -> QuerySet[Purchase]:
    return contact.purchases.select_related("recorded_by").order_by("-purchased_at", "-id")


def contact_current_score(*, contact: Contact) -> ContactScore | None:
    """The contact's score from the current scoring run, if it has one."""
    from .scoring_runs import current_run

    run = current_run()
    if run is None:
        return None
    return ContactScore.objects.filter(run=run, contact=contact).select_related("run").first()


def contact_first_day_spend(*, contact: Contact) -> float:
    """What the contact spent on their first purchase day (base currency)."""
    first = contact.purchases.counted().order_by("purchased_on").values("purchased_on")[:1]
    total = contact.purchases.counted().filter(purchased_on=Subquery(first)).aggregate(
        total=Sum("amount_base"))["total"]
    return float(total or 0)

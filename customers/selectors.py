"""Reads for screens: each returns exactly what its page shows, in a fixed number of queries."""
from django.db.models import QuerySet

from .models import Contact, Purchase


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

"""Reads of campaigns' data for other apps' screens (the contact page)."""
import datetime as dt

from django.db.models import QuerySet

from .models import Message


def contact_emails(*, contact, limit: int = 50) -> list:
    """Campaign emails to this contact, newest first, each with `bought_after`: a purchase
    within the campaign's uplift window after it was sent (two queries in all)."""
    emails = list(Message.objects.filter(contact=contact).select_related("campaign")
                  .order_by("-created_at", "-id")[:limit])
    bought = list(contact.purchases.counted().values_list("purchased_at", flat=True))
    for email in emails:
        window = dt.timedelta(days=email.campaign.uplift_window_days)
        # An attribute for the template, on the model instance.
        email.bought_after = email.sent_at is not None and any(  # type: ignore[attr-defined]
            email.sent_at <= when < email.sent_at + window for when in bought)
    return emails


def contact_coupons(*, contact) -> QuerySet:
    return contact.coupons.select_related("campaign").order_by("-created_at")

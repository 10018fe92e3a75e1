"""Reads of campaigns' data for other apps' screens (the contact page)."""
import datetime as dt

from django.db.models import QuerySet

from .models import LinkClick, Message


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


def contact_clicks(*, contact, limit: int = 50) -> QuerySet:
    """The contact's recorded clicks (and opens), newest first, with their campaign."""
    return (LinkClick.objects.filter(contact=contact).select_related("message__campaign")
            .order_by("-clicked_at", "-id")[:limit])


def contact_coupons(*, contact) -> QuerySet:
    return contact.coupons.select_related("campaign").order_by("-created_at")


# --- Sent emails (the staff page of what went out) -------------------------------------------

def sent_messages(*, status: str = "") -> QuerySet:
    """The outbox, newest first, for the sent-emails page (held-out rows are no email)."""
    messages = (Message.objects.exclude(status=Message.Status.HELD_OUT)
                .select_related("campaign", "contact").order_by("-created_at", "-id"))
    if status:
        messages = messages.filter(status=status)
    return messages


def sent_message_rendered(message: Message):
    """The email of one outbox row as it is (or was) sent: subject, plain text and HTML in the
    contact's language, from the same context the sender builds. ValidationError when the
    template cannot be rendered."""
    from customers.language import contact_language

    from .rendering import message_context, render_email

    return render_email(message.email_template, message_context(message),
                        language=contact_language(message.contact))

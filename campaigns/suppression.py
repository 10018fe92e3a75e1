"""The suppression list: addresses that never get marketing email again (unsubscribed,
bounced, complained, erased), and unsubscribing a contact. The send-time check
(campaigns.outbox.checks) and the audience read the list; these are its only writers."""
import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef

from customers.consent.models import ConsentMethod
from customers.models import Contact
from customers.normalise import normalise_email
from customers.services.contacts import contact_set_consent

from .models import Message, Suppression


def address_suppress(*, email: str, reason: str, detail: str = "") -> Suppression:
    """Never send marketing email to this address again; an existing entry keeps its reason.

    The one way a suppression is written: the admin's add form, unsubscribe, bounces,
    complaints and erasure all call it. The address is stored as contacts' addresses are
    (customers.normalise.normalise_email: trimmed, lower case), which is what the send-time
    check and the audience compare with, so `Bob@Example.com` typed in the admin stops
    bob@example.com; a database constraint refuses any other form. ValidationError for
    something that is not an email address.
    """
    suppression, created = Suppression.objects.get_or_create(
        email=normalise_email(email), defaults={"reason": reason, "detail": detail[:2000]})
    if created and reason == Suppression.Reason.COMPLAINED:
        # A new complaint may push the day's rate over the line: sending pauses by itself.
        from .sending_pause import complaint_recorded

        transaction.on_commit(complaint_recorded)
    return suppression


def complaints_between(start: dt.datetime, end: dt.datetime | None = None) -> int:
    """Spam complaints recorded in [start, end): each email complained about once (an address
    suppressed earlier for another reason still counts), plus the complaints a manager
    entered by hand (a "marked as spam" suppression no email of that address explains)."""
    window = {"complained_at__gte": start, **({"complained_at__lt": end} if end else {})}
    about_emails = Message.objects.filter(**window)
    by_hand = Suppression.objects.filter(
        reason=Suppression.Reason.COMPLAINED, created_at__gte=start,
        **({"created_at__lt": end} if end else {})).filter(
        ~Exists(about_emails.filter(to_email=OuterRef("email"))))
    return about_emails.count() + by_hand.count()


def message_complained(message: Message, *, now: dt.datetime) -> bool:
    """Note a complaint about this email, once; True when it is new (then the day's rate is
    checked after commit: sending may pause by itself)."""
    if not Message.objects.filter(pk=message.pk, complained_at__isnull=True).update(
            complained_at=now):
        return False
    from .sending_pause import complaint_recorded

    transaction.on_commit(complaint_recorded)
    return True


# Reasons that say the person does not want marketing email (not that the address is dead or
# erased), with how staff entering one by hand learnt it.
_WITHDRAWING_REASONS = {Suppression.Reason.UNSUBSCRIBED: ConsentMethod.REQUEST,
                        Suppression.Reason.COMPLAINED: ConsentMethod.SPAM_COMPLAINT}


@transaction.atomic
def address_suppress_by_staff(*, email: str, reason: str, detail: str = "",
                              recorded_by=None, source: str = "admin") -> Suppression:
    """A suppression a manager enters by hand (the admin's add form). When the reason says the
    person said no and a contact has the address, their consent is withdrawn too, recorded by
    the manager, as contact_unsubscribe and complaint_record do: otherwise the contact would
    keep showing consent the ledger never saw withdrawn."""
    method = _WITHDRAWING_REASONS.get(reason)
    contact = (Contact.objects.filter(email=normalise_email(email)).first()
               if method is not None else None)
    if contact is not None:
        contact_set_consent(contact=contact, consent=False, source=source, method=method,
                            recorded_by=recorded_by)
    return address_suppress(email=email, reason=reason, detail=detail)


@transaction.atomic
def contact_unsubscribe(*, contact: Contact, source: str,
                        method: str = ConsentMethod.UNSUBSCRIBE_LINK) -> None:
    """Withdraw consent (a ledger record) and suppress the address; doing it again changes
    nothing."""
    contact_set_consent(contact=contact, consent=False, source=source, method=method)
    address_suppress(email=contact.email, reason=Suppression.Reason.UNSUBSCRIBED,
                     detail=source)

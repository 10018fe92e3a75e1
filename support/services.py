"""Every write to cases: open, answer, change status, assign, confirm. Timestamps for the
service targets are set here, once, so first-response and resolution times are measured
exactly."""
import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.shop import shop
from crm.tasks import queue_after_commit
from customers.language import contact_language
from customers.models import Contact
from customers.services.contacts import contact_get_or_create

from .models import Case, Priority, ServiceTarget
from .tokens import CONFIRM_MAX_AGE, case_confirm_token

# At most this many confirmation emails to one address a day, however many cases are typed
# in its name: the form must not become a way to fill a stranger's inbox.
CONFIRMATIONS_PER_DAY = 3

# Used when managers have not set a target for a priority (hours: first answer, solution).
DEFAULT_TARGETS = {Priority.URGENT: (1, 8), Priority.HIGH: (4, 24), Priority.NORMAL: (8, 72),
                   Priority.LOW: (24, 168)}


def _targets(priority: str) -> tuple[int, int]:
    target = ServiceTarget.objects.filter(priority=priority).first()
    if target is not None:
        return target.first_response_hours, target.resolution_hours
    return DEFAULT_TARGETS[Priority(priority)]


def case_open(*, contact: Contact, subject: str, description: str = "", channel: str,
              priority: str = Priority.NORMAL, owner=None, verified: bool = True,
              now: dt.datetime | None = None) -> Case:
    subject = subject.strip()
    if not subject:
        raise ValidationError({"subject": _("Say in a few words what the case is about.")})
    now = now or timezone.now()
    first, solve = _targets(priority)
    return Case.objects.create(
        contact=contact, subject=subject, description=description.strip(), channel=channel,
        priority=priority, owner=owner, created_at=now, verified=verified,
        first_response_due=now + dt.timedelta(hours=first),
        resolution_due=now + dt.timedelta(hours=solve))


def case_set_status(*, case: Case, status: str, now: dt.datetime | None = None) -> Case:
    """Move a case; leaving "new" is the first answer, "solved" stops the clock."""
    now = now or timezone.now()
    if status not in Case.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    if status != Case.Status.NEW and case.first_response_at is None:
        case.first_response_at = now
    case.solved_at = now if status == Case.Status.SOLVED else None
    case.status = status
    case.save(update_fields=["status", "first_response_at", "solved_at", "updated_at"])
    return case


def case_edit(*, case: Case, subject: str, description: str, channel: str) -> Case:
    """Correct what the case is about. Contact, priority and the due times stay as opened:
    the targets were measured from them."""
    subject = subject.strip()
    if not subject:
        raise ValidationError({"subject": _("Say in a few words what the case is about.")})
    if channel not in Case.Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    case.subject, case.description, case.channel = subject, description.strip(), channel
    case.save(update_fields=["subject", "description", "channel", "updated_at"])
    return case


def case_assign(*, case: Case, owner) -> Case:
    case.owner = owner
    case.save(update_fields=["owner", "updated_at"])
    return case


# --- The public form: unconfirmed until the address owner says so ----------------------------

def public_case_open(*, email: str, name: str, subject: str, message: str,
                     language: str = "") -> Case:
    """A case from the public form, for whoever owns `email`: unconfirmed, and a confirmation
    link is emailed to that address (after commit, by a task).

    Every such case starts unconfirmed, for a new address too: its contact is created from
    what the visitor typed, and a real customer with that address who buys later would
    otherwise find a stranger's words on their record. The visitor's page is the same either
    way, so the form does not tell whether an address is already a customer.
    """
    from .tasks import case_confirmation_send_task  # the task module imports this one

    first, _space, last = name.strip().partition(" ")
    # A new contact keeps the language the form was shown in; an existing one is not changed.
    contact = contact_get_or_create(email=email, first_name=first, last_name=last,
                                    language=language)
    case = case_open(contact=contact, subject=subject, description=message,
                     channel=Case.Channel.WEB, owner=contact.owner, verified=False)
    queue_after_commit(case_confirmation_send_task, case.pk,
                       consequence="no confirmation link: the case stays unconfirmed")
    return case


def case_confirm_url(case: Case) -> str:
    path = reverse("support:public_confirm", args=[case_confirm_token(case.pk,
                                                                      case.contact.email)])
    return settings.CRM_PUBLIC_URL.rstrip("/") + path


def _confirmation_email(case: Case) -> tuple[str, str]:
    # Nothing the visitor typed goes into this email (no subject, no message, no name): it
    # goes to an address they chose, so it must not carry their text to a stranger.
    with translation.override(contact_language(case.contact)):
        subject = _("Please confirm your message to us")
        body = render_to_string("support/emails/case_confirm.txt", {
            "url": case_confirm_url(case), "days": CONFIRM_MAX_AGE.days})
    return subject, body


def case_confirmation_send(*, case_id: int, now: dt.datetime | None = None) -> bool:
    """Email the confirmation link for an unconfirmed case, once; True if it was sent.

    The row is claimed before sending, so a task that runs twice sends one email; a failure
    to send releases the claim and raises, for the task to retry.
    """
    now = now or timezone.now()
    case = Case.objects.select_related("contact").filter(pk=case_id).first()
    if case is None or case.verified or case.confirmation_sent_at is not None:
        return False
    recent = Case.objects.filter(contact_id=case.contact_id,
                                 confirmation_sent_at__gte=now - dt.timedelta(days=1)).count()
    if recent >= CONFIRMATIONS_PER_DAY:
        return False
    if not Case.objects.filter(pk=case.pk, confirmation_sent_at__isnull=True).update(
            confirmation_sent_at=now):
        return False
    subject, body = _confirmation_email(case)
    try:
        send_mail(subject, body, shop().from_email, [case.contact.email])
    except Exception:
        Case.objects.filter(pk=case.pk).update(confirmation_sent_at=None)
        raise
    return True


def case_confirm(*, case: Case, now: dt.datetime | None = None) -> Case:
    """The owner of the case's address confirmed it (support.selectors.case_to_confirm found
    it from their link); confirming twice changes nothing."""
    if not case.verified:
        case.verified, case.verified_at = True, now or timezone.now()
        case.save(update_fields=["verified", "verified_at", "updated_at"])
    return case

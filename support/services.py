"""Every write to cases: open, answer, change status, assign, confirm. Timestamps for the
service targets are set here, once, so first-response and resolution times are measured
exactly: the first answer is the first reply staff send (case_reply), not a status change;
the solution is the move to "solved"."""
import datetime as dt
import logging
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.shop import shop
from crm.tasks import queue_after_commit
from customers.language import contact_language
from customers.models import Contact
from customers.normalise import normalise_email
from customers.services.contacts import contact_get_or_create

from .models import AssignmentCursor, Case, CaseMessage, Priority, ServiceTarget
from .tokens import CONFIRM_MAX_AGE, case_confirm_token, case_reply_address

logger = logging.getLogger(__name__)

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
              message_id: str = "", now: dt.datetime | None = None) -> Case:
    subject = subject.strip()
    if not subject:
        raise ValidationError({"subject": _("Say in a few words what the case is about.")})
    now = now or timezone.now()
    first, solve = _targets(priority)
    return Case.objects.create(
        contact=contact, subject=subject, description=description.strip(), channel=channel,
        priority=priority, owner=owner, created_at=now, verified=verified,
        message_id=message_id[:250], first_response_due=now + dt.timedelta(hours=first),
        resolution_due=now + dt.timedelta(hours=solve))


def case_set_status(*, case: Case, status: str, now: dt.datetime | None = None) -> Case:
    """Move a case; "solved" stops the clock, moving out of it starts it again. A status change
    is not an answer: the first answer is the first reply sent to the customer (case_reply)."""
    now = now or timezone.now()
    if status not in Case.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    case.solved_at = now if status == Case.Status.SOLVED else None
    case.status = status
    case.save(update_fields=["status", "solved_at", "updated_at"])
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
    first, _space, last = name.strip().partition(" ")
    # A new contact keeps the language the form was shown in; an existing one is not changed.
    contact = contact_get_or_create(email=email, first_name=first, last_name=last,
                                    language=language)
    case = case_open(contact=contact, subject=subject, description=message,
                     channel=Case.Channel.WEB, owner=case_owner_pick(contact=contact),
                     verified=False)
    case_confirmation_queue(case)
    return case


def case_confirmation_queue(case: Case) -> None:
    """Email the unconfirmed case's confirmation link, after commit, by a task."""
    from .tasks import case_confirmation_send_task  # the task module imports this one

    queue_after_commit(case_confirmation_send_task, case.pk,
                       consequence="no confirmation link: the case stays unconfirmed")


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


# --- Who handles a case nobody chose: the contact's owner, else the team's turn ---------------

HANDLE_PERMISSION = ("support", "change_case")


def _handlers():
    """Active users allowed to handle cases (through a role group or their own permissions)."""
    from django.contrib.auth import get_user_model

    app_label, codename = HANDLE_PERMISSION
    allowed = (Q(groups__permissions__codename=codename,
                 groups__permissions__content_type__app_label=app_label)
               | Q(user_permissions__codename=codename,
                   user_permissions__content_type__app_label=app_label))
    return get_user_model().objects.filter(allowed, is_active=True).distinct()


def _can_handle(user) -> bool:
    return bool(user and user.is_active and user.has_perm(".".join(HANDLE_PERMISSION)))


def _next_in_turn(queue: str, candidate_ids: list[int]) -> int | None:
    """The candidate after the one who got this queue's last case (by id, wrapping round).
    The queue's row is locked until the transaction ends, so cases arriving at the same time
    are dealt out one by one: nobody is skipped and nobody gets two in a row."""
    if not candidate_ids:
        return None
    with transaction.atomic():
        AssignmentCursor.objects.get_or_create(queue=queue)
        cursor = AssignmentCursor.objects.select_for_update().get(queue=queue)
        later = [pk for pk in candidate_ids
                 if cursor.last_user_id is None or pk > cursor.last_user_id]
        chosen = later[0] if later else candidate_ids[0]
        AssignmentCursor.objects.filter(pk=cursor.pk).update(last_user_id=chosen)
    return chosen


def case_owner_pick(*, contact: Contact | None = None):
    """Who gets a case that arrives on its own (the public form, an email), so that none is
    left in nobody's list.

    1. The contact's owner, when they are active and may handle cases: the customer keeps
       dealing with the person they know.
    2. Otherwise settings.CRM_SUPPORT_ASSIGNMENT: "user:<username>" (a team queue account),
       "group:<name>" (in turn within that group) or "round_robin" (in turn among every
       active user who may handle cases).
    None only when nobody at all may handle cases (managers see it under "Everyone's").
    """
    from django.contrib.auth import get_user_model

    if contact is not None and contact.owner_id and _can_handle(contact.owner):
        return contact.owner
    rule = (getattr(settings, "CRM_SUPPORT_ASSIGNMENT", "") or "round_robin").strip()
    users = get_user_model().objects
    if rule.startswith("user:"):
        queue_user = users.filter(username=rule[5:], is_active=True).first()
        if queue_user is not None:
            return queue_user
        logger.warning("CRM_SUPPORT_ASSIGNMENT names no active user (%s): dealing round-robin",
                       rule)
        rule = "round_robin"
    candidates = _handlers()
    if rule.startswith("group:"):
        candidates = candidates.filter(groups__name=rule[6:])
    elif rule != "round_robin":
        logger.warning("Unknown CRM_SUPPORT_ASSIGNMENT %r: dealing round-robin", rule)
        rule = "round_robin"
    chosen = _next_in_turn(rule, sorted(set(candidates.values_list("pk", flat=True))))
    return None if chosen is None else users.get(pk=chosen)


def cases_assign_unowned() -> int:
    """Give every open case without an owner one (case_owner_pick); the number assigned."""
    count = 0
    unowned = (Case.objects.filter(owner__isnull=True).exclude(status=Case.Status.SOLVED)
               .select_related("contact__owner").order_by("created_at", "id"))
    for case in unowned.iterator(chunk_size=500):
        owner = case_owner_pick(contact=case.contact)
        if owner is None:
            break
        # Only if still unowned: someone may have taken it meanwhile.
        count += Case.objects.filter(pk=case.pk, owner__isnull=True).update(
            owner=owner, updated_at=timezone.now())
    return count


# --- The thread: staff replies by email, customers' answers come back into the case -----------

def _reply_base_address() -> str:
    return getattr(settings, "CRM_SUPPORT_REPLY_ADDRESS", "") or shop().sender_email


def _mail_domain() -> str:
    return _reply_base_address().rpartition("@")[2] or "localhost"


# An answer is not marketing: an unsubscribed customer still gets it. An address that bounced,
# complained of spam or belongs to an erased person gets nothing.
def _refuse_undeliverable(address: str) -> None:
    from campaigns.models import Suppression

    # An unsubscribed address still gets answers; these reach nobody (or must not).
    no_email_at_all = (Suppression.Reason.BOUNCED, Suppression.Reason.COMPLAINED,
                       Suppression.Reason.ERASED)
    suppressed = Suppression.objects.filter(email=normalise_email(address),
                                            reason__in=no_email_at_all).first()
    if suppressed is not None:
        raise ValidationError({"body": _(
            "This address cannot be emailed (%(reason)s): answer the customer another way.")
            % {"reason": suppressed.get_reason_display()}})


def case_reply(*, case: Case, author, body: str, now: dt.datetime | None = None,
               historical: bool = False) -> CaseMessage:
    """Staff answer the customer: the reply is stored on the case and emailed to the contact
    (after commit, by a task) from the shop, with a reply address that brings their answer back
    into this case. The first reply is the case's first answer; a new or open case is then
    waiting on the customer. `historical`: a reply of the past being recorded (the demo
    shop's history, a migration from another help desk): stored as emailed at `now`, not
    emailed again."""
    from .tasks import case_message_send_task  # the task module imports this one

    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write your reply first.")})
    if len(body) > 10_000:
        raise ValidationError({"body": _("The reply is too long (at most 10,000 characters).")})
    now = now or timezone.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().select_related("contact").get(pk=case.pk)
        if not locked.contact.email:
            raise ValidationError({"body": _("This contact has no email address.")})
        _refuse_undeliverable(locked.contact.email)
        message = CaseMessage.objects.create(
            case=locked, direction=CaseMessage.Direction.OUT, body=body, author=author,
            sent_at=now, message_id=make_msgid(domain=_mail_domain()),
            emailed_at=now if historical else None)
        fields = ["updated_at"]
        if locked.first_response_at is None:
            locked.first_response_at = now
            fields.append("first_response_at")
        if locked.status in (Case.Status.NEW, Case.Status.OPEN):
            locked.status = Case.Status.WAITING
            fields.append("status")
        locked.save(update_fields=fields)
    case.first_response_at, case.status = locked.first_response_at, locked.status
    if not historical:
        queue_after_commit(case_message_send_task, message.pk,
                           consequence="the reply is stored on the case but not emailed")
    return message


def _reply_email(message: CaseMessage) -> EmailMessage:
    case = message.case
    earlier = list(case.messages.filter(Q(sent_at__lt=message.sent_at)
                                        | Q(sent_at=message.sent_at, id__lt=message.pk))
                   .exclude(message_id="").order_by("sent_at", "id")
                   .values_list("direction", "message_id"))
    thread = ([case.message_id] if case.message_id else []) + [mid for _d, mid in earlier]
    answered = [mid for direction, mid in earlier if direction == CaseMessage.Direction.IN]
    headers = {"Message-ID": message.message_id}
    if thread:
        headers["In-Reply-To"] = (answered or thread)[-1]
        headers["References"] = " ".join(thread[-20:])
    language = contact_language(case.contact)
    headers["Content-Language"] = language
    with translation.override(language):
        # A public-form case nobody has confirmed carries a stranger's words: its subject is not
        # repeated to the address owner (as the confirmation email does not repeat it).
        subject = (_("Re: %(subject)s") % {"subject": case.subject} if case.verified
                   else _("Our answer to your message"))
        body = render_to_string("support/emails/case_reply.txt", {"body": message.body})
    return EmailMessage(subject, body, shop().from_email, [case.contact.email],
                        reply_to=[case_reply_address(case.pk, _reply_base_address())],
                        headers=headers)


def case_message_send(*, message_id: int, now: dt.datetime | None = None) -> bool:
    """Email a stored staff reply, once; True if it was sent. Claimed before sending, so a task
    run twice sends one email; a failure releases the claim and raises, for a retry."""
    message = (CaseMessage.objects.select_related("case__contact")
               .filter(pk=message_id, direction=CaseMessage.Direction.OUT).first())
    if message is None or message.emailed_at is not None:
        return False
    if not CaseMessage.objects.filter(pk=message.pk, emailed_at__isnull=True).update(
            emailed_at=now or timezone.now()):
        return False
    try:
        _reply_email(message).send()
    except Exception:
        CaseMessage.objects.filter(pk=message.pk).update(emailed_at=None)
        raise
    return True


def case_message_receive(*, case: Case, body: str, from_address: str = "",
                         message_id: str = "", automatic: bool = False,
                         now: dt.datetime | None = None) -> CaseMessage:
    """The customer's emailed answer, threaded into its case (support.inbound found which).
    A solved case or one waiting on the customer is open again, its solution clock running;
    an automatic answer (an out-of-office) is kept but reopens nothing. The same email
    delivered twice is stored once."""
    now = now or timezone.now()
    message_id = message_id.strip()[:250]
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if message_id:
            seen = locked.messages.filter(direction=CaseMessage.Direction.IN,
                                          message_id=message_id).first()
            if seen is not None:
                return seen
        message = CaseMessage.objects.create(
            case=locked, direction=CaseMessage.Direction.IN, body=body.strip()[:10_000],
            from_address=from_address[:254], sent_at=now, message_id=message_id)
        fields = ["updated_at"]
        if not automatic and locked.status in (Case.Status.SOLVED, Case.Status.WAITING):
            locked.status, locked.solved_at = Case.Status.OPEN, None
            fields += ["status", "solved_at"]
        locked.save(update_fields=fields)
    return message

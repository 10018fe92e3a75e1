"""Logged phone calls: how a call went, a note, and perhaps the next follow-up.

Every door (the call list, the contact page) calls call_log. A contact called in the last
settings.CRM_CALLED_RECENTLY_DAYS days leaves today's call list (dashboard.selectors); a
"not interested" answer pauses their promotional email (hooks.contact_not_interested:
feedback's promotion pause, the one an unhappy survey answer sets)."""
import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .. import hooks
from ..followups import follow_up_add
from ..models import CallLog, CallOutcome, Contact, FollowUp

NOTE_MAX_LENGTH = 4000


def call_log(*, contact: Contact, user: User | None, outcome: str, note: str = "",
             follow_up_on: dt.date | None = None, follow_up_time: dt.time | None = None,
             called_at: dt.datetime | None = None) -> CallLog:
    """Record a call; with follow_up_on, a follow-up for the caller on that day too, at
    follow_up_time when the customer named an hour ("call me Tuesday at 3": the reminder
    comes then, not at the morning's reminder hour)."""
    note = (note or "").strip()
    errors = {}
    if outcome not in CallOutcome.values:
        errors["outcome"] = _("Choose how the call went.")
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = _("The note is longer than %(limit)d characters.") % {
            "limit": NOTE_MAX_LENGTH}
    if follow_up_on is not None and user is None:
        errors["follow_up_on"] = _("A follow-up needs someone to do it.")
    if follow_up_time is not None and follow_up_on is None:
        errors["follow_up_on"] = _("Choose the day of the follow-up too.")
    if errors:
        raise ValidationError(errors)
    called_at = called_at or timezone.now()
    with transaction.atomic():
        call = CallLog.objects.create(contact=contact, user=user, outcome=outcome, note=note,
                                      called_at=called_at)
        if follow_up_on is not None:
            follow_up_add(contact=contact, assigned_to=user, created_by=user,
                          title=follow_up_title(call), due_on=follow_up_on,
                          due_time=follow_up_time)
        if outcome == CallOutcome.NOT_INTERESTED:
            hooks.contact_not_interested.call(contact, at=called_at)
    return call


def follow_up_title(call: CallLog) -> str:
    """The follow-up a call schedules: "Call again", with the note's start when there is one."""
    if call.note:
        return (_("Call again: %(note)s") % {"note": call.note})[:FollowUp._meta.get_field(
            "title").max_length]
    return _("Call again")


def called_recently_since(now: dt.datetime | None = None) -> dt.datetime:
    """Calls from this moment on take a contact off today's call list."""
    return (now or timezone.now()) - dt.timedelta(days=settings.CRM_CALLED_RECENTLY_DAYS)

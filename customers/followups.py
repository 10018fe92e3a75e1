"""Notes and follow-up tasks on contacts: the writes (views and admin call these).

A follow-up is due on a day (due_on), optionally at a time of day (due_time), both in the shop's
time zone. Its reminder email (customers.services.follow_up_reminders) is due at remind_at: the
due time, or settings.CRM_FOLLOW_UP_REMIND_HOUR on the due day. A new assignee or a new due
moment clears reminded_at, so the task is reminded again; a done task never is."""
import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.shop import shop

from .models import Contact, FollowUp, Note
from .owners import owner_is_eligible


def note_add(*, contact: Contact, author, body: str) -> Note:
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    return Note.objects.create(contact=contact, author=author, body=body)


def follow_up_remind_at(due_on: dt.date, due_time: dt.time | None) -> dt.datetime:
    """When the assignee is reminded: the due time, else the morning hour of the due day."""
    at = due_time or dt.time(settings.CRM_FOLLOW_UP_REMIND_HOUR)
    return dt.datetime.combine(due_on, at.replace(tzinfo=None), tzinfo=shop().zone)


def _validate(*, title: str, due_on: dt.date, assigned_to, created_by) -> None:
    errors = {}
    if not title:
        errors["title"] = _("Say what to do, e.g. 'Call about the new collection'.")
    if due_on < timezone.localdate() - dt.timedelta(days=365):
        errors["due_on"] = _("That date is more than a year ago.")
    # Anyone may take a task on themselves; a colleague must be staff who work contacts (the
    # system, created_by None, gives call-backs to the contact's owner).
    if assigned_to is None or (created_by is not None and assigned_to != created_by
                               and not owner_is_eligible(assigned_to)):
        errors["assigned_to"] = _("A follow-up can be given to an active member of the sales "
                                  "staff or a manager.")
    if errors:
        raise ValidationError(errors)


def follow_up_add(*, contact: Contact, assigned_to, title: str, due_on: dt.date,
                  due_time: dt.time | None = None, created_by=None) -> FollowUp:
    title = title.strip()
    _validate(title=title, due_on=due_on, assigned_to=assigned_to, created_by=created_by)
    return FollowUp.objects.create(contact=contact, assigned_to=assigned_to, title=title,
                                   due_on=due_on, due_time=due_time, created_by=created_by,
                                   remind_at=follow_up_remind_at(due_on, due_time))


def follow_up_update(*, follow_up: FollowUp, assigned_to, title: str, due_on: dt.date,
                     due_time: dt.time | None = None, changed_by=None) -> FollowUp:
    """Reassign, reschedule or reword a task; a new assignee or due moment is reminded anew."""
    title = title.strip()
    # Keeping the assignee is always allowed; a new one is checked as when adding.
    kept = assigned_to is not None and assigned_to.pk == follow_up.assigned_to_id
    _validate(title=title, due_on=due_on, assigned_to=assigned_to,
              created_by=assigned_to if kept else changed_by)
    remind_at = follow_up_remind_at(due_on, due_time)
    fields = ["assigned_to", "title", "due_on", "due_time", "remind_at"]
    with transaction.atomic():
        # Compared with the stored row (the reminder job may have claimed it meanwhile).
        stored = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if remind_at != stored.remind_at or assigned_to.pk != stored.assigned_to_id:
            follow_up.reminded_at = None
            fields.append("reminded_at")
        follow_up.assigned_to, follow_up.title = assigned_to, title
        follow_up.due_on, follow_up.due_time, follow_up.remind_at = due_on, due_time, remind_at
        follow_up.save(update_fields=fields)
    return follow_up


def follow_up_set_done(*, follow_up: FollowUp, done: bool) -> FollowUp:
    follow_up.done_at = timezone.now() if done else None
    follow_up.save(update_fields=["done_at"])
    return follow_up

"""Notes and follow-up tasks on contacts: the writes (views and admin call these)."""
import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Contact, FollowUp, Note


def note_add(*, contact: Contact, author, body: str) -> Note:
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    return Note.objects.create(contact=contact, author=author, body=body)


def follow_up_add(*, contact: Contact, assigned_to, title: str, due_on: dt.date,
                  created_by=None) -> FollowUp:
    title = title.strip()
    errors = {}
    if not title:
        errors["title"] = _("Say what to do, e.g. 'Call about the new collection'.")
    if due_on < timezone.localdate() - dt.timedelta(days=365):
        errors["due_on"] = _("That date is more than a year ago.")
    if errors:
        raise ValidationError(errors)
    return FollowUp.objects.create(contact=contact, assigned_to=assigned_to, title=title,
                                   due_on=due_on, created_by=created_by)


def follow_up_set_done(*, follow_up: FollowUp, done: bool) -> FollowUp:
    follow_up.done_at = timezone.now() if done else None
    follow_up.save(update_fields=["done_at"])
    return follow_up

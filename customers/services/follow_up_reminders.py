"""Follow-up reminders: an email to the assignee when a follow-up is due, once.

A periodic job (customers.follow_up_reminders, every minute) calls follow_up_reminders_send.
It claims the due reminders in one statement (UPDATE ... SET reminded_at WHERE reminded_at IS
NULL ... RETURNING id) before sending anything, so two workers or two beat ticks never send
the same reminder twice: on PostgreSQL the second waits for the first's rows and finds them
claimed (and SKIP LOCKED lets it take other rows meanwhile). A done task is never claimed. A
reassigned or rescheduled task has reminded_at cleared (customers.followups.follow_up_update)
and is claimed again at its new moment. If sending fails, the unsent claims are withdrawn and
the error raised: the next run tries them again.

Each email is in the assignee's language, with the contact page's address (CRM_PUBLIC_URL:
a staff page behind the login, so no token).
"""
import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from crm.shop import shop

from ..language import supported_language
from ..models import FollowUp

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


def follow_up_reminders_claim(*, now: dt.datetime, limit: int = BATCH_SIZE) -> list[int]:
    """Mark the open, unreminded follow-ups due by `now` as reminded; their ids. Atomic: a
    row is claimed by one run only."""
    table = connection.ops.quote_name(FollowUp._meta.db_table)
    skip_locked = (" FOR UPDATE SKIP LOCKED"
                   if connection.features.has_select_for_update_skip_locked else "")
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    due_by = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET reminded_at = %s WHERE id IN ("
            f"SELECT id FROM {table} WHERE done_at IS NULL AND reminded_at IS NULL"
            f" AND remind_at <= %s ORDER BY remind_at, id LIMIT %s{skip_locked})"
            " AND done_at IS NULL AND reminded_at IS NULL RETURNING id",
            [stamp, due_by, limit])
        return sorted(row[0] for row in cursor.fetchall())


def _contact_url(contact_id: int) -> str:
    path = reverse("dashboard:contact_detail", args=[contact_id])
    return settings.CRM_PUBLIC_URL.rstrip("/") + path


def follow_up_reminder_render(follow_up: FollowUp, *, language: str) -> tuple[str, str]:
    """(subject, plain-text body) in `language`."""
    contact = follow_up.contact
    name = contact.full_name or contact.email
    zone = shop().zone
    with translation.override(language):
        if follow_up.due_time is not None:
            moment = dt.datetime.combine(follow_up.due_on, follow_up.due_time, tzinfo=zone)
            when = formats.date_format(moment, "SHORT_DATETIME_FORMAT")
        else:
            when = formats.date_format(follow_up.due_on, "SHORT_DATE_FORMAT")
        subject = _("Follow-up due: %(title)s (%(contact)s)") % {
            "title": follow_up.title, "contact": name}
        body = render_to_string("customers/follow_up_reminder_email.txt", {
            "follow_up": follow_up, "contact_name": name, "when": when,
            "url": _contact_url(contact.pk)})
    return subject, body


def _email(follow_up: FollowUp) -> EmailMessage | None:
    user = follow_up.assigned_to
    if not user.is_active or not user.email:
        logger.info("Follow-up %s: its assignee has no address, no reminder", follow_up.pk)
        return None
    language = supported_language(user.language) or shop().default_language
    subject, body = follow_up_reminder_render(follow_up, language=language)
    return EmailMessage(subject, body, shop().from_email, [user.email])


def follow_up_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Email the assignees of the follow-ups due by `now` (default: now); the number sent."""
    ids = follow_up_reminders_claim(now=now or timezone.now())
    if not ids:
        return 0
    tasks = FollowUp.objects.filter(pk__in=ids).select_related("contact", "assigned_to")
    emails = {task.pk: email for task in tasks.order_by("pk") if (email := _email(task))}
    sent: list[int] = []
    try:
        with get_connection() as mailer:
            for pk, email in emails.items():
                mailer.send_messages([email])
                sent.append(pk)
    except Exception:
        unsent = set(emails) - set(sent)
        FollowUp.objects.filter(pk__in=unsent).update(reminded_at=None)  # next run retries
        raise
    return len(sent)

"""Sending pauses by itself when spam complaints cross a line, and a manager resumes it.

Mailbox providers (Gmail, Yahoo, Microsoft) start junking or refusing a sender whose spam
complaint rate reaches 0.3%. Every new complaint (an email complained about:
campaigns.suppression.message_complained, from ARF reports and email services' webhooks; or a
manager's "marked as spam" entry) checks the rate of the last day: complaints recorded in it
(campaigns.suppression.complaints_between) / emails sent in it. When it reaches
CRM_COMPLAINT_PAUSE_RATE and at least CRM_COMPLAINT_PAUSE_MIN_SENT emails were sent in that
day (one complaint in three emails says nothing), a SendingPause row is written and every
manager is emailed once, in their language. While it is active nothing leaves the outbox
(campaigns.outbox.checks.sending_pause): rows stay queued, nothing is lost. A manager resumes
on the Deliverability page; the day's count then starts again from the resume, so the same
complaints do not pause it again at once.
"""
import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.shop import shop
from customers.language import supported_language

from .models import Message, SendingPause
from .suppression import complaints_between

logger = logging.getLogger(__name__)

WINDOW = dt.timedelta(days=1)
# Rows that reached (or may have reached) a mailbox.
DELIVERED = (Message.Status.SENT, Message.Status.UNKNOWN)


def active_pause() -> SendingPause | None:
    return SendingPause.objects.filter(ended_at__isnull=True).order_by("started_at").first()


def complaint_counts(start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
    """(complaints recorded, emails sent) in [start, end)."""
    complaints = complaints_between(start, end)
    sent = Message.objects.filter(status__in=DELIVERED, sent_at__gte=start,
                                  sent_at__lt=end).count()
    return complaints, sent


def _window_start(now: dt.datetime) -> dt.datetime:
    last = (SendingPause.objects.filter(ended_at__isnull=False).order_by("-ended_at")
            .values_list("ended_at", flat=True).first())
    return max(now - WINDOW, last) if last else now - WINDOW


def over_the_line(complaints: int, sent: int) -> bool:
    return (sent >= settings.CRM_COMPLAINT_PAUSE_MIN_SENT and sent > 0
            and complaints / sent >= settings.CRM_COMPLAINT_PAUSE_RATE)


def complaint_pause_check(*, now: dt.datetime | None = None) -> SendingPause | None:
    """Pause sending if the last day's complaint rate crossed the line; the new pause, or None
    (not crossed, or paused already). Safe to run twice at once: one active pause at most (a
    partial unique constraint), and only the call that wrote it emails the managers."""
    now = now or timezone.now()
    if active_pause() is not None:
        return None
    complaints, sent = complaint_counts(_window_start(now), now)
    if not over_the_line(complaints, sent):
        return None
    try:
        with transaction.atomic():
            pause = SendingPause.objects.create(reason=SendingPause.Reason.COMPLAINTS,
                                                complaints=complaints, sent=sent, started_at=now)
    except IntegrityError:
        return None  # another check paused it a moment ago
    logger.warning("Sending paused: %d spam complaints for %d emails sent in the last day "
                   "(%.2f%%, limit %.2f%%); a manager resumes it on the Deliverability page",
                   complaints, sent, 100 * complaints / sent,
                   100 * settings.CRM_COMPLAINT_PAUSE_RATE)
    try:
        managers_notify(pause)
    except Exception:  # the pause holds whether or not the email went; the page shows it
        logger.exception("Could not email the managers about the sending pause")
    return pause


def complaint_recorded() -> None:
    """A complaint was just recorded (called after its commit): check the rate."""
    try:
        complaint_pause_check()
    except Exception:  # the complaint itself is recorded; the next one checks again
        logger.exception("Could not check the complaint rate")


def pause_text(pause: SendingPause) -> str:
    """One sentence, in the active language."""
    rate = 100 * pause.complaints / pause.sent if pause.sent else 0
    return _("Sending paused on %(when)s: %(complaints)d spam complaints for %(sent)d emails "
             "sent in the last day (%(rate).2f%%; the limit is %(limit).2f%%).") % {
        "when": timezone.localtime(pause.started_at).strftime("%Y-%m-%d %H:%M"),
        "complaints": pause.complaints, "sent": pause.sent, "rate": rate,
        "limit": 100 * settings.CRM_COMPLAINT_PAUSE_RATE}


def pause_email(pause: SendingPause, language: str) -> tuple[str, str]:
    """(subject, plain-text body) in `language`."""
    url = settings.CRM_PUBLIC_URL.rstrip("/") + reverse("campaigns:deliverability")
    with translation.override(language):
        subject = _("Campaign sending paused: too many spam complaints")
        body = "\n\n".join([
            pause_text(pause),
            _("No campaign email is sent until a manager resumes sending. Nothing is lost: "
              "the emails wait in the outbox."),
            _("Before resuming, find out why people marked the email as spam: an audience "
              "that did not ask for it, too many emails, or an unsubscribe link that is hard "
              "to find."),
            _("Deliverability page: %(url)s") % {"url": url},
        ]) + "\n"
    return subject, body


def managers_notify(pause: SendingPause) -> int:
    from .digest import digest_recipients  # the managers the failure digest goes to

    emails = []
    for user in digest_recipients():
        language = supported_language(user.language) or shop().default_language
        subject, body = pause_email(pause, language)
        emails.append(EmailMessage(subject, body, shop().from_email, [user.email]))
    if not emails:
        logger.warning("Sending paused, but no active manager has an email address")
        return 0
    with get_connection() as connection:
        return connection.send_messages(emails) or 0


def sending_resume(*, by) -> int:
    """A manager resumes sending; returns how many pauses ended (0: none was active)."""
    ended = SendingPause.objects.filter(ended_at__isnull=True).update(
        ended_at=timezone.now(), ended_by=by)
    if ended:
        logger.warning("Sending resumed by %s", by)
    return ended

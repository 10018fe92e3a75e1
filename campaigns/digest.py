"""The managers' daily digest of emails that failed for good.

A temporary failure is retried (campaigns.outbox.BACKOFF_MINUTES); after the last attempt, or
on a refusal that retrying cannot fix, the row is FAILED and nothing sends it again. Those rows
are counted on each campaign's page, but nobody is told: this digest, once a day, emails every
manager with an address, in their own language, the count per campaign since the previous
digest, the most common reasons and a link to the campaign. No failure, no email.

Once per shop day: the run claims its day (crm.DailyRun, unique on job and day) before
anything is sent, so a second copy (a retry, two beats, "run now" in the admin) does nothing.
Each digest covers from where the previous one ended to now, so a day the task did not run is
caught up by the next one. If sending fails the claim is withdrawn and the error raised: the
next run covers that period again.
"""
import datetime as dt
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import Left
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.roles import MANAGERS
from crm.models import DailyRun
from crm.shop import shop
from customers.language import supported_language

from .models import Message
from .outbox import MAX_ATTEMPTS, reason_label

logger = logging.getLogger(__name__)

JOB = "campaigns.failure_digest"
TOP_REASONS = 3
# SMTP replies can be long and multi-line: the digest groups and quotes their beginning.
REASON_CHARS = 200


@dataclass(frozen=True)
class CampaignFailures:
    campaign_id: int
    name: str
    count: int
    reasons: list[tuple[str, int]]  # (stored reason, count), most common first


def failures_between(start: dt.datetime, end: dt.datetime) -> list[CampaignFailures]:
    """Rows that became FAILED in [start, end), per campaign, most failures first."""
    rows = (Message.objects.filter(status=Message.Status.FAILED, failed_at__gte=start,
                                   failed_at__lt=end)
            .annotate(reason=Left("last_error", REASON_CHARS))
            .values("campaign_id", "campaign__name", "reason")
            .annotate(count=Count("id")).order_by())
    names: dict[int, str] = {}
    reasons: dict[int, Counter] = defaultdict(Counter)
    for row in rows:
        names[row["campaign_id"]] = row["campaign__name"]
        reasons[row["campaign_id"]][" ".join(row["reason"].split())] += row["count"]
    found = [CampaignFailures(campaign_id=pk, name=names[pk], count=sum(counter.values()),
                              reasons=counter.most_common(TOP_REASONS))
             for pk, counter in reasons.items()]
    return sorted(found, key=lambda item: (-item.count, item.name, item.campaign_id))


def digest_recipients() -> list:
    """Active managers (the Managers group, or superusers) with an address; one per address."""
    User = get_user_model()  # noqa: N806 - a model class
    users = (User.objects.filter(is_active=True).exclude(email="")
             .filter(Q(is_superuser=True) | Q(groups__name=MANAGERS)).distinct().order_by("pk"))
    unique = {}
    for user in users:
        unique.setdefault(user.email.strip().lower(), user)
    return list(unique.values())


def _campaign_url(campaign_id: int) -> str:
    path = reverse("admin:campaigns_campaign_change", args=[campaign_id])
    return settings.CRM_PUBLIC_URL.rstrip("/") + path


def digest_render(failures: list[CampaignFailures], *, start: dt.datetime, end: dt.datetime,
                  language: str) -> tuple[str, str]:
    """(subject, plain-text body) in `language`."""
    total = sum(item.count for item in failures)
    with translation.override(language):
        subject = ngettext("%(count)d email failed for good", "%(count)d emails failed for good",
                           total) % {"count": total}
        period = {"start": formats.date_format(timezone.localtime(start), "SHORT_DATETIME_FORMAT"),
                  "end": formats.date_format(timezone.localtime(end), "SHORT_DATETIME_FORMAT")}
        intro = ngettext(
            "%(count)d email failed for good between %(start)s and %(end)s.",
            "%(count)d emails failed for good between %(start)s and %(end)s.",
            total) % {"count": total, **period}
        explanation = _("Nothing will send them again: the mail server refused them for good, "
                        "or all %(attempts)d attempts failed.") % {"attempts": MAX_ATTEMPTS}
        campaigns = [{"name": item.name, "count": item.count,
                      "url": _campaign_url(item.campaign_id),
                      "reasons": [{"label": reason_label(reason) or _("(no reason recorded)"),
                                   "count": count} for reason, count in item.reasons]}
                     for item in failures]
        body = render_to_string("campaigns/digest_email.txt", {
            "intro": intro, "explanation": explanation, "campaigns": campaigns})
    return subject, body


def _send(failures: list[CampaignFailures], start: dt.datetime, end: dt.datetime) -> int:
    emails = []
    for user in digest_recipients():
        language = supported_language(user.language) or shop().default_language
        subject, body = digest_render(failures, start=start, end=end, language=language)
        emails.append(EmailMessage(subject, body, shop().from_email, [user.email]))
    if not emails:
        logger.warning("Emails failed for good, but no active manager has an email address")
        return 0
    with get_connection() as connection:
        return connection.send_messages(emails) or 0


def failure_digest_send(*, now: dt.datetime | None = None) -> DailyRun | None:
    """Today's digest: claim the shop day, then email the managers if anything failed.
    Returns the day's record, or None if today's digest was claimed already."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    previous = DailyRun.objects.filter(job=JOB, day__lt=day).order_by("-day").first()
    start = previous.period_end if previous else now - dt.timedelta(days=1)
    try:
        with transaction.atomic():
            run = DailyRun.objects.create(job=JOB, day=day, period_start=start, period_end=now)
    except IntegrityError:
        logger.info("The failed-email digest of %s was done already", day)
        return None
    failures = failures_between(start, now)
    emailed = 0
    if failures:
        try:
            emailed = _send(failures, start, now)
        except Exception:
            run.delete()  # the next run covers this period again
            raise
    run.result = {"failed": sum(item.count for item in failures), "campaigns": len(failures),
                  "emailed": emailed}
    run.save(update_fields=["result"])
    return run

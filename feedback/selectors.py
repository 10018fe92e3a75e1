"""Survey reads: who is due a survey, NPS figures, and the checks other apps call.

The functions campaigns calls through campaigns.hooks (registered in feedback/campaign_hooks.py):
    promotions_paused(messages, now=now, already=blocked)   # campaigns.outbox.checks.blocked_messages
    promotion_pause_q(now) / promoters_q() / detractors_q() # campaigns.audience
"""
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth
from django.utils import timezone

from campaigns.models import CampaignRun, Message, Suppression
from customers.models import Contact, Purchase

from .defaults import SURVEY_CAMPAIGN_NAME
from .models import PromotionPause, SurveyInvite, SurveyResponse
from .nps import NpsCounts, response_rate

# The daily task looks back this many extra days, so a day it missed (worker down) is caught
# up the next day; the minimum gap keeps anyone from being asked twice.
CATCH_UP_DAYS = 2
# Not-sent outcomes decided by a rule: such an invitation does not count as "asked".
_NOT_ASKED = (Message.Status.SUPPRESSED, Message.Status.CAPPED)
# The outbox's reason code per pause reason ("paused:detractor" kept for rows stored before
# pauses had reasons).
PAUSED_REASONS: dict[str, str] = {
    PromotionPause.Reason.UNHAPPY_ANSWER: "paused:detractor",
    PromotionPause.Reason.NOT_INTERESTED: "paused:not_interested",
    PromotionPause.Reason.MANAGER: "paused:manager",
}
PAUSED_REASON = PAUSED_REASONS[PromotionPause.Reason.UNHAPPY_ANSWER]


# --- Who is due a survey ----------------------------------------------------------------------

def survey_candidates(*, now: dt.datetime, run: CampaignRun | None = None) -> QuerySet[Contact]:
    """Contacts with consent, not suppressed, with a counted purchase CRM_SURVEY_DELAY_DAYS
    ago (up to CATCH_UP_DAYS more), not asked within CRM_SURVEY_MIN_GAP_DAYS and not in `run`.
    Annotated with `survey_purchase`: the latest such purchase's id."""
    day = timezone.localdate(now) - dt.timedelta(days=settings.CRM_SURVEY_DELAY_DAYS)
    purchase = (Purchase.objects.counted()
                .filter(contact=OuterRef("pk"),
                        purchased_on__range=(day - dt.timedelta(days=CATCH_UP_DAYS), day))
                .order_by("-purchased_at", "-id").values("id")[:1])
    asked = (SurveyInvite.objects.filter(
        contact=OuterRef("pk"),
        created_at__gt=now - dt.timedelta(days=settings.CRM_SURVEY_MIN_GAP_DAYS))
        .exclude(message__status__in=_NOT_ASKED))
    contacts = (Contact.objects.filter(marketing_consent=True).exclude(email="")
                .filter(~Exists(Suppression.objects.filter(email=OuterRef("email"))))
                .filter(~Exists(asked))
                .annotate(survey_purchase=Subquery(purchase))
                .filter(survey_purchase__isnull=False))
    if run is not None:
        contacts = contacts.filter(~Exists(Message.objects.filter(run=run,
                                                                  contact=OuterRef("pk"))))
    return contacts.order_by("pk")


# --- NPS --------------------------------------------------------------------------------------

_COUNTS = {
    "promoters": Count("id", filter=Q(score__gte=9)),
    "passives": Count("id", filter=Q(score__gte=7, score__lte=8)),
    "detractors": Count("id", filter=Q(score__lte=6)),
}


@dataclass(frozen=True)
class NpsSummary:
    start: dt.date
    end: dt.date
    counts: NpsCounts
    sent: int
    answered: int

    @property
    def nps(self) -> float | None:
        return self.counts.nps

    @property
    def response_rate(self) -> float | None:
        return response_rate(self.answered, self.sent)


@dataclass(frozen=True)
class MonthNps:
    month: dt.date
    counts: NpsCounts

    @property
    def nps(self) -> float | None:
        return self.counts.nps


def _day_range(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end+1 00:00) in the shop's time zone."""
    zone = timezone.get_current_timezone()
    return (dt.datetime.combine(start, dt.time.min, zone),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, zone))


def nps_summary(*, start: dt.date, end: dt.date) -> NpsSummary:
    """NPS of the answers given from `start` to `end` (inclusive), and the response rate of the
    surveys sent in that period (answered whenever). Three queries."""
    since, until = _day_range(start, end)
    counts = SurveyResponse.objects.filter(created_at__gte=since, created_at__lt=until) \
        .aggregate(**_COUNTS)
    sent = SurveyInvite.objects.filter(message__status=Message.Status.SENT,
                                       message__sent_at__gte=since, message__sent_at__lt=until)
    return NpsSummary(start=start, end=end, counts=NpsCounts(**counts), sent=sent.count(),
                      answered=sent.filter(response__isnull=False).count())


def nps_by_month(*, start: dt.date, end: dt.date) -> list[MonthNps]:
    """One row per month that has answers, oldest first, in one query."""
    since, until = _day_range(start, end)
    rows = (SurveyResponse.objects.filter(created_at__gte=since, created_at__lt=until)
            .annotate(month=TruncMonth("created_at")).order_by("month")
            .values("month").annotate(**_COUNTS))
    return [MonthNps(month=_as_date(row.pop("month")), counts=NpsCounts(**row)) for row in rows]


def _as_date(value) -> dt.date:
    return timezone.localdate(value) if isinstance(value, dt.datetime) else value


def latest_comments(*, limit: int = 10) -> list[SurveyResponse]:
    return list(SurveyResponse.objects.exclude(comment="").select_related("contact")
                .order_by("-updated_at", "-id")[:limit])


def contact_feedback(contact: Contact, *, limit: int = 5,
                     now: dt.datetime | None = None) -> dict:
    """Context for templates/feedback/_contact_feedback.html: {"responses", "paused_until"}."""
    now = now or timezone.now()
    pause = PromotionPause.objects.filter(contact=contact, paused_until__gt=now).first()
    responses = list(SurveyResponse.objects.filter(contact=contact)
                     .select_related("follow_up").order_by("-created_at", "-id")[:limit])
    return {"responses": responses, "paused_until": pause.paused_until if pause else None}


# --- Hooks for campaigns ----------------------------------------------------------------------

def promotion_pause_q(now: dt.datetime) -> Q:
    """Contacts whose promotions are not paused (for audience filters on Contact)."""
    return ~Q(Exists(PromotionPause.objects.filter(contact=OuterRef("pk"),
                                                   paused_until__gt=now)))


def promotions_paused(messages: list[Message], *, now: dt.datetime,
                      already: dict | None = None) -> dict[int, tuple[str, str]]:
    """Outbox rows not to send because their contact's promotions are paused (an unhappy
    answer, "not interested" on a call, a manager): {message id: (SUPPRESSED, "paused:<why>")},
    in the shape outbox.checks.blocked_messages returns. Survey emails are never paused. One
    query."""
    already = already or {}
    candidates = [m for m in messages
                  if m.pk not in already and m.campaign.name != SURVEY_CAMPAIGN_NAME]
    paused = dict(PromotionPause.objects.filter(
        contact_id__in={m.contact_id for m in candidates}, paused_until__gt=now)
        .values_list("contact_id", "reason"))
    return {m.pk: (Message.Status.SUPPRESSED, PAUSED_REASONS[paused[m.contact_id]])
            for m in candidates if m.contact_id in paused}


def promoters_q(*, within_days: int | None = None, now: dt.datetime | None = None) -> Q:
    """Contacts whose latest answer is 9 or 10 (optionally given within `within_days`)."""
    later = SurveyResponse.objects.filter(contact=OuterRef("contact"),
                                          created_at__gt=OuterRef("created_at"))
    promoted = SurveyResponse.objects.filter(contact=OuterRef("pk"), score__gte=9) \
        .filter(~Exists(later))
    if within_days is not None:
        promoted = promoted.filter(created_at__gte=(now or timezone.now())
                                   - dt.timedelta(days=within_days))
    return Q(Exists(promoted))


def detractors_q() -> Q:
    """Contacts whose latest answer is 0 to 6."""
    later = SurveyResponse.objects.filter(contact=OuterRef("contact"),
                                          created_at__gt=OuterRef("created_at"))
    return Q(Exists(SurveyResponse.objects.filter(contact=OuterRef("pk"), score__lte=6)
                    .filter(~Exists(later))))


def answered_q() -> Q:
    """Contacts who answered at least one survey."""
    return Q(Exists(SurveyResponse.objects.filter(contact=OuterRef("pk"))))


def contact_latest_survey_score() -> Subquery:
    """The latest survey score of the contact OuterRef("contact") (an annotation on rows that
    point to a contact: the call list's scores)."""
    latest = SurveyResponse.objects.filter(contact=OuterRef("contact")).order_by(
        "-created_at", "-id").values("score")[:1]
    return Subquery(latest)

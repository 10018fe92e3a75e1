"""Moving contacts through their journeys' steps (campaigns.journeys has the rest).

    journeys_advance(now=None) -> AdvanceReport     # every minute (campaigns.journeys_advance)

Due ACTIVE enrollments (next_at <= now) are taken one at a time, each in its own transaction
and under its row lock (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL: two workers never
walk one enrollment), and walked until a wait or the end. The stored position and the rows
written for a step commit together, so a worker killed half way leaves the position where it
was and no row; a second run writes nothing twice (an email step also looks for its row).

Steps:
* EMAIL: one outbox row (QUEUED, or HELD_OUT for a held-out enrollment) in the step's run of
  the day, with the step's template (or a test variant's: campaigns.variants); the first step
  whose template shows {{ coupon }} issues the enrollment's coupon, later steps show the same
  one (campaigns.rendering falls back to it). Sending starts after commit.
* WAIT: next_at moves on by wait_days.
* CONDITION: bought since the enrollment started / clicked a link in its emails / used its
  coupon / is at one of the stages; `negate` inverts. Not met: the enrollment ends CONDITION.

Before every step: a purchase since the start ends it CONVERTED (the purchase hook usually
did already), no consent, no address or a suppressed address UNSUBSCRIBED, a journey
switched off or left without steps STOPPED. After the last step: COMPLETED (also for contacts
whose remaining steps were removed).
"""
import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Exists
from django.utils import timezone

from .coupons import coupon_terms, coupon_create
from .journeys import bought_since_started, enrollments_end
from .models import (
    Campaign,
    CampaignRun,
    Coupon,
    JourneyEnrollment,
    JourneyStep,
    LinkClick,
    Message,
    Suppression,
)
from .rendering import new_message_id
from .template_needs import COUPON, template_needs
from .variants import variant_pick

logger = logging.getLogger(__name__)
Enrollment = JourneyEnrollment
Status = Enrollment.Status
Kind = JourneyStep.Kind
Condition = JourneyStep.Condition

BATCH = 200
# The once-a-minute task stops taking new batches after this long, well inside its minute.
BUDGET_SECONDS = 45
NO_TEMPLATE = "journey step has no template"


@dataclass
class AdvanceReport:
    walked: int = 0
    emails: int = 0  # rows written (held-out ones included)
    ended: dict[str, int] = field(default_factory=dict)
    failed: int = 0  # enrollments whose step raised: left where they were, tried next time
    run_ids: set[int] = field(default_factory=set)


def _due(now: dt.datetime, after: int):
    return (Enrollment.objects.filter(status=Status.ACTIVE, next_at__lte=now, pk__gt=after)
            .order_by("pk").values_list("pk", flat=True))


def journeys_advance(*, now: dt.datetime | None = None,
                     budget_seconds: float | None = None) -> AdvanceReport:
    """Walk every due enrollment (in batches of BATCH, by id), then start sending the runs
    that got emails. An enrollment whose step raises is logged, left as it was and skipped
    until the next call."""
    now = now or timezone.now()
    deadline = time.monotonic() + (budget_seconds or BUDGET_SECONDS)
    report, steps, after = AdvanceReport(), _Steps(), 0
    while time.monotonic() < deadline:
        ids = list(_due(now, after)[:BATCH])
        if not ids:
            break
        for pk in ids:
            _advance_one(pk, now, steps, report)
        after = ids[-1]
    _enqueue(report.run_ids)
    return report


def _enqueue(run_ids: set[int]) -> None:
    """Start sending the runs that got emails, once their rows are committed (at once in the
    task, which runs outside any transaction)."""
    from .services import _enqueue_sending  # services imports campaigns.journeys

    for run_id in sorted(run_ids):
        transaction.on_commit(lambda run_id=run_id: _enqueue_sending(run_id))


class _Steps:
    """Each campaign's steps and switch, read once per call."""

    def __init__(self) -> None:
        self._by_campaign: dict[int, tuple[Campaign, list[JourneyStep]]] = {}

    def of(self, campaign_id: int) -> tuple[Campaign, list[JourneyStep]]:
        if campaign_id not in self._by_campaign:
            campaign = Campaign.objects.get(pk=campaign_id)
            steps = list(JourneyStep.objects.filter(campaign_id=campaign_id)
                         .select_related("template").order_by("position"))
            self._by_campaign[campaign_id] = (campaign, steps)
        return self._by_campaign[campaign_id]


def _advance_one(pk: int, now: dt.datetime, steps: _Steps, report: AdvanceReport) -> None:
    run_ids: set[int] = set()
    try:
        with transaction.atomic():
            locked = Enrollment.objects.filter(pk=pk, status=Status.ACTIVE, next_at__lte=now)
            if connection.vendor == "postgresql":
                locked = locked.select_for_update(skip_locked=True, of=("self",))
            enrollment = locked.select_related("contact").first()
            if enrollment is None:  # another worker has it, or it moved on
                return
            campaign, campaign_steps = steps.of(enrollment.campaign_id)
            ended = _walk(enrollment, campaign, campaign_steps, now, report, run_ids)
    except Exception:  # one broken enrollment must not stop the others
        logger.exception("Journey enrollment %s could not advance; it stays where it was", pk)
        report.failed += 1
        return
    report.walked += 1
    report.run_ids |= run_ids
    if ended:
        report.ended[ended] = report.ended.get(ended, 0) + 1


def _walk(enrollment: Enrollment, campaign: Campaign, steps: list[JourneyStep],
          now: dt.datetime, report: AdvanceReport, run_ids: set[int]) -> str:
    """Do the due steps; returns the status the enrollment ended with ("" if still going)."""
    for _ in range(len(steps) + 1):
        reason = _exit_reason(enrollment, campaign, steps)
        if reason:
            _save(enrollment)  # where it stopped, for the funnel
            enrollments_end(Enrollment.objects.filter(pk=enrollment.pk), status=reason, now=now)
            return reason
        step = next((s for s in steps if s.position >= enrollment.next_position), None)
        if step is None:
            _save(enrollment, status=Status.COMPLETED, ended_at=now)
            return Status.COMPLETED
        if step.kind == Kind.EMAIL:
            run_ids |= _email(enrollment, campaign, step, now, report)
        elif step.kind == Kind.WAIT:
            enrollment.next_at += dt.timedelta(days=step.wait_days)
        elif not condition_met(step, enrollment):
            _save(enrollment, next_position=step.position, status=Status.CONDITION,
                  ended_at=now)
            return Status.CONDITION
        enrollment.next_position = step.position + 1
        if enrollment.next_at > now:
            break
    _save(enrollment)
    return ""


def _save(enrollment: Enrollment, **changes) -> None:
    for name, value in changes.items():
        setattr(enrollment, name, value)
    enrollment.save(update_fields=["next_position", "next_at", "status", "ended_at"])


def _exit_reason(enrollment: Enrollment, campaign: Campaign, steps: list[JourneyStep]) -> str:
    """Why the enrollment ends before its next step ("" if it goes on)."""
    if not steps or (not campaign.is_active and campaign.trigger != Campaign.Trigger.MANUAL):
        return Status.STOPPED
    if (Enrollment.objects.filter(pk=enrollment.pk)
            .filter(Exists(bought_since_started())).exists()):
        return Status.CONVERTED
    contact = enrollment.contact
    if (not contact.email or not contact.marketing_consent
            or Suppression.objects.filter(email=contact.email.lower()).exists()):
        return Status.UNSUBSCRIBED
    return ""


# --- Email steps ------------------------------------------------------------------------------

def _step_run(step: JourneyStep, contact_id: int, now: dt.datetime) -> CampaignRun:
    """The step's run of the (shop's) day, open for sending. A contact in the journey twice
    the same day (two entries) gets a run of its own for the second row."""
    key = f"journey:{step.pk}:{timezone.localdate(now).isoformat()}"
    run, _created = CampaignRun.objects.get_or_create(
        campaign_id=step.campaign_id, key=key,
        defaults={"status": CampaignRun.Status.SENDING, "started_at": now})
    if Message.objects.filter(run=run, contact_id=contact_id).exists():
        run, _created = CampaignRun.objects.get_or_create(
            campaign_id=step.campaign_id, key=f"{key}:{contact_id}:{now.timestamp():.0f}",
            defaults={"status": CampaignRun.Status.SENDING, "started_at": now})
    if run.status != CampaignRun.Status.SENDING:
        CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.Status.SENDING,
                                                     finished_at=None)
    return run


def enrollment_coupon(enrollment_id: int) -> Coupon | None:
    """The coupon the journey issued in this enrollment (on its first email showing one)."""
    return (Coupon.objects.filter(message__enrollment_id=enrollment_id)
            .order_by("pk").first())


def _coupon_for(enrollment: Enrollment, campaign: Campaign, template,
                now: dt.datetime) -> Coupon | None:
    """A new coupon for this step's row, if the campaign gives one, the template shows it
    and the enrollment has none yet (later steps render the same one)."""
    if (enrollment.held_out or not campaign.coupon_kind or template is None
            or COUPON not in template_needs(template)
            or enrollment_coupon(enrollment.pk) is not None):
        return None
    kind, value, currency = coupon_terms(campaign)
    return coupon_create(contact=enrollment.contact, kind=kind, value=value, currency=currency,
                         expires_at=now + dt.timedelta(days=campaign.coupon_valid_days),
                         campaign=campaign)


def _email(enrollment: Enrollment, campaign: Campaign, step: JourneyStep, now: dt.datetime,
           report: AdvanceReport) -> set[int]:
    """The step's outbox row (once per enrollment and step); the run to start sending."""
    if Message.objects.filter(enrollment=enrollment, step=step).exists():
        return set()
    contact = enrollment.contact
    template, variant = step.template, None
    if template is not None and not enrollment.held_out:
        variant = variant_pick(campaign=campaign, step=step)
        if variant is not None:
            template = variant.template
    fields = {"status": Message.Status.HELD_OUT if enrollment.held_out else Message.Status.QUEUED}
    if template is None:  # saved around JourneyStep.clean(): failed visibly, the journey goes on
        logger.error("Journey %s step %s has no template: its email for contact %s failed",
                     campaign.pk, step.position, contact.pk)
        fields = {"status": Message.Status.FAILED, "last_error": NO_TEMPLATE, "failed_at": now}
    run = _step_run(step, contact.pk, now)
    Message.objects.create(
        run=run, campaign=campaign, contact=contact, message_id=new_message_id(),
        to_email=contact.email, not_before=now, created_at=now, template=template,
        variant=variant, step=step, enrollment=enrollment,
        coupon=_coupon_for(enrollment, campaign, template, now)
        if fields["status"] == Message.Status.QUEUED else None, **fields)
    report.emails += 1
    return {run.pk} if fields["status"] == Message.Status.QUEUED else set()


# --- Conditions -------------------------------------------------------------------------------

def _condition_true(step: JourneyStep, enrollment: Enrollment) -> bool:
    if step.condition == Condition.BOUGHT_SINCE:
        return (Enrollment.objects.filter(pk=enrollment.pk)
                .filter(Exists(bought_since_started())).exists())
    if step.condition == Condition.CLICKED:
        return LinkClick.objects.filter(message__enrollment_id=enrollment.pk,
                                        kind=LinkClick.Kind.CLICK).exists()
    if step.condition == Condition.COUPON_USED:
        return Coupon.objects.filter(message__enrollment_id=enrollment.pk,
                                     redeemed_at__isnull=False).exists()
    if step.condition == Condition.STAGE:
        return enrollment.contact.stage in (step.stages or [])
    logger.error("Journey step %s has no condition: treated as not met", step.pk)
    return False


def condition_met(step: JourneyStep, enrollment: Enrollment) -> bool:
    """Whether the enrollment goes on past this condition step (`negate` inverts it)."""
    return _condition_true(step, enrollment) != step.negate


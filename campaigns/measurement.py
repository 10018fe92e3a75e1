"""What a campaign changed: emailed against held-out contacts, and how far sending has got.

    campaign_uplift(campaign, window_days=None) -> UpliftReport
    campaign_progress(run_or_campaign) -> {status: count}
    campaign_clicks(campaign) -> ClickFigures

The unit is the contact: SENT messages are the emailed group, HELD_OUT messages the control
group drawn at random from the same audience, over all the campaign's runs, each contact
counted once, in the group of their first assignment (their first SENT or HELD_OUT row of the
campaign). Runs do not assign a contact again within the window (campaigns.services), but a
contact may be picked again after it, and rows written before that rule existed may overlap:
neither is counted twice. A row responded when its contact made a live (not refunded)
purchase within the window; its revenue is the sum of those purchases in the base currency.

When the window starts, chosen once for both groups: for a sent message, its sent_at (the
customer could not react before); for a held-out message, its not_before, the moment the row
became due, which is when it would have been sent (the run's start for a manual run, the event
plus the delay for a triggered one). Both windows are equally long; the emailed group's starts
later only by the outbox's queueing delay (minutes against a window of days). Windows that have
not ended yet are counted as far as they go and reported in `open_windows`.

Everything is aggregated in the database (one query per group); uplift.py does the statistics.
"""
import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Case, Count, DecimalField, Exists, F, IntegerField, OuterRef, Q, Sum, Value, When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.querysets import net_amount_base

from .models import Campaign, CampaignRun, JourneyEnrollment, LinkClick, Message
from .uplift import GroupStats, UpliftResult, UpliftStatus, uplift

Status = Message.Status

STATUS_TEXT = {
    # Not a format string ("95% c" only looks like one to xgettext).
    # xgettext:no-python-format
    UpliftStatus.OK: _("Emailed against held-out contacts, with 95% confidence intervals."),
    UpliftStatus.NO_EMAILED: _("Nothing has been sent yet."),
    UpliftStatus.NO_HOLDOUT: _("Nobody was held out, so there is nothing to compare with."),
    UpliftStatus.TOO_FEW_FOR_REVENUE: _("Too few contacts in a group for a revenue interval."),
}


@dataclass(frozen=True)
class UpliftReport:
    campaign_id: int
    window_days: int
    result: UpliftResult
    open_windows: int  # rows whose window has not ended yet: the figures may still grow

    @property
    def status_text(self) -> str:
        return str(STATUS_TEXT[self.result.status])


def _window_rows(campaign: Campaign, status: str, window: dt.timedelta):
    """The group's messages, each with its live purchases' count and revenue in its window.

    One LEFT JOIN to purchases grouped by message (not a subquery per row): the database
    reads each contact's purchases once through purchase_contact_date_idx.
    """
    anchor = "sent_at" if status == Status.SENT else "not_before"
    in_window = Q(contact__purchases__refunded_at__isnull=True,
                  contact__purchases__purchased_at__gte=F(anchor),
                  contact__purchases__purchased_at__lt=F(anchor) + Value(window))
    money = DecimalField(max_digits=18, decimal_places=3)
    return (Message.objects.filter(campaign=campaign, status=status)
            .filter(~Exists(_earlier_assignment(campaign)))
            .exclude(**{f"{anchor}__isnull": True})
            .annotate(window_end=F(anchor) + Value(window))
            .annotate(bought=Count("contact__purchases", filter=in_window),
                      revenue=Coalesce(Sum(net_amount_base("contact__purchases__"), filter=in_window),
                                       Value(0), output_field=money)))


def _earlier_assignment(campaign: Campaign):
    """An earlier emailed or held-out row of the same contact and campaign, correlated on an
    outer Message: its presence means the outer row is not the contact's first assignment.
    Ids grow with creation, and a campaign's runs are built one at a time (the campaign row
    lock in campaigns.services), so the smaller id is the earlier assignment."""
    return Message.objects.filter(campaign=campaign, contact=OuterRef("contact"),
                                  status__in=[Status.SENT, Status.HELD_OUT],
                                  pk__lt=OuterRef("pk"))


def _group(campaign: Campaign, status: str, window: dt.timedelta, now: dt.datetime
           ) -> tuple[GroupStats, int]:
    rows = _window_rows(campaign, status, window)
    totals = rows.aggregate(
        contacts=Count("pk"),
        responders=Coalesce(Sum(Case(When(bought__gt=0, then=Value(1)), default=Value(0),
                                     output_field=IntegerField())), 0),
        revenue_total=Sum("revenue"),
        revenue_squares=Sum(F("revenue") * F("revenue")),
        open_windows=Count("pk", filter=Q(window_end__gt=now)),
    )
    stats = GroupStats(contacts=totals["contacts"], responders=totals["responders"],
                       revenue_sum=float(totals["revenue_total"] or 0),
                       revenue_sum_squares=float(totals["revenue_squares"] or 0))
    return stats, totals["open_windows"]


def campaign_uplift(campaign: Campaign, *, window_days: int | None = None,
                    now: dt.datetime | None = None) -> UpliftReport:
    """Response rate and revenue per contact, emailed minus held out, over all runs."""
    days = window_days or campaign.uplift_window_days
    window, now = dt.timedelta(days=days), now or timezone.now()
    emailed, emailed_open = _group(campaign, Status.SENT, window, now)
    held_out, held_open = _group(campaign, Status.HELD_OUT, window, now)
    return UpliftReport(campaign_id=campaign.pk, window_days=days,
                        result=uplift(emailed, held_out), open_windows=emailed_open + held_open)


def campaign_progress(run_or_campaign: CampaignRun | Campaign) -> dict[str, int]:
    """How many of the run's (or all the campaign's runs') messages are in each status."""
    key = "run" if isinstance(run_or_campaign, CampaignRun) else "campaign"
    counts = dict(Message.objects.filter(**{key: run_or_campaign}).order_by()
                  .values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {status: counts.get(status, 0) for status in Status.values}


@dataclass(frozen=True)
class ClickFigures:
    """Emails of the campaign that reached someone (sent) and how many of them had a link
    clicked (campaigns.clicks), each email counted once. Shown beside the uplift, which stays
    the measure of success: a click is interest, a purchase is the result."""

    sent: int
    clicked: int

    @property
    def rate(self) -> float | None:
        return self.clicked / self.sent if self.sent else None


def campaign_clicks(campaign: Campaign) -> ClickFigures:
    """Two counts in one query on the campaign's messages."""
    clicked = Exists(LinkClick.objects.filter(message=OuterRef("pk"),
                                              kind=LinkClick.Kind.CLICK))
    figures = Message.objects.filter(campaign=campaign, status=Status.SENT).aggregate(
        sent=Count("pk"), clicked=Count("pk", filter=Q(clicked)))
    return ClickFigures(sent=figures["sent"], clicked=figures["clicked"])


# --- Journeys -------------------------------------------------------------------------------
#
# A journey is measured as any campaign: each enrollment's email steps write SENT or
# HELD_OUT rows, and campaign_uplift counts every contact once, in the group of their first
# such row (the first email step of their first enrollment), so the whole journey is compared
# per contact, emailed enrollments against held-out ones. The funnel below says where its
# contacts are and where they left.


@dataclass(frozen=True)
class FunnelStep:
    position: int
    label: str
    passed: int   # enrollments that went past this step
    here: int     # still in the journey, this step next
    left: dict[str, int]  # ended at this step, by status (bought, unsubscribed, condition...)


@dataclass(frozen=True)
class JourneyFunnel:
    enrolled: int
    held_out: int
    by_status: dict[str, int]
    steps: list[FunnelStep]


def journey_funnel(campaign: Campaign) -> JourneyFunnel | None:
    """Enrolled (held out among them), then per step: passed, waiting at it, left at it by
    status; None for a campaign without steps. One query for the enrollments."""
    steps = list(campaign.steps.select_related("template").order_by("position"))
    if not steps:
        return None
    rows = (JourneyEnrollment.objects.filter(campaign=campaign).order_by()
            .values_list("next_position", "status", "held_out").annotate(n=Count("pk")))
    positions = [step.position for step in steps]
    passed = dict.fromkeys(positions, 0)
    here = dict.fromkeys(positions, 0)
    left: dict[int, dict[str, int]] = {position: {} for position in positions}
    by_status: dict[str, int] = {}
    enrolled = held_out = 0
    for next_position, status, is_held_out, count in rows:
        enrolled += count
        held_out += count if is_held_out else 0
        by_status[status] = by_status.get(status, 0) + count
        at = next((p for p in positions if p >= next_position), None)  # None: past the end
        for position in positions:
            if position < next_position:
                passed[position] += count
        if at is None or status == JourneyEnrollment.Status.COMPLETED:
            continue
        if status == JourneyEnrollment.Status.ACTIVE:
            here[at] += count
        else:
            left[at][status] = left[at].get(status, 0) + count
    return JourneyFunnel(
        enrolled=enrolled, held_out=held_out, by_status=by_status,
        steps=[FunnelStep(position=step.position, label=_step_label(step),
                          passed=passed[step.position], here=here[step.position],
                          left=left[step.position]) for step in steps])


def _step_label(step) -> str:
    if step.kind == step.Kind.EMAIL:
        return f"{step.get_kind_display()}: {step.template}" if step.template_id else str(
            step.get_kind_display())
    if step.kind == step.Kind.WAIT:
        return str(_("Wait %(days)s days") % {"days": step.wait_days})
    text = step.get_condition_display() if step.condition else step.get_kind_display()
    return str(_("Only if not: %(condition)s") % {"condition": text}) if step.negate else str(
        _("Only if: %(condition)s") % {"condition": text})

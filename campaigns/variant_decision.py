"""Deciding a subject or content test (campaigns.variants) and showing its figures.

    variant_tests_decide_due(now=None) -> int          # the beat task's work: tests now due
    variant_test_decide(test_id, by_manager=False) -> VariantTest | None
    variant_test_report(test, now=None) -> dict        # the figures (decided: as stored)

A test is due `decide_after_hours` after its first message (started_at). Per variant its SENT
rows of the test's campaign and step are counted; the control group is the HELD_OUT rows of the
same campaign and step written since the test started (for a journey step, also the
journey's held-out rows without a step, where it holds contacts out of the whole journey).

* Purchases (the default): a row responded when its contact made a live (not refunded)
  purchase within `decide_after_hours` of its sent_at (of its not_before for a held-out row,
  as campaigns.measurement anchors the holdout). Each variant's uplift against the held-out
  group gets Newcombe's 95% interval.
* Clicks: a row responded when a link in it was clicked (LinkClick kind click).

The winner is the variant with the highest rate; the best is compared with the runner-up by
the same interval, and the result says whether the difference is clear (campaigns.
variant_choice). With nothing sent yet the test is not decided (logged, tried again next
time), until MAX_WAIT_FACTOR times `decide_after_hours` have passed: then the best estimate
(the first variant) is taken so the waiting contacts are not kept waiting for ever. A manager
may decide at any time.

The decision is taken once, under the test's row lock: two deciders at the same moment (the
beat and a manager) decide once. Then the waiting rows are released with the winner.
"""
import datetime as dt
import logging

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Purchase

from .models import Campaign, ContentVariant, LinkClick, Message, VariantTest
from .uplift import Difference, GroupStats
from .variant_choice import Arm, Choice, ChoiceReason, choose
from .variants import test_variants, variant_test_release

logger = logging.getLogger(__name__)
Status = Message.Status

# With nothing sent after this many times the test's period, the best estimate is taken anyway.
MAX_WAIT_FACTOR = 3


def _period(test: VariantTest) -> dt.timedelta:
    return dt.timedelta(hours=test.decide_after_hours)


def _responded(anchor: str, window: dt.timedelta):
    """A live purchase of the outer row's contact within `window` after its `anchor`."""
    return Exists(Purchase.objects.filter(
        contact=OuterRef("contact"), refunded_at__isnull=True,
        purchased_at__gte=OuterRef(anchor), purchased_at__lt=OuterRef(anchor) + Value(window)))


def _clicked():
    return Exists(LinkClick.objects.filter(message=OuterRef("pk"), kind=LinkClick.Kind.CLICK))


def _test_rows(test: VariantTest, status: str) -> QuerySet[Message]:
    return Message.objects.filter(campaign_id=test.campaign_id, step_id=test.step_id,
                                  status=status)


def _arms(test: VariantTest, variants: list[ContentVariant]) -> list[Arm]:
    """One grouped query: each variant's sent rows and responders."""
    responded = (_clicked() if test.metric == VariantTest.Metric.CLICKS
                 else _responded("sent_at", _period(test)))
    counts = {row["variant"]: row for row in
              _test_rows(test, Status.SENT).filter(variant__in=variants).order_by()
              .values("variant").annotate(sent=Count("pk"),
                                          responders=Count("pk", filter=Q(responded)))}
    return [Arm(key=variant.pk, contacts=counts.get(variant.pk, {}).get("sent", 0),
                responders=counts.get(variant.pk, {}).get("responders", 0))
            for variant in variants]


def _control(test: VariantTest) -> GroupStats | None:
    """The held-out contacts of the test's period (purchases only: they get no email to
    click)."""
    if test.metric == VariantTest.Metric.CLICKS:
        return None
    rows = Message.objects.filter(campaign_id=test.campaign_id, status=Status.HELD_OUT)
    # A journey step's test: the step's held-out rows, or the journey's own where it holds
    # contacts out of the whole journey (rows without a step).
    rows = rows.filter(Q(step_id=test.step_id) | Q(step__isnull=True)) if test.step_id else \
        rows.filter(step__isnull=True)
    if test.started_at is not None:
        rows = rows.filter(created_at__gte=test.started_at)
    totals = rows.aggregate(contacts=Count("pk"), responders=Count(
        "pk", filter=Q(_responded("not_before", _period(test)))))
    return GroupStats(contacts=totals["contacts"], responders=totals["responders"])


def _difference(difference: Difference | None) -> dict | None:
    if difference is None or difference.estimate is None:
        return None
    return {"estimate": difference.estimate, "low": difference.low, "high": difference.high,
            "clear": difference.significant}


def _result(test: VariantTest, variants: list[ContentVariant], arms: list[Arm],
            control: GroupStats | None, choice: Choice) -> dict:
    labels = {variant.pk: variant.label for variant in variants}
    return {
        "metric": test.metric,
        "window_hours": test.decide_after_hours,
        "variants": [{"id": arm.key, "label": labels[arm.key], "sent": arm.contacts,
                      "responders": arm.responders, "rate": arm.rate,
                      "uplift": _difference(choice.uplifts.get(arm.key))} for arm in arms],
        "control": None if control is None else {
            "contacts": control.contacts, "responders": control.responders,
            "rate": control.response_rate},
        "comparison": {"best": labels[choice.winner], "runner_up": labels[choice.runner_up],
                       **(_difference(choice.comparison) or {})},
        "winner": choice.winner,
        "reason": choice.reason.value,
    }


def _figures(test: VariantTest, variants: list[ContentVariant]) -> tuple[list[Arm], dict]:
    arms, control = _arms(test, variants), _control(test)
    return arms, _result(test, variants, arms, control, choose(arms, control=control))


def variant_test_report(test: VariantTest) -> dict | None:
    """The figures to show: the stored decision, or the running test's figures so far (its
    `winner` is then only the current leader). None for a test with fewer than 2 variants."""
    if test.decided_at:
        return test.result or None
    variants = test_variants(test)
    if len(variants) < 2:
        return None
    return _figures(test, variants)[1]


def _not_yet(test: VariantTest, arms: list[Arm], now: dt.datetime) -> bool:
    """Nothing sent in the test: wait, up to the maximum (MAX_WAIT_FACTOR periods)."""
    if any(arm.contacts for arm in arms):
        return False
    if test.started_at and now >= test.started_at + MAX_WAIT_FACTOR * _period(test):
        logger.warning("Variant test %s: nothing sent after %d hours; deciding by the best "
                       "estimate so the waiting messages go out", test.pk,
                       MAX_WAIT_FACTOR * test.decide_after_hours)
        return False
    logger.warning("Variant test %s: nothing sent in the test yet; not decided (tried "
                   "again by the next check)", test.pk)
    return True


def campaign_lock(test_id: int) -> None:
    """The test's campaign row lock, first, as runs and event writes take it: a run being
    built while the test is decided either commits its waiting rows before the decision
    (which releases them) or sees the decision (and sends the winner); none is left waiting."""
    campaign_id = VariantTest.objects.filter(pk=test_id).values_list("campaign_id").first()
    if campaign_id:
        Campaign.objects.select_for_update().filter(pk=campaign_id[0]).exists()


def variant_test_decide(test_id: int, *, now: dt.datetime | None = None,
                        by_manager: bool = False) -> VariantTest | None:
    """Decide the test if it is due (a manager: at once), store the figures and release the
    waiting rows with the winner. None when nothing was decided (not due, no data yet, decided
    already, fewer than two variants). Safe to call twice or at the same time."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign_lock(test_id)
        test = VariantTest.objects.select_for_update().filter(pk=test_id).first()
        if test is None or test.decided_at is not None:
            return None
        if not by_manager and (test.started_at is None
                               or now < test.started_at + _period(test)):
            return None
        variants = test_variants(test)
        if len(variants) < 2:
            logger.info("Variant test %s has fewer than two variants: nothing to decide", test.pk)
            return None
        arms, result = _figures(test, variants)
        if not by_manager and _not_yet(test, arms, now):
            return None
        result["decided_by"] = "manager" if by_manager else "schedule"
        test.result, test.decided_at = result, now
        test.winner = next(variant for variant in variants if variant.pk == result["winner"])
        test.save(update_fields=["result", "decided_at", "winner"])
        variant_test_release(test, now=now)
    logger.info("Variant test %s decided: %r (%s)", test.pk, test.winner.label, result["reason"])
    return test


def variant_tests_decide_due(*, now: dt.datetime | None = None) -> int:
    """Decide every started, undecided test whose period has passed; how many were decided."""
    now = now or timezone.now()
    due = [test.pk for test in VariantTest.objects.filter(
        decided_at__isnull=True, started_at__isnull=False).only(
        "pk", "started_at", "decide_after_hours")
        if now >= test.started_at + _period(test)]
    return sum(variant_test_decide(test_id, now=now) is not None for test_id in due)


# --- Plain words ------------------------------------------------------------------------------

def _points(value: float) -> str:
    return f"{value * 100:+.1f}"


def result_text(result: dict) -> str:
    """Why the winner was chosen, in plain words, from a stored result."""
    comparison = result.get("comparison") or {}
    names = {"best": comparison.get("best", ""), "runner_up": comparison.get("runner_up", "")}
    if result.get("reason") == ChoiceReason.NO_DATA.value:
        text = _("Nothing had been sent in the test when it was decided: “%(best)s”, the first "
                 "variant, was chosen so the waiting contacts were not kept waiting.") % names
    elif "estimate" not in comparison:  # the runner-up was sent to nobody
        text = _("“%(best)s” was chosen: “%(runner_up)s” was sent to nobody, so there is no "
                 "difference to measure.") % names
    else:
        figures = {**names, "estimate": _points(comparison["estimate"]),
                   "low": _points(comparison["low"]), "high": _points(comparison["high"])}
        if result.get("reason") == ChoiceReason.CLEAR.value:
            text = _("“%(best)s” did clearly better than “%(runner_up)s”: %(estimate)s "
                     "points (95%% interval %(low)s to %(high)s).") % figures
        else:
            text = _("No clear difference between “%(best)s” and “%(runner_up)s” "
                     "(%(estimate)s points, 95%% interval %(low)s to %(high)s): the best "
                     "estimate, “%(best)s”, was chosen.") % figures
    if result.get("decided_by") == "manager":
        text += " " + _("A manager decided the test.")
    return text

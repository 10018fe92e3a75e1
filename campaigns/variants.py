"""Subject and content tests: a campaign (or a journey step) carries two or more variants
(ContentVariant), a share of its audience gets them at random, and the winner, decided by the
uplift in purchases or by clicks (VariantTest.metric, campaigns.variant_decision), goes to the
rest.

    variant_pick(campaign=..., step=None) -> ContentVariant | None
    variants_assign_run(run, now=...)                 # a batch run, after the holdout split
    variants_assign_stream(run, contact_ids, now=...) # an event campaign's rows, as they come
    variant_test_release(test, now=...)               # the waiting rows get the winner

Batch runs (campaigns.services.campaign_run_start): while the campaign's test is undecided,
`test_percent` of the run's QUEUED rows are drawn at random and share the variants equally;
the other QUEUED rows become WAITING (never claimed by the outbox) until the decision, which
releases them with the winner. Coupons and referral codes are made for them with the run, as
for every row that will be sent; a released row's unused coupon is valid from its release.

Rows written one by one as contacts arrive (event campaigns, journey steps) are all in the
test until it is decided: each gets a variant at random (test_percent does not apply, nobody
waits); after the decision, the winner. A test with fewer than two variants does nothing: the
campaign's own template is sent as usual. Everything is set in SQL, a few statements per run,
never a per-row loop (a run may have 100,000 rows).
"""
import datetime as dt
import logging
import secrets

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    Campaign, CampaignRun, ContentVariant, Coupon, JourneyStep, Message, VariantTest,
)
from .rendering import validate_template
from .template_needs import is_survey_campaign, needs_problems, template_needs

logger = logging.getLogger(__name__)
Status = Message.Status


def _test_of(campaign: Campaign, step: JourneyStep | None) -> VariantTest | None:
    return VariantTest.objects.filter(campaign=campaign, step=step).select_related(
        "winner__template").first()


def test_variants(test: VariantTest) -> list[ContentVariant]:
    """The test's variants, in a fixed order (the first is the tie-breaker's choice)."""
    return list(ContentVariant.objects.filter(campaign_id=test.campaign_id, step_id=test.step_id)
                .select_related("template").order_by("pk"))


def _started(test: VariantTest, now: dt.datetime) -> None:
    """The test's clock starts with its first message (a conditional UPDATE: once)."""
    if test.started_at is None:
        VariantTest.objects.filter(pk=test.pk, started_at__isnull=True).update(started_at=now)
        test.started_at = now


def variant_pick(*, campaign: Campaign, step: JourneyStep | None = None
                 ) -> ContentVariant | None:
    """The variant a new message of this campaign (or journey step) gets now: None when it
    has no test (or fewer than two variants), the winner once decided, else one at random.
    The first pick starts the test's clock (VariantTest.started_at)."""
    test = _test_of(campaign, step)
    if test is None:
        return None
    if test.winner_id:
        return test.winner
    variants = test_variants(test)
    if len(variants) < 2 or test.decided_at:
        return None
    _started(test, timezone.now())
    return variants[secrets.randbelow(len(variants))]


def equal_shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` shares differing by at most one, the larger ones placed at
    random (so no variant is favoured by its position)."""
    base, extra = divmod(total, parts)
    shares = [base + 1] * extra + [base] * (parts - extra)
    secrets.SystemRandom().shuffle(shares)
    return shares


def _give(rows: QuerySet[Message], variant: ContentVariant, count: int | None = None) -> int:
    """Give `count` rows drawn at random (all of them when None) the variant and its
    template: one UPDATE with a random subquery."""
    fields = {"variant_id": variant.pk, "template_id": variant.template_id}
    if count is None:
        return rows.update(**fields)
    if count <= 0:
        return 0
    drawn = rows.order_by("?").values("pk")[:count]
    return Message.objects.filter(pk__in=drawn).update(**fields)


def _assign(test: VariantTest, rows: QuerySet[Message], *, tested: int, now: dt.datetime,
            wait_rest: bool) -> int:
    """The rows (QUEUED, no variant yet): `tested` of them drawn at random share the variants
    equally; the others WAIT (a batch run) or stay as they are. After the decision: all get
    the winner. Returns how many rows got a variant."""
    if test.winner_id:
        return _give(rows, test.winner)
    variants = test_variants(test)
    if len(variants) < 2 or test.decided_at:
        return 0
    given = sum(_give(rows, variant, share)
                for variant, share in zip(variants, equal_shares(tested, len(variants)),
                                          strict=True))
    waiting = rows.update(status=Status.WAITING) if wait_rest else 0
    if given or waiting:  # a run that emails nobody does not start the test's clock
        _started(test, now)
    return given


def _campaign_test(campaign_id: int) -> VariantTest | None:
    return (VariantTest.objects.filter(campaign_id=campaign_id, step__isnull=True)
            .select_related("winner").first())


def tested_count(queued: int, test_percent: int) -> int:
    """How many of a batch run's emailed rows are in the test (the rest wait)."""
    return round(queued * test_percent / 100)


def test_split(campaign: Campaign, emailed: int) -> tuple[int, int]:
    """(in the test, waiting) for a batch run that would email `emailed` contacts now: the
    "Run now" confirmation shows it. (0, 0) without a running test."""
    test = _campaign_test(campaign.pk)
    if test is None or test.winner_id or test.decided_at or len(test_variants(test)) < 2:
        return 0, 0
    tested = tested_count(emailed, test.test_percent)
    return tested, emailed - tested


def variants_assign_run(run: CampaignRun, *, now: dt.datetime) -> int:
    """A batch run's split, after its holdout split and its coupons and codes: see the module
    docstring. Returns how many rows got a variant (the winner, once decided)."""
    test = _campaign_test(run.campaign_id)
    if test is None:
        return 0
    rows = Message.objects.filter(run=run, status=Status.QUEUED, variant__isnull=True)
    tested = tested_count(rows.count(), test.test_percent)
    return _assign(test, rows, tested=tested, now=now, wait_rest=True)


def variants_assign_stream(run: CampaignRun, contact_ids: list[int], *,
                           now: dt.datetime) -> int:
    """Rows an event campaign just wrote for these contacts: each in the test with a variant
    drawn at random while it is undecided, the winner after. (A run has one row per contact,
    so the run and the contacts name the rows.)"""
    test = _campaign_test(run.campaign_id)
    if test is None:
        return 0
    rows = Message.objects.filter(run=run, contact_id__in=contact_ids,
                                  status=Status.QUEUED, variant__isnull=True)
    return _assign(test, rows, tested=rows.count(), now=now, wait_rest=False)


def variant_test_release(test: VariantTest, *, now: dt.datetime) -> int:
    """The decided test's WAITING rows become QUEUED with the winner's template, due now (or
    later, where the campaign's delay says so); their unused coupons count their validity from
    now. Sending starts after the transaction commits. Returns the rows released."""
    winner = test.winner
    waiting = Message.objects.filter(campaign_id=test.campaign_id, step_id=test.step_id,
                                     status=Status.WAITING)
    run_ids = sorted(set(waiting.values_list("run_id", flat=True)))
    if not run_ids:
        return 0
    _coupons_renew(waiting, test.campaign, now)
    released = waiting.update(status=Status.QUEUED, variant_id=winner.pk,
                              template_id=winner.template_id,
                              not_before=Greatest("not_before", now))
    transaction.on_commit(lambda: _enqueue_sending(run_ids))
    logger.info("Variant test %s: %d waiting messages released with %r", test.pk, released,
                winner.label)
    return released


def _coupons_renew(waiting: QuerySet[Message], campaign: Campaign, now: dt.datetime) -> None:
    """A waiting row's coupon was issued with its run; nobody has seen it yet, so its
    validity starts when the email is actually released."""
    Coupon.objects.filter(pk__in=waiting.filter(coupon__isnull=False).values("coupon_id"),
                          redeemed_at__isnull=True).update(
        expires_at=now + dt.timedelta(days=campaign.coupon_valid_days))


def _enqueue_sending(run_ids: list[int]) -> None:
    from .tasks import run_sending_enqueue  # tasks import the trigger services: not at the top

    for run_id in run_ids:
        run_sending_enqueue(run_id)


# --- Saving a variant -------------------------------------------------------------------------

def variant_problems(variant: ContentVariant) -> list[str]:
    """Why this variant cannot be saved: its template does not render (in any language), or
    needs what its campaign does not create (a coupon, a referral code: campaigns.template_needs,
    as for the campaign's own template), or its journey step is another campaign's."""
    if variant.campaign_id is None or variant.template_id is None:
        return []  # the model's own checks say what is missing
    problems = []
    template, campaign = variant.template, variant.campaign
    for part in (template, *template.translations.all()):
        try:
            validate_template(part, language=getattr(part, "language", None) or None)
        except ValidationError as error:
            problems.extend(str(_("The template “%(name)s” cannot be rendered: %(error)s") % {
                "name": template.name, "error": message}) for message in error.messages)
    problems += needs_problems(template_needs(template), is_survey=is_survey_campaign(campaign),
                               kind=campaign.kind, coupon_kind=campaign.coupon_kind,
                               event=campaign.event)
    if variant.step_id and variant.step.campaign_id != campaign.pk:
        problems.append(str(_("This journey step belongs to another campaign.")))
    return problems


def variant_save(variant: ContentVariant) -> ContentVariant:
    """Save a variant after the model's checks and variant_problems (ValidationError, nothing
    written, when one fails)."""
    variant.full_clean()
    if problems := variant_problems(variant):
        raise ValidationError({NON_FIELD_ERRORS: problems})
    variant.save()
    return variant


def variant_delete_problems(variant: ContentVariant) -> list[str]:
    """A variant of a running test stays until the test is decided (its figures, and the
    waiting contacts, depend on it)."""
    running = VariantTest.objects.filter(campaign_id=variant.campaign_id, step_id=variant.step_id,
                                         started_at__isnull=False, decided_at__isnull=True)
    if variant.pk and running.exists():
        return [str(_("“%(label)s” is in a running test: decide the test before removing "
                      "it.") % {"label": variant.label})]
    return []


def variant_delete(variant: ContentVariant) -> None:
    """Remove a variant (ValidationError while its test runs; a variant that was sent is
    kept by the database: Message.variant is PROTECT)."""
    if problems := variant_delete_problems(variant):
        raise ValidationError(problems)
    variant.delete()


def variant_test_save(test: VariantTest) -> VariantTest:
    """Save a test's settings after the model's checks (a journey step of its campaign)."""
    test.full_clean()
    if test.step_id and test.step.campaign_id != test.campaign_id:
        raise ValidationError({"step": _("This journey step belongs to another campaign.")})
    test.save()
    return test


def variant_test_delete(test: VariantTest, *, now: dt.datetime | None = None) -> int:
    """Remove a test. Its waiting rows are not left waiting for ever: they are sent the
    campaign's own email (the step's, for a journey step). Returns the rows released."""
    now = now or timezone.now()
    with transaction.atomic():
        # The campaign row lock, as runs take it: no run adds waiting rows behind our back.
        Campaign.objects.select_for_update().filter(pk=test.campaign_id).exists()
        waiting = Message.objects.filter(campaign_id=test.campaign_id, step_id=test.step_id,
                                         status=Status.WAITING)
        run_ids = sorted(set(waiting.values_list("run_id", flat=True)))
        _coupons_renew(waiting, test.campaign, now)
        released = waiting.update(status=Status.QUEUED, variant=None, template=None,
                                  not_before=Greatest("not_before", now))
        test.delete()
        if run_ids:
            transaction.on_commit(lambda: _enqueue_sending(run_ids))
    return released

"""Subject and content tests: a campaign (or a journey step) carries two or more variants
(ContentVariant), a share of its audience gets them at random, and the winner, decided by the
uplift in purchases or by clicks (VariantTest.metric), goes to the rest.

    variant_pick(campaign=..., step=None) -> ContentVariant | None

Rows written one by one as contacts arrive (event campaigns, journey steps) are all in the
test until it is decided: each gets a variant at random; after the decision, the winner.
"""
import secrets

from .models import Campaign, ContentVariant, JourneyStep, VariantTest


def _test_of(campaign: Campaign, step: JourneyStep | None) -> VariantTest | None:
    return VariantTest.objects.filter(campaign=campaign, step=step).select_related(
        "winner__template").first()


def variant_pick(*, campaign: Campaign, step: JourneyStep | None = None
                 ) -> ContentVariant | None:
    """The variant a new message of this campaign (or journey step) gets now: None when it
    has no test (or fewer than two variants), the winner once decided, else one at random."""
    test = _test_of(campaign, step)
    if test is None:
        return None
    if test.winner_id:
        return test.winner
    variants = list(ContentVariant.objects.filter(campaign=campaign, step=step)
                    .select_related("template").order_by("pk"))
    if len(variants) < 2:
        return None
    return variants[secrets.randbelow(len(variants))]

"""Subject tests in batch runs: an exact random share of the emailed rows gets the variants in
equal shares (set in SQL), the rest waits for the winner (campaigns.variants)."""
import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Message, ReferralCode
from campaigns.services import campaign_run_plan, campaign_run_start

from .variant_helpers import buyers, campaign, variants

pytestmark = pytest.mark.django_db
Status = Message.Status


def test_a_run_gives_the_test_share_the_variants_equally_and_the_rest_waits():
    buyers(50)
    offer = campaign(holdout_percent=10)
    test, (a, b) = variants(offer, test_percent=20)

    run = campaign_run_start(campaign=offer)

    rows = Message.objects.filter(run=run)
    assert rows.filter(status=Status.HELD_OUT).count() == 5
    assert rows.filter(status=Status.HELD_OUT, variant__isnull=False).count() == 0
    queued = rows.filter(status=Status.QUEUED)
    assert queued.count() == 9  # round(45 * 20%)
    counts = Counter(queued.values_list("variant__label", flat=True))
    assert sorted(counts.values()) == [4, 5]
    assert all(row.template_id == row.variant.template_id for row in queued)
    waiting = rows.filter(status=Status.WAITING)
    assert waiting.count() == 36 and not waiting.filter(variant__isnull=False).exists()
    test.refresh_from_db()
    assert test.started_at == run.started_at


def test_the_test_share_is_drawn_at_random():
    contacts = buyers(40)
    firsts = set()
    for index in range(4):
        offer = campaign(name=f"c{index}")
        variants(offer, test_percent=25)
        run = campaign_run_start(campaign=offer)
        tested = set(run.messages.filter(status=Status.QUEUED).values_list("contact_id",
                                                                             flat=True))
        assert len(tested) == 10
        firsts.add(frozenset(tested))
    assert len(firsts) > 1  # four draws of 10 of 40 alike: about 1 in 10^24
    assert len(contacts) == 40


def test_test_percent_100_puts_everyone_in_the_test_and_nobody_waits():
    buyers(10)
    offer = campaign()
    variants(offer, ("A", "B", "C"), test_percent=100)

    run = campaign_run_start(campaign=offer)

    assert not run.messages.filter(status=Status.WAITING).exists()
    assert sorted(Counter(run.messages.values_list("variant__label", flat=True)).values()) == \
        [3, 3, 4]


def test_a_test_with_one_variant_does_nothing():
    buyers(6)
    offer = campaign()
    test, _made = variants(offer, ("Only",), test_percent=50)

    run = campaign_run_start(campaign=offer)

    assert run.messages.filter(status=Status.QUEUED, variant__isnull=True,
                               template__isnull=True).count() == 6
    test.refresh_from_db()
    assert test.started_at is None


def test_a_decided_test_sends_its_winner_to_everyone_in_a_later_run():
    buyers(6)
    offer = campaign()
    test, (a, b) = variants(offer, test_percent=20)
    test.winner, test.decided_at = b, timezone.now()
    test.save()

    run = campaign_run_start(campaign=offer)

    assert set(run.messages.values_list("status", "variant", "template")) == {
        (Status.QUEUED, b.pk, b.template_id)}


def test_the_run_confirmation_says_how_many_get_the_test_and_how_many_wait():
    buyers(20)
    offer = campaign(holdout_percent=10)
    variants(offer, test_percent=50)

    plan = campaign_run_plan(offer)

    assert (plan.emailed, plan.held_out, plan.tested, plan.waiting) == (18, 2, 9, 9)


def test_waiting_rows_get_their_coupon_and_referral_code_with_the_run():
    buyers(10)
    offer = campaign(kind=Campaign.Kind.REFERRAL, coupon_kind=Campaign.CouponKind.PERCENT,
                     coupon_value=Decimal("10"))
    variants(offer, test_percent=20, coupon=True)

    run = campaign_run_start(campaign=offer)

    waiting = run.messages.filter(status=Status.WAITING)
    assert waiting.count() == 8
    assert not waiting.filter(coupon__isnull=True).exists()
    assert ReferralCode.objects.filter(
        contact__in=waiting.values("contact")).count() == 8


def test_a_big_run_is_split_with_a_handful_of_queries(django_assert_max_num_queries):
    from campaigns.variants import variants_assign_run
    from campaigns.tests.factories import CampaignRunFactory, MessageFactory

    offer = campaign()
    variants(offer, test_percent=10)
    run = CampaignRunFactory(campaign=offer)
    MessageFactory.create_batch(200, run=run, status=Status.QUEUED)

    with django_assert_max_num_queries(8):
        given = variants_assign_run(run, now=timezone.now() - dt.timedelta(minutes=1))

    assert given == 20 and run.messages.filter(status=Status.WAITING).count() == 180


def test_a_run_that_emails_nobody_does_not_start_the_test():
    offer = campaign()
    test, _made = variants(offer)

    campaign_run_start(campaign=offer)

    test.refresh_from_db()
    assert test.started_at is None

"""Subject tests in streams (event campaigns, journey steps): every row written while the test
is undecided is in it, with a variant drawn at random; after the decision, the winner."""
from collections import Counter

import pytest
from django.utils import timezone

from campaigns.models import Campaign, JourneyStep, Message
from campaigns.services import campaign_event, event_messages_write
from campaigns.variants import variant_pick

from .variant_helpers import buyers, campaign, template, variants

pytestmark = pytest.mark.django_db
Status = Message.Status


def _event_campaign(**values) -> Campaign:
    return campaign(trigger=Campaign.Trigger.EVENT, event=Campaign.Event.FIRST_PURCHASE,
                    is_active=True, **values)


def test_every_event_email_written_while_undecided_gets_a_random_variant():
    contacts = buyers(30)
    offer = _event_campaign()
    test, (a, b) = variants(offer, test_percent=10)  # test_percent is for batch runs only

    for contact in contacts:
        campaign_event(contact_id=contact.pk, event=Campaign.Event.FIRST_PURCHASE)

    rows = Message.objects.filter(campaign=offer)
    assert rows.count() == 30 and not rows.filter(status=Status.WAITING).exists()
    counts = Counter(rows.values_list("variant__label", flat=True))
    assert set(counts) == {"A", "B"}  # all alike by chance: 1 in 2^29
    assert all(row.template_id == row.variant.template_id for row in rows)
    test.refresh_from_db()
    assert test.started_at is not None


def test_a_chunk_of_event_emails_shares_the_variants_equally():
    contacts = buyers(9)
    offer = _event_campaign(holdout_percent=0)
    variants(offer, ("A", "B", "C"))

    written = event_messages_write(offer, [c.pk for c in contacts], now=timezone.now())

    assert written == 9
    assert Counter(Message.objects.values_list("variant__label", flat=True)) == {
        "A": 3, "B": 3, "C": 3}


def test_held_out_event_rows_get_no_variant():
    contacts = buyers(40)
    offer = _event_campaign(holdout_percent=50)
    variants(offer)

    event_messages_write(offer, [c.pk for c in contacts], now=timezone.now())

    held_out = Message.objects.filter(status=Status.HELD_OUT)
    assert held_out.exists()  # none of 40 held out at 50%: 1 in 10^12
    assert not held_out.filter(variant__isnull=False).exists()
    assert not Message.objects.filter(status=Status.QUEUED, variant__isnull=True).exists()


def test_after_the_decision_event_emails_get_the_winner():
    contacts = buyers(5)
    offer = _event_campaign()
    test, (a, b) = variants(offer)
    test.winner, test.decided_at = a, timezone.now()
    test.save()

    for contact in contacts:
        campaign_event(contact_id=contact.pk, event=Campaign.Event.FIRST_PURCHASE)

    assert set(Message.objects.values_list("variant", "template")) == {(a.pk, a.template_id)}


def test_variant_pick_for_a_journey_step_is_random_then_the_winner():
    journey = campaign()
    step = JourneyStep.objects.create(campaign=journey, position=1, kind=JourneyStep.Kind.EMAIL,
                                      template=template("Step subject"))
    test, (a, b) = variants(journey, step=step)
    assert variant_pick(campaign=journey) is None  # the campaign's own email has no test

    picks = Counter(variant_pick(campaign=journey, step=step).label for _ in range(60))

    assert set(picks) == {"A", "B"}
    test.refresh_from_db()
    assert test.started_at is not None
    test.winner, test.decided_at = b, timezone.now()
    test.save()
    assert {variant_pick(campaign=journey, step=step) for _ in range(5)} == {b}


def test_variant_pick_with_one_variant_is_none():
    journey = campaign()
    variants(journey, ("Only",))

    assert variant_pick(campaign=journey) is None

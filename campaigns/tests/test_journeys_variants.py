"""A journey step can carry a subject test: while it runs, contacts reaching the step get a
variant at random; the test is decided on that step's emails by clicks (or purchases); after
that every contact reaching the step gets the winner."""
import datetime as dt

import pytest
from django.utils import timezone

from campaigns.journey_advance import journeys_advance
from campaigns.models import JourneyStep, LinkClick, Message, VariantTest
from campaigns.tests.journeys import email, enrolled, journey
from campaigns.tests.variant_helpers import variants
from campaigns.variant_decision import variant_test_decide

pytestmark = pytest.mark.django_db
Status = Message.Status


def test_a_journey_steps_test_is_random_then_decided_by_its_clicks_then_the_winner():
    campaign = journey(email(), email())
    second = JourneyStep.objects.get(campaign=campaign, position=2)
    test, (a, b) = variants(campaign, step=second, metric=VariantTest.Metric.CLICKS,
                            decide_after_hours=1)
    for _ in range(40):
        enrolled(campaign)

    journeys_advance()

    first_rows = Message.objects.filter(step__position=1)
    step_rows = Message.objects.filter(step=second)
    assert first_rows.count() == step_rows.count() == 40
    assert not first_rows.exclude(variant=None).exists()  # the first step has no test
    picked = {variant: step_rows.filter(variant=variant).count() for variant in (a, b)}
    assert all(picked.values())  # both variants in use, at random
    assert all(row.template_id == row.variant.template_id for row in step_rows)

    # The rows were sent; B's readers click, A's do not.
    sent_at = timezone.now() - dt.timedelta(hours=2)
    step_rows.update(status=Status.SENT, sent_at=sent_at, claimed_at=sent_at)
    for row in step_rows.filter(variant=b):
        LinkClick.objects.create(message=row, contact=row.contact, url="https://shop.example/",
                                 url_hash=f"{row.pk:064d}")
    test.refresh_from_db()
    assert test.started_at is not None  # the first pick started its clock
    variant_test_decide(test.pk, now=test.started_at + dt.timedelta(hours=1, minutes=1))

    test.refresh_from_db()
    assert test.winner == b and test.decided_at is not None
    later = enrolled(campaign)
    journeys_advance()
    assert Message.objects.get(enrollment=later, step=second).variant == b

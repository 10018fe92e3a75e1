"""The end of a subject test, through the real outbox: the test share is sent its variants'
subjects, and once the test is decided the waiting contacts are sent the winner's subject
(a real SMTP server receives them)."""
import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Message
from campaigns.services import campaign_run_start
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - the fixture
from campaigns.variant_decision import variant_test_decide
from customers.tests.factories import record_purchase

from .variant_helpers import buyers, campaign, variants

pytestmark = pytest.mark.django_db
Status = Message.Status


def _subjects(sink) -> Counter:
    return Counter(str(received.message["Subject"]) for received in sink.received)


def test_the_waiting_contacts_are_sent_the_winners_subject(smtp_sink,
                                                            django_capture_on_commit_callbacks):
    buyers(10)
    offer = campaign()
    test, (a, b) = variants(offer, test_percent=40)
    with django_capture_on_commit_callbacks(execute=True):
        run = campaign_run_start(campaign=offer)
    assert _subjects(smtp_sink) == {"Subject A": 2, "Subject B": 2}
    assert run.messages.filter(status=Status.WAITING).count() == 6
    record_purchase(run.messages.filter(variant=b).first().contact, days_ago=0)

    with django_capture_on_commit_callbacks(execute=True):
        variant_test_decide(test.pk, by_manager=True)

    assert _subjects(smtp_sink) == {"Subject A": 2, "Subject B": 8}
    assert run.messages.filter(status=Status.SENT).count() == 10
    waited = run.messages.exclude(pk__in=[m.pk for m in run.messages.filter(variant=a)])
    assert set(waited.values_list("variant", flat=True)) == {b.pk}
    run.refresh_from_db()
    assert run.status == run.Status.DONE


def test_a_run_with_waiting_rows_stays_open_until_they_are_released(smtp_sink,
                                                                   django_capture_on_commit_callbacks):
    buyers(4)
    offer = campaign()
    variants(offer, test_percent=50)

    with django_capture_on_commit_callbacks(execute=True):
        run = campaign_run_start(campaign=offer)

    run.refresh_from_db()
    assert len(smtp_sink.received) == 2
    assert run.status == run.Status.SENDING


def test_released_rows_keep_a_later_due_time_and_their_coupon_counts_from_the_release():
    buyers(4)
    offer = campaign(coupon_kind=Campaign.CouponKind.PERCENT, coupon_value=Decimal("10"),
                     coupon_valid_days=14, delay_days=2)
    test, (a, b) = variants(offer, test_percent=50, coupon=True)
    run = campaign_run_start(campaign=offer)
    waiting = list(run.messages.filter(status=Status.WAITING).select_related("coupon"))
    due = waiting[0].not_before
    later = timezone.now() + dt.timedelta(days=1)  # before the campaign's two-day delay ends

    variant_test_decide(test.pk, now=later, by_manager=True)

    for row in run.messages.filter(pk__in=[m.pk for m in waiting]).select_related("coupon"):
        assert (row.status, row.not_before) == (Status.QUEUED, due)
        assert row.coupon.expires_at == later + dt.timedelta(days=14)

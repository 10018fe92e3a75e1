"""End to end on PostgreSQL: purchases enter a journey through the real doors, two workers
walk it at once (row locks, SKIP LOCKED), and its emails go out through the outbox to a real
SMTP server, each once, the reminder with the coupon the earlier email issued."""
import datetime as dt

import pytest
from django.utils import timezone

from campaigns.journey_advance import journeys_advance
from campaigns.models import Coupon, JourneyEnrollment, Message
from campaigns.outbox import claim_batch, send_claimed, send_due_messages
from campaigns.tests.journeys import condition, consenting, email, journey, wait
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture
from crm.tests.concurrency import at_once
from customers.tests.factories import record_purchase

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _two_workers(now: dt.datetime) -> list:
    reports, errors = at_once(lambda _index: journeys_advance(now=now), threads=2)
    assert errors == []
    return reports


def test_a_journey_sends_each_email_once_through_the_outbox(smtp_sink, settings):
    settings.CRM_MARKETING_CAP_DAYS = 0  # two emails a day apart are allowed
    campaign = journey(
        email(subject="Thank you {{ contact.first_name }}", body_text="Thanks!"), wait(1),
        condition("stage", stages=["one_time"]),
        email(subject="Your code", body_text="Code {{ coupon.code }}"),
        coupon_kind="percent", coupon_value=10)
    contacts = [consenting(first_name=f"Buyer{index}") for index in range(5)]
    for contact in contacts:
        record_purchase(contact, days_ago=0.001)  # the first purchase: the event enrolls
    assert JourneyEnrollment.objects.filter(campaign=campaign).count() == 5

    reports = _two_workers(timezone.now())
    send_due_messages()

    assert sum(report.walked for report in reports) == 5
    assert smtp_sink.wait_for(5)
    later = timezone.now() + dt.timedelta(days=1)
    _two_workers(later)
    send_claimed(*claim_batch(limit=50, now=later))
    assert smtp_sink.wait_for(10)

    assert len(smtp_sink.received) == 10
    assert all(count == 1 for count in smtp_sink.message_ids().values())
    codes = dict(Coupon.objects.values_list("contact__email", "code"))
    for received in smtp_sink.received:
        if received.message["Subject"] == "Your code":
            assert codes[received.rcpt_tos[0]] in received.message.get_content()
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.SENT}
    assert set(JourneyEnrollment.objects.values_list("status", flat=True)) == {"completed"}

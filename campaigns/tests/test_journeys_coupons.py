"""A journey's coupon: issued once per enrollment, on the first email whose template shows
it; the reminder shows the same code."""
import pytest
from django.core import mail
from django.utils import timezone

from campaigns.journey_advance import journeys_advance
from campaigns.models import Coupon, Message
from campaigns.outbox import claim_batch, send_claimed
from campaigns.rendering import message_context
from campaigns.template_needs import campaign_template_problems
from campaigns.tests.journeys import condition, days, email, enrolled, journey, wait

pytestmark = pytest.mark.django_db

OFFER = "Your code {{ coupon.code }} until {{ coupon.expires_at|date:'Y-m-d' }}"
REMINDER = "Reminder: {{ coupon.code }} still works"


def _second_purchase():
    return journey(email(body_text="Thank you"), wait(7), email(body_text=OFFER), wait(6),
                   condition("coupon_used", negate=True), email(body_text=REMINDER),
                   coupon_kind="percent", coupon_value=10, coupon_valid_days=14)


def test_the_coupon_is_issued_once_and_the_reminder_shows_the_same_code():
    campaign = _second_purchase()
    start = timezone.now()
    enrollment = enrolled(campaign, started_at=start)

    for day in (0, 7, 13):
        journeys_advance(now=start + days(day))

    thanks, offer, reminder = Message.objects.filter(enrollment=enrollment).order_by(
        "step__position")
    coupon = Coupon.objects.get()
    assert (thanks.coupon, offer.coupon, reminder.coupon) == (None, coupon, None)
    assert coupon.campaign == campaign and coupon.contact == enrollment.contact
    assert coupon.expires_at == start + days(7 + 14)
    assert message_context(reminder)["coupon"]["code"] == coupon.code
    assert message_context(thanks)["coupon"]["code"] == coupon.code  # the enrollment's


def test_the_reminder_email_sent_shows_the_code(settings):
    settings.CRM_MARKETING_CAP_DAYS = 0  # one email a day at most, not one a week
    campaign = journey(email(body_text=OFFER), wait(1), email(body_text=REMINDER),
                       coupon_kind="amount", coupon_value=5)
    start = timezone.now()
    enrollment = enrolled(campaign, started_at=start)

    for day in (0, 1):
        journeys_advance(now=start + days(day))
        send_claimed(*claim_batch(limit=10, now=start + days(day)))

    code = Coupon.objects.get(contact=enrollment.contact).code
    bodies = [m.body for m in mail.outbox]
    assert len(bodies) == 2 and all(code in body for body in bodies)
    assert bodies[1].startswith(f"Reminder: {code}")


def test_two_enrollments_get_two_coupons():
    campaign = journey(email(body_text=OFFER), coupon_kind="percent", coupon_value=10)
    enrolled(campaign), enrolled(campaign)

    journeys_advance()

    assert Coupon.objects.count() == 2


def test_a_reminder_template_showing_the_coupon_is_accepted_in_a_journey_with_a_coupon():
    with_coupon = _second_purchase()
    without = journey(email(body_text="Hi"), email(body_text=REMINDER))

    assert campaign_template_problems(with_coupon) == []
    assert campaign_template_problems(without)  # a step shows a coupon nobody issues

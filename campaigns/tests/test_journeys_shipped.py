"""The shipped journeys (migration 0015): present, switched off, their templates in English
and Turkish, rendering, and working once a manager switches one on."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from campaigns.campaign_service import campaign_update
from campaigns.journey_advance import journeys_advance
from campaigns.models import Campaign, Coupon, JourneyEnrollment
from campaigns.outbox import send_due_messages
from campaigns.rendering import preview_context, render_email
from campaigns.services import campaign_event
from campaigns.template_needs import campaign_template_problems
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db

SHIPPED = {
    "Journey: second purchase": ("first_purchase",
                                 ["email", "wait", "email", "wait", "condition", "email"]),
    "Journey: post-purchase review": ("first_purchase", ["wait", "email"]),
    "Journey: win-back": ("fell_at_risk", ["email", "wait", "condition", "email"]),
    "Journey: first-purchase anniversary": ("anniversary", ["email"]),
}


@pytest.mark.parametrize("name", SHIPPED)
def test_each_journey_is_shipped_switched_off(name):
    campaign = Campaign.objects.get(name=name)
    event, kinds = SHIPPED[name]

    assert not campaign.is_active and campaign.trigger == "event" and campaign.event == event
    assert list(campaign.steps.order_by("position").values_list("kind", flat=True)) == kinds
    assert campaign_template_problems(campaign) == []
    for step in campaign.steps.all():
        step.full_clean()


def test_the_second_purchase_journey_reminds_before_the_coupon_expires():
    campaign = Campaign.objects.get(name="Journey: second purchase")
    steps = list(campaign.steps.order_by("position"))

    assert (steps[1].wait_days, steps[3].wait_days) == (7, 6)
    assert (steps[4].condition, steps[4].negate) == ("coupon_used", True)
    assert campaign.coupon_valid_days == 14  # the reminder on day 13 comes before day 21


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("language", ["en", "tr"])
def test_every_email_renders_in_english_and_turkish(name, language):
    contact = ContactFactory(first_name="Ada", language=language)
    coupon = Coupon(code="CP-AAAAA-BBBBB", kind="percent", value=Decimal("10"), currency="",
                    expires_at=timezone.now() + dt.timedelta(days=14))
    for step in Campaign.objects.get(name=name).steps.filter(kind="email"):
        template = step.template
        template.full_clean()
        assert template.translations.filter(language="tr").exists()

        rendered = render_email(template, preview_context(contact, coupon=coupon),
                                language=language)

        assert "Ada" in rendered.subject + rendered.text
        assert "unsubscribe" in rendered.text.lower() or "/u/" in rendered.text
        if "coupon" in template.body_text:
            assert "CP-AAAAA-BBBBB" in rendered.text
            assert ("%10 indirim" if language == "tr" else "10% off") in rendered.text
        assert rendered.text.startswith("Merhaba Ada" if language == "tr" else "Hello Ada")


def test_switched_on_the_second_purchase_journey_thanks_in_the_contacts_language():
    campaign = Campaign.objects.get(name="Journey: second purchase")
    campaign_update(campaign, is_active=True, holdout_percent=0)
    contact = ContactFactory(first_name="Ada", language="tr", marketing_consent=True)
    record_purchase(contact, days_ago=0.01)

    assert campaign_event(contact_id=contact.pk, event=Campaign.Event.FIRST_PURCHASE) >= 1
    journeys_advance()
    send_due_messages()

    assert JourneyEnrollment.objects.filter(campaign=campaign, contact=contact).exists()
    assert [m.subject for m in mail.outbox] == ["İlk siparişiniz için teşekkürler, Ada"]

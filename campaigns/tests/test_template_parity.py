"""Preview, test send and a real send of every shipped template render the same email.

Each shipped template (campaigns.defaults, feedback.defaults, with their Turkish translations
from migration 0004) is rendered for a contact in English and in Turkish, with and without a
referral code of their own and a last purchase, three ways: the admin's preview, the test
send (locmem email), and a real send through the outbox by the shipped campaign that uses it.
None may leave a placeholder blank, and the three bodies are the same apart from the values
only a real send creates (coupon and referral codes, survey links), which previews fill with
samples.
"""
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.coupons import REFERRAL_PREFIX, code_generate
from campaigns.defaults import CAMPAIGNS, JOURNEY_STEPS, TEMPLATES
from campaigns.journey_advance import journeys_advance
from campaigns.models import (
    Campaign,
    EmailTemplate,
    JourneyEnrollment,
    Message,
    ReferralCode,
    ReorderReminder,
)
from campaigns.preview import template_preview, template_send_test
from campaigns.rendering import new_message_id
from campaigns.outbox import send_due_messages
from campaigns.services import campaign_run_start
from customers.tests.factories import ContactFactory, record_purchase
from feedback.defaults import SURVEY_CAMPAIGN_NAME, SURVEY_TEMPLATE_NAME
from feedback.models import SurveyInvite

pytestmark = pytest.mark.django_db

SHIPPED = [data["name"] for data in TEMPLATES] + [SURVEY_TEMPLATE_NAME]
REORDER_TEMPLATE_NAME = "Time to reorder"
# The shipped campaign that sends each template (the first, where two share one).
SENDER = {SURVEY_TEMPLATE_NAME: SURVEY_CAMPAIGN_NAME}
for _data in reversed(CAMPAIGNS):
    SENDER[_data["template"]] = _data["name"]
for _journey, _steps in JOURNEY_STEPS.items():  # a journey's later emails: its steps'
    for _kind, _template, *_rest in _steps:
        if _template:
            SENDER.setdefault(_template, _journey)

# What a placeholder left blank leaves behind: "code , valid until ." / "kodu  ile".
# A percent sign with no number on either side is a blank coupon value ("Here is % off").
BLANKS = re.compile(r" [,.;:)]|\(\)|\S  +\S|(?<!\d)%(?!\d)")
SAMPLES = [
    (re.compile(r"CP-[A-Z0-9]{5}-[A-Z0-9]{5}"), "<coupon>"),
    (re.compile(r"RF-[A-Z0-9]{5}-[A-Z0-9]{5}"), "<referral>"),
    (re.compile(r"/feedback/[^/\s\"]+/"), "/feedback/<token>/"),
    # Signed with a timestamp: the same contact, a second later, another token.
    (re.compile(r"/email/unsubscribe/[^/\s\"]+/"), "/email/unsubscribe/<token>/"),
]


def _normalised(text: str) -> str:
    for pattern, replacement in SAMPLES:
        text = pattern.sub(replacement, text)
    return text


def _contact(language: str, *, with_code: bool, with_purchase: bool):
    contact = ContactFactory(first_name="Ayşe", language=language, marketing_consent=True,
                             email="ayse@example.com")
    if with_purchase:  # with a line: the reorder template names the product bought
        record_purchase(contact, days_ago=40, amount="25.00", lines=[
            {"sku": "TEA-1", "name": "Green tea", "category": "Tea", "quantity": 1,
             "unit_price": "25.00"}])
    code = ""
    if with_code:
        code = ReferralCode.objects.create(contact=contact,
                                           code=code_generate(REFERRAL_PREFIX)).code
    return contact, code


def _real_send(campaign: Campaign, contact, template_name: str = "") -> mail.EmailMessage:
    """Send the campaign to this one contact through the outbox, as a real run would."""
    mail.outbox.clear()
    if campaign.steps.exists():
        # A journey (campaigns.journey_advance): the contact at the step sending the template.
        step = campaign.steps.get(template__name=template_name)
        Campaign.objects.filter(pk=campaign.pk).update(is_active=True, audience={},
                                                       holdout_percent=0)
        JourneyEnrollment.objects.create(campaign=campaign, contact=contact,
                                         next_position=step.position)
        journeys_advance()
        run = Message.objects.get(contact=contact, step=step).run
    elif campaign.name == SURVEY_CAMPAIGN_NAME:
        # As feedback.services.surveys_queue writes it: the row and its invitation.
        run = campaign.runs.create(key="survey:test", status="sending")
        message = Message.objects.create(run=run, campaign=campaign, contact=contact,
                                         to_email=contact.email, message_id=new_message_id())
        SurveyInvite.objects.create(contact=contact, message=message,
                                    purchase=contact.purchases.first(),
                                    created_at=timezone.now())
    elif campaign.event == Campaign.Event.REORDER_DUE:
        # As campaigns.reorder writes it: the row and its reminder for a product bought.
        run = campaign.runs.create(key="reorder:test", status="sending")
        message = Message.objects.create(run=run, campaign=campaign, contact=contact,
                                         to_email=contact.email, message_id=new_message_id())
        purchase = contact.purchases.get()
        ReorderReminder.objects.create(campaign=campaign, contact=contact, message=message,
                                       product=purchase.lines.get().product,
                                       last_purchased_on=purchase.purchased_on)
    else:
        campaign.audience, campaign.holdout_percent, campaign.delay_days = {}, 0, 0
        campaign.save()
        run = campaign_run_start(campaign=campaign)
    report = send_due_messages(run_id=run.pk)
    assert report.sent == 1, report
    [email] = mail.outbox
    return email


def _parts(email) -> tuple[str, str, str]:
    html = next((body for body, kind in getattr(email, "alternatives", [])
                 if kind == "text/html"), "")
    return email.subject, email.body, html


CASES = [
    pytest.param(name, language, with_code, with_purchase,
                 id=f"{name}-{language}-{'own-code' if with_code else 'no-code'}-"
                    f"{'purchase' if with_purchase else 'no-purchase'}")
    for name in SHIPPED for language in ("en", "tr") for with_code in (True, False)
    for with_purchase in (True, False)
    # A survey is about a purchase: nobody without one is asked; nor reminded to reorder.
    if with_purchase or name not in (SURVEY_TEMPLATE_NAME, REORDER_TEMPLATE_NAME)
]


@pytest.mark.parametrize(("name", "language", "with_code", "with_purchase"), CASES)
def test_preview_test_send_and_real_send_render_the_same_email(name, language, with_code,
                                                               with_purchase):
    template = EmailTemplate.objects.get(name=name)
    assert template.translations.filter(language="tr").exists()  # shipped in Turkish
    campaign = Campaign.objects.get(name=SENDER[name])
    contact, code = _contact(language, with_code=with_code, with_purchase=with_purchase)

    preview = template_preview(template, contact)
    mail.outbox.clear()
    template_send_test(template, contact, to_email="staff@example.com")
    [test] = mail.outbox
    real = _real_send(campaign, contact, name)

    assert preview.language == language
    assert test.subject == f"[Test] {preview.subject}"
    previewed = (preview.subject, preview.text, preview.html)
    for rendered in (previewed, _parts(test)[1:], _parts(real)):
        for part in rendered:
            assert not BLANKS.search(part), (part, BLANKS.search(part))
    assert _normalised(preview.text) == _normalised(test.body) == _normalised(real.body)
    assert _normalised(preview.html) == _normalised(_parts(test)[2]) \
        == _normalised(_parts(real)[2])
    assert preview.subject == real.subject
    if code:  # the contact's own code, never a sample, wherever the template shows it
        assert (code in preview.text) == (code in real.body) == ("referral_code" in
                                                                 template.body_text)
    if name == SURVEY_TEMPLATE_NAME:
        assert preview.text.count("/feedback/SAMPLE-") == 11
        assert real.body.count("/feedback/") == 11 and "SAMPLE" not in real.body


def _copy(name: str) -> EmailTemplate:
    """A manager's copy of a shipped template, with its Turkish: no campaign sends it yet."""
    shipped = EmailTemplate.objects.get(name=name)
    copy = EmailTemplate.objects.create(name=f"Copy of {name}", subject=shipped.subject,
                                        body_text=shipped.body_text, body_html=shipped.body_html)
    turkish = shipped.translations.get(language="tr")
    copy.translations.create(language="tr", subject=turkish.subject,
                             body_text=turkish.body_text, body_html=turkish.body_html)
    return copy


@pytest.mark.parametrize("coupon_kind", ["", "percent", "amount"], ids=["no-coupon", "percent",
                                                                         "amount"])
@pytest.mark.parametrize("language", ["en", "tr"])
@pytest.mark.parametrize("name", [data["name"] for data in TEMPLATES])
def test_with_or_without_a_coupon_a_template_previews_fully_or_is_refused(name, language,
                                                                          coupon_kind):
    template = _copy(name)
    contact, _code = _contact(language, with_code=False, with_purchase=True)
    kind = "referral" if "referral_code" in template.body_text else "custom"
    # A reminder template is sent by a "time to reorder" campaign (campaigns.template_needs).
    event = Campaign.Event.REORDER_DUE if "reorder_product" in template.body_text else ""
    campaign = Campaign.objects.create(
        name="Copy", template=template, kind=kind, coupon_kind=coupon_kind,
        coupon_value=10 if coupon_kind else None, audience={}, holdout_percent=0,
        trigger="event" if event else "manual", event=event)

    preview = template_preview(template, contact)

    for part in (preview.subject, preview.text):
        assert not BLANKS.search(part), (part, BLANKS.search(part))
    uses_coupon = "coupon." in template.body_text
    assert ("CP-" in preview.text) == uses_coupon  # a sample where the template shows one
    if uses_coupon and not coupon_kind:
        with pytest.raises(ValidationError, match="shows a coupon"):
            campaign_run_start(campaign=campaign)
        return
    real = _real_send(campaign, contact, name)
    assert _normalised(real.body) == _normalised(preview.text)

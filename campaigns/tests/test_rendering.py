"""Rendering templates and building the email: context, escaping, errors, headers, injection."""
import datetime as dt
import email
import email.policy
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.utils import timezone

from campaigns.models import Coupon, EmailTemplate, ReferralCode
from campaigns.rendering import (
    build_email, message_context, preview_context, render_email, unsubscribe_url,
    validate_template,
)
from campaigns.tests.factories import MessageFactory
from campaigns.tokens import unsubscribe_token_contact_id
from customers.services.refunds import purchase_refund
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


def template(**parts) -> EmailTemplate:
    return EmailTemplate(name="t", subject=parts.get("subject", "Hi"),
                         body_text=parts.get("text", "Hi"), body_html=parts.get("html", ""))


def coupon_for(contact, **extra) -> Coupon:
    return Coupon.objects.create(code="SAVE10", contact=contact, kind=Coupon.Kind.PERCENT,
                                 value=Decimal("10"), expires_at=timezone.now() + dt.timedelta(days=30),
                                 **extra)


def test_message_context_has_contact_coupon_referral_and_latest_live_purchase(settings):
    settings.CRM_PUBLIC_URL = "https://crm.example.com/"
    contact = ContactFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    record_purchase(contact, days_ago=30, amount="20.00")
    kept = record_purchase(contact, days_ago=10, amount="35.50")
    purchase_refund(purchase=record_purchase(contact, days_ago=1, amount="99.00"))
    ReferralCode.objects.create(contact=contact, code="ADA-REF")
    message = MessageFactory(contact=contact, coupon=coupon_for(contact))

    context = message_context(message)

    assert context["contact"] == {"first_name": "Ada", "last_name": "Lovelace",
                                  "email": "ada@example.com", "full_name": "Ada Lovelace"}
    assert context["coupon"]["code"] == "SAVE10"
    assert context["coupon"]["value"] == Decimal("10")
    assert context["coupon"]["kind"] == "percent"
    assert context["referral_code"] == "ADA-REF"
    assert context["last_purchase"] == {"purchased_at": kept.purchased_at,
                                        "amount": Decimal("35.500"), "currency": "USD"}
    assert context["unsubscribe_url"].startswith("https://crm.example.com/email/unsubscribe/")
    token = context["unsubscribe_url"].rstrip("/").rsplit("/", 1)[1]
    assert unsubscribe_token_contact_id(token) == contact.pk


def test_message_context_without_coupon_code_or_purchases():
    context = message_context(MessageFactory())

    assert context["coupon"] is None
    assert context["referral_code"] == ""
    assert context["last_purchase"] is None


def test_preview_context_needs_no_message():
    contact = ContactFactory(first_name="Bo")
    record_purchase(contact, days_ago=3, amount="12.00")

    context = preview_context(contact, coupon=coupon_for(contact))

    assert context["contact"]["first_name"] == "Bo"
    assert context["coupon"]["code"] == "SAVE10"
    assert context["last_purchase"]["amount"] == Decimal("12.000")


def test_render_email_fills_all_three_parts():
    rendered = render_email(
        template(subject="Hi {{ contact.first_name }}", text="Code {{ coupon.code }}",
                 html="<p>{{ contact.full_name }}</p>"),
        {"contact": {"first_name": "Ada", "full_name": "Ada L"}, "coupon": {"code": "X1"}})

    assert (rendered.subject, rendered.text, rendered.html) == ("Hi Ada", "Code X1", "<p>Ada L</p>")


def test_html_is_autoescaped_and_text_is_not():
    context = {"contact": {"first_name": "<b>Tom & Jerry</b>"}}

    rendered = render_email(template(text="{{ contact.first_name }}",
                                     html="<p>{{ contact.first_name }}</p>"), context)

    assert rendered.text == "<b>Tom & Jerry</b>"
    assert rendered.html == "<p>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>"


def test_missing_variables_render_empty():
    assert render_email(template(text="[{{ nothing.here }}]"), {}).text == "[]"


def test_syntax_error_names_the_field_and_line():
    with pytest.raises(ValidationError) as caught:
        render_email(template(html="<p>\nline two\n{% if %}\n</p>"), {})

    assert list(caught.value.message_dict) == ["body_html"]
    assert caught.value.message_dict["body_html"][0].startswith("Line 3: ")


def test_validate_template_reports_every_broken_part():
    with pytest.raises(ValidationError) as caught:
        validate_template(template(subject="{{ a|no_such_filter }}", text="{% for %}",
                                   html="fine"))

    assert sorted(caught.value.message_dict) == ["body_text", "subject"]


@pytest.mark.parametrize("source", ['{% include "base.html" %}', '{% extends "base.html" %}',
                                    "{% load static %}", "{% load crispy_forms_tags %}"])
def test_templates_cannot_read_files_or_load_site_tags(source):
    with pytest.raises(ValidationError):
        render_email(template(text=source), {})


def test_subject_is_folded_onto_one_line():
    rendered = render_email(template(subject="Hello\r\n  {{ name }}\tthere\n"), {"name": "Ada"})

    assert rendered.subject == "Hello Ada there"


def test_build_email_headers(settings):
    settings.DEFAULT_FROM_EMAIL = "Shop <news@shop.example>"
    settings.CRM_PUBLIC_URL = "https://crm.example.com"
    message = MessageFactory(contact__email="ada@example.com", message_id="<abc@shop.example>")

    email = build_email(message, get_connection())
    parsed = email.message()

    assert parsed["From"] == "Shop <news@shop.example>"
    assert parsed["To"] == "ada@example.com"
    assert parsed["Message-ID"] == "<abc@shop.example>"
    assert parsed["List-Unsubscribe"] == f"<{unsubscribe_url(message.contact_id)}>"
    assert parsed["List-Unsubscribe"].startswith("<https://crm.example.com/email/unsubscribe/")
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_build_email_adds_html_alternative_only_when_there_is_html():
    message = MessageFactory(run__campaign__template__body_html="<p>Hi {{ contact.first_name }}</p>",
                             contact__first_name="Ada")
    plain = MessageFactory()

    assert build_email(message, get_connection()).alternatives[0].content == "<p>Hi Ada</p>"
    assert build_email(plain, get_connection()).alternatives == []


def test_names_and_subjects_cannot_inject_headers():
    message = MessageFactory(
        contact__first_name="Eve\r\nBcc: x@evil.example", contact__last_name="\nX-Evil: 1",
        run__campaign__template__subject="Hi {{ contact.first_name }}\r\nBcc: y@evil.example",
        run__campaign__template__body_html="<p>{{ contact.first_name }}</p>")

    raw = build_email(message, get_connection()).message().as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)

    assert sorted(parsed.keys()) == sorted([
        "Content-Type", "MIME-Version", "Subject", "From", "To", "Date", "Message-ID",
        "List-Unsubscribe", "List-Unsubscribe-Post", "Content-Language"])
    assert parsed["Subject"] == "Hi Eve Bcc: x@evil.example Bcc: y@evil.example"
    assert parsed["To"] == message.contact.email

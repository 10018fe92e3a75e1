"""Emails go out in the contact's language: the template's translation, rendered with that
language active (money, dates, {% translate %}), or the template itself when there is none."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.outbox import batch as outbox_batch
from campaigns.admin import TranslationForm
from campaigns.defaults import TEMPLATES
from campaigns.models import EmailTemplate, EmailTemplateTranslation, Message
from campaigns.preview import template_preview, template_send_test
from campaigns.rendering import preview_context, render_email
from campaigns.outbox import send_due_messages
from campaigns.tests.factories import CampaignRunFactory, EmailTemplateFactory, MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture
from customers.tests.factories import ContactFactory, record_purchase
from feedback.defaults import SURVEY_TEMPLATE_NAME

pytestmark = pytest.mark.django_db

BODY = ("{% load money %}Hi {{ contact.first_name }}, you spent "
        "{{ last_purchase.amount|money:last_purchase.currency }} on "
        "{{ last_purchase.purchased_at|date:'F' }}.")
BODY_TR = ("{% load money %}Merhaba {{ contact.first_name }}, harcamanız "
           "{{ last_purchase.amount|money:last_purchase.currency }}, ay: "
           "{{ last_purchase.purchased_at|date:'F' }}.")
PURCHASED_AT = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def run():
    template = EmailTemplateFactory(subject="Hello {{ contact.first_name }}", body_text=BODY)
    EmailTemplateTranslation.objects.create(
        template=template, language="tr", subject="Merhaba {{ contact.first_name }}",
        body_text=BODY_TR, body_html="<p>Merhaba {{ contact.first_name }}</p>")
    return CampaignRunFactory(campaign__template=template)


def _buyer(language: str, name: str):
    contact = ContactFactory(first_name=name, language=language, marketing_consent=True)
    record_purchase(contact, amount="1234.50", currency="USD",
                    days_ago=(timezone.now() - PURCHASED_AT).total_seconds() / 86400)
    return contact


def _received(sink, message: Message):
    return sink.by_message_id(message.message_id)[0].message


def test_a_turkish_contact_gets_the_turkish_translation_with_turkish_money(smtp_sink, run):
    message = MessageFactory(run=run, contact=_buyer("tr", "Ayşe"))

    send_due_messages()

    received = _received(smtp_sink, message)
    assert received["Subject"] == "Merhaba Ayşe"
    assert received["Content-Language"] == "tr"
    text = received.get_body(("plain",)).get_content()
    assert text.strip() == "Merhaba Ayşe, harcamanız $1.234,50, ay: Mart."
    assert received.get_body(("html",)).get_content().strip() == "<p>Merhaba Ayşe</p>"


@pytest.mark.parametrize("language", ["en", ""])
def test_an_english_or_blank_contact_gets_the_template_itself(smtp_sink, run, language):
    message = MessageFactory(run=run, contact=_buyer(language, "Ada"))

    send_due_messages()

    received = _received(smtp_sink, message)
    assert received["Subject"] == "Hello Ada"
    assert received["Content-Language"] == "en"
    assert received.get_content().strip() == "Hi Ada, you spent $1,234.50 on March."


def test_a_template_without_translation_falls_back_to_the_default_language(smtp_sink):
    run = CampaignRunFactory(campaign__template=EmailTemplateFactory(
        subject="Hello {{ contact.first_name }}", body_text=BODY))
    message = MessageFactory(run=run, contact=_buyer("tr", "Ayşe"))

    send_due_messages()

    received = _received(smtp_sink, message)
    # Wholly in the template's own language: no Turkish month inside English text.
    assert received["Subject"] == "Hello Ayşe"
    assert received["Content-Language"] == "en"
    assert received.get_content().strip() == "Hi Ayşe, you spent $1,234.50 on March."


def test_one_batch_mixes_languages_and_loads_translations_once(smtp_sink, run, monkeypatch):
    calls = []
    real = outbox_batch.template_translations
    monkeypatch.setattr(outbox_batch, "template_translations",
                        lambda ids: calls.append(1) or real(ids))
    turkish = [MessageFactory(run=run, contact=_buyer("tr", f"T{i}")) for i in range(3)]
    english = [MessageFactory(run=run, contact=_buyer("", f"E{i}")) for i in range(2)]

    report = send_due_messages()

    assert report.sent == 5 and len(calls) == 1
    assert {_received(smtp_sink, m)["Subject"] for m in turkish} == {"Merhaba T0", "Merhaba T1",
                                                                       "Merhaba T2"}
    assert {_received(smtp_sink, m)["Subject"] for m in english} == {"Hello E0", "Hello E1"}


def test_a_batch_of_default_language_contacts_does_not_query_translations(
        smtp_sink, run, monkeypatch):
    monkeypatch.setattr(outbox_batch, "template_translations",
                        lambda ids: pytest.fail("no translation needed"))
    MessageFactory(run=run, contact=_buyer("", "Ada"))

    assert send_due_messages().sent == 1


def test_rendering_restores_the_active_language():
    template = EmailTemplateFactory(body_text="{% load i18n %}{% translate 'Yes' %}")
    EmailTemplateTranslation.objects.create(template=template, language="tr", subject="x",
                                            body_text="{% load i18n %}{% translate 'Yes' %}")
    translation.activate("en")

    rendered = render_email(template, {}, language="tr")

    assert (rendered.text, rendered.language) == ("Evet", "tr")
    assert translation.get_language() == "en"


def test_a_broken_translation_fails_its_message_only(smtp_sink, run):
    broken = EmailTemplateFactory(subject="Hi")
    EmailTemplateTranslation.objects.create(template=broken, language="tr", subject="{% if %}",
                                            body_text="x")
    bad = MessageFactory(run=CampaignRunFactory(campaign__template=broken),
                         contact=_buyer("tr", "Ayşe"))
    good = MessageFactory(run=run, contact=_buyer("tr", "Can"))

    send_due_messages()

    bad.refresh_from_db()
    assert bad.status == Message.Status.FAILED and "subject" in bad.last_error
    assert _received(smtp_sink, good)["Subject"] == "Merhaba Can"


# --- Preview and test send -------------------------------------------------------------------

def test_preview_uses_the_contacts_language_unless_another_is_chosen(run):
    template = run.campaign.template
    contact = _buyer("tr", "Ayşe")

    assert template_preview(template, contact).subject == "Merhaba Ayşe"
    assert template_preview(template, contact, language="en").subject == "Hello Ayşe"


def test_admin_preview_page_picks_a_language(client, run, manager):
    client.force_login(manager)
    contact = _buyer("", "Ada")
    url = reverse("admin:campaigns_template_preview", args=[run.campaign.template.pk])

    page = client.get(url, {"contact_email": contact.email, "language": "tr"})

    assert page.status_code == 200
    assert page.context["rendered"].subject == "Merhaba Ada"
    assert 'name="language" value="tr"' in page.content.decode()


def test_test_send_in_a_chosen_language(mailoutbox, run):
    contact = _buyer("", "Ada")

    template_send_test(run.campaign.template, contact, to_email="staff@example.com",
                       language="tr")

    email = mailoutbox[0]
    assert email.subject == "[Test] Merhaba Ada"
    assert email.extra_headers["Content-Language"] == "tr"


def test_test_send_without_a_contact_uses_a_sample_person(mailoutbox):
    template = EmailTemplateFactory(subject="Hello {{ contact.first_name }}",
                                    body_text="Bye: {{ unsubscribe_url }}")

    template_send_test(template, None, to_email="staff@example.com")

    assert mailoutbox[0].subject == "[Test] Hello Ada"
    assert mailoutbox[0].to == ["staff@example.com"]


# --- Translations in the admin ---------------------------------------------------------------

def _form(**data):
    return TranslationForm(data={"language": "tr", "subject": "Merhaba", "body_text": "Metin",
                                 "body_html": "", **data},
                           instance=EmailTemplateTranslation(template=EmailTemplateFactory()))


def test_a_translation_form_saves_a_valid_translation():
    form = _form()

    assert form.is_valid(), form.errors
    assert form.save().language == "tr"


def test_the_default_language_cannot_be_a_translation():
    form = _form(language="en")

    assert not form.is_valid()
    assert list(form.errors) == ["language"]
    with pytest.raises(ValidationError) as error:
        EmailTemplateTranslation(template=EmailTemplateFactory(), language="en", subject="s",
                                 body_text="t").full_clean()
    assert list(error.value.message_dict) == ["language"]
    assert not EmailTemplateTranslation.objects.filter(language="en").exists()


def test_a_translation_with_a_template_syntax_error_is_refused():
    form = _form(body_text="{% for %}")

    assert not form.is_valid()
    assert list(form.errors) == ["body_text"]


# --- The shipped templates -------------------------------------------------------------------

SHIPPED = [data["name"] for data in TEMPLATES] + [SURVEY_TEMPLATE_NAME]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_template_has_a_turkish_translation_that_renders(name):
    template = EmailTemplate.objects.get(name=name)
    contact = _buyer("tr", "Ayşe")
    context = {**preview_context(contact), "referral_code": "AYSE-42", "coupon": {
        "code": "TESEKKUR", "value": Decimal("10.00"), "kind": "amount", "currency": "TRY",
        "expires_at": dt.datetime(2026, 12, 31, 12, tzinfo=dt.UTC)},
        "survey": {"links": [{"score": 0, "url": "https://x/0"}], "closes_on": dt.date(2026, 2, 1)}}

    rendered = render_email(template, context, language="tr")

    assert rendered.language == "tr"
    assert "Merhaba" in rendered.subject + rendered.text
    assert context["unsubscribe_url"] in rendered.text
    assert "Ayşe" in rendered.subject + rendered.text
    if name == "Thank you, loyal client":
        assert "TESEKKUR koduyla ₺10,00 indirim" in rendered.text
    if "survey" in template.body_text:
        assert "Şubat" in rendered.text and "https://x/0" in rendered.html


def test_a_manager_adds_a_translation_inline_on_the_template_page(client, manager):
    client.force_login(manager)
    template = EmailTemplateFactory(name="Inline", subject="Hello", body_text="Hi")
    url = reverse("admin:campaigns_emailtemplate_change", args=[template.pk])
    data = {"name": "Inline", "subject": "Hello", "body_text": "Hi", "body_html": "",
            "translations-TOTAL_FORMS": "1", "translations-INITIAL_FORMS": "0",
            "translations-MIN_NUM_FORMS": "0", "translations-MAX_NUM_FORMS": "1000",
            "translations-0-language": "tr", "translations-0-subject": "Merhaba",
            "translations-0-body_text": "Selam", "translations-0-body_html": ""}

    page = client.get(url)
    response = client.post(url, data)

    assert page.status_code == 200 and "translations-TOTAL_FORMS" in page.content.decode()
    assert response.status_code == 302
    assert list(template.translations.values_list("language", "subject")) == [("tr", "Merhaba")]

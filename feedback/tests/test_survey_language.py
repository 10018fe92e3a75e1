"""Survey pages and survey emails follow the contact's stored language; pages without one
follow the browser, and answering never stores a guessed language on the contact."""
import re

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.outbox import send_due_messages
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture
from customers.tests.factories import ContactFactory, record_purchase
from feedback.models import SurveyResponse
from feedback.services import surveys_queue
from feedback.tests.factories import SurveyInviteFactory
from feedback.tokens import survey_token

pytestmark = pytest.mark.django_db


def url_for(invite, score: int) -> str:
    return reverse("feedback:answer", args=[survey_token(invite.pk, score)])


@pytest.mark.parametrize("browser", ["en", "tr"])
def test_a_turkish_contact_sees_the_survey_in_turkish_whatever_the_browser(browser):
    invite = SurveyInviteFactory(contact__language="tr")

    page = Client().get(url_for(invite, 7), HTTP_ACCEPT_LANGUAGE=browser)

    assert page.status_code == 200
    assert "10 üzerinden 7 seçtiniz" in page.content.decode()
    assert page["Content-Language"] == "tr"


def test_an_english_contact_sees_english_in_a_turkish_browser():
    invite = SurveyInviteFactory(contact__language="en")

    page = Client().get(url_for(invite, 7), HTTP_ACCEPT_LANGUAGE="tr")

    assert "You chose 7 out of 10" in page.content.decode()


def test_without_a_stored_language_the_browser_decides():
    invite = SurveyInviteFactory(contact__language="")

    turkish = Client().get(url_for(invite, 7), HTTP_ACCEPT_LANGUAGE="tr")
    english = Client().get(url_for(invite, 7), HTTP_ACCEPT_LANGUAGE="en")

    assert "10 üzerinden 7 seçtiniz" in turkish.content.decode()
    assert "You chose 7 out of 10" in english.content.decode()


def test_answering_from_a_turkish_browser_stores_no_language_on_the_contact():
    invite = SurveyInviteFactory(contact__language="")

    page = Client().post(url_for(invite, 9), {"comment": ""}, HTTP_ACCEPT_LANGUAGE="tr")

    assert "Yanıtınız için teşekkürler!" in page.content.decode()
    invite.contact.refresh_from_db()
    assert invite.contact.language == ""
    assert SurveyResponse.objects.get().language == "tr"  # the answer's page, as before


def test_the_answer_of_a_turkish_contact_records_the_language_shown():
    invite = SurveyInviteFactory(contact__language="tr")

    Client().post(url_for(invite, 9), {"comment": ""}, HTTP_ACCEPT_LANGUAGE="en")

    assert SurveyResponse.objects.get().language == "tr"


@pytest.mark.parametrize(("language", "subject", "closes"), [
    ("tr", "Ayşe, bizi nasıl buldunuz?", " tarihine kadar açık."),
    ("", "Ayşe, how did we do?", "The survey is open until "),
])
def test_the_survey_email_goes_out_in_the_contacts_language(
        survey_campaign, smtp_sink, settings, language, subject, closes):
    settings.CRM_PUBLIC_URL = "https://crm.example.com"
    contact = ContactFactory(marketing_consent=True, first_name="Ayşe", language=language)
    record_purchase(contact, days_ago=7)
    surveys_queue()

    send_due_messages()

    email = smtp_sink.received[0].message
    body = email.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert email["Subject"] == subject
    assert email["Content-Language"] == (language or "en")
    assert closes in body
    links = re.findall(r"^(\d+): https://crm\.example\.com/feedback/\S+/$", body, re.MULTILINE)
    assert [int(score) for score in links] == list(range(11))

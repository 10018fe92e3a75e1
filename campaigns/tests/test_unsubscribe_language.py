"""The unsubscribe page speaks the contact's stored language; without one, the browser's."""
import pytest
from django.test import Client
from django.urls import reverse

from campaigns.tokens import unsubscribe_token
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

TURKISH_QUESTION = "E-postalarımızın aboneliğinden çıkmak istiyor musunuz?"
ENGLISH_QUESTION = "Unsubscribe from our emails?"


def url_for(contact) -> str:
    return reverse("campaigns:unsubscribe", args=[unsubscribe_token(contact.pk)])


@pytest.mark.parametrize("browser", ["en", "tr"])
def test_a_turkish_contact_sees_turkish_whatever_the_browser_says(browser):
    contact = ContactFactory(language="tr", marketing_consent=True)

    page = Client().get(url_for(contact), HTTP_ACCEPT_LANGUAGE=browser)

    assert page.status_code == 200
    assert TURKISH_QUESTION in page.content.decode()
    assert page["Content-Language"] == "tr"


def test_an_english_contact_sees_english_in_a_turkish_browser():
    contact = ContactFactory(language="en", marketing_consent=True)

    page = Client().get(url_for(contact), HTTP_ACCEPT_LANGUAGE="tr")

    assert ENGLISH_QUESTION in page.content.decode()
    assert page["Content-Language"] == "en"


@pytest.mark.parametrize(("browser", "expected"), [("tr-TR,tr;q=0.9", TURKISH_QUESTION),
                                                   ("en-GB", ENGLISH_QUESTION)])
def test_a_contact_without_a_language_gets_the_browsers(browser, expected):
    contact = ContactFactory(language="", marketing_consent=True)

    page = Client().get(url_for(contact), HTTP_ACCEPT_LANGUAGE=browser)

    assert expected in page.content.decode()


def test_unsubscribing_from_a_turkish_browser_stores_no_language():
    contact = ContactFactory(language="", marketing_consent=True)

    page = Client(enforce_csrf_checks=True).post(url_for(contact), HTTP_ACCEPT_LANGUAGE="tr")

    assert "Abonelikten çıktınız" in page.content.decode()
    contact.refresh_from_db()
    assert (contact.marketing_consent, contact.language) == (False, "")


def test_the_done_page_follows_the_contacts_language():
    contact = ContactFactory(language="tr", marketing_consent=True)

    page = Client(enforce_csrf_checks=True).post(url_for(contact), HTTP_ACCEPT_LANGUAGE="en")

    assert "Abonelikten çıktınız" in page.content.decode()
    contact.refresh_from_db()
    assert contact.language == "tr"

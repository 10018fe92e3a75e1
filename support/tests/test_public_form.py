"""Customers open a case without an account: validation, spam resistance and a rate limit."""
import time

import pytest
from django.core import signing
from django.core.cache import cache
from django.urls import reverse

from customers.models import Contact
from customers.tests.factories import ContactFactory
from support.models import Case
from support.public import _SALT, LIMIT_PER_HOUR

pytestmark = pytest.mark.django_db
URL = reverse("support:public_case")


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def _started(seconds_ago: float = 10) -> str:
    return signing.dumps(time.time() - seconds_ago, salt=_SALT)


def _post(client, **overrides):
    data = {"email": " Ayse@Example.com ", "name": "Ayşe Yılmaz", "subject": "Broken zip",
            "message": "The zip of my jacket broke.", "website": "", "started": _started()}
    data.update(overrides)
    return client.post(URL, data)


def test_a_customer_opens_a_case_without_an_account(client):
    owner_contact = ContactFactory(email="ayse@example.com")

    response = _post(client)

    case = Case.objects.get()
    assert response.status_code == 200 and "We have your message" in response.content.decode()
    assert (case.contact, case.channel, case.subject) == (owner_contact, "web", "Broken zip")


def test_a_new_address_becomes_a_contact_with_its_name(client):
    _post(client, email="new.person@example.com")

    contact = Contact.objects.get(email="new.person@example.com")
    assert (contact.first_name, contact.last_name) == ("Ayşe", "Yılmaz")
    assert not contact.marketing_consent  # writing to support is not consent to marketing


@pytest.mark.parametrize(("overrides", "message"), [
    ({"email": "not-an-email"}, "Enter a valid email address"),
    ({"subject": ""}, "This field is required"),
    ({"website": "http://spam.example"}, "could not be sent"),
    ({"started": "forged"}, "expired"),
])
def test_bad_or_robotic_posts_store_nothing(client, overrides, message):
    response = _post(client, **overrides)

    assert response.status_code == 400 and message in response.content.decode()
    assert not Case.objects.exists()


def test_a_form_sent_in_under_two_seconds_is_refused(client):
    response = _post(client, started=_started(seconds_ago=0))

    assert response.status_code == 400 and not Case.objects.exists()


def test_one_address_may_send_only_a_few_per_hour(client):
    for _ in range(LIMIT_PER_HOUR):
        assert _post(client).status_code == 200

    refused = _post(client)

    assert refused.status_code == 429 and Case.objects.count() == LIMIT_PER_HOUR


def test_the_form_is_public_and_speaks_turkish(client):
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="tr")

    assert page.status_code == 200 and 'lang="tr"' in page.content.decode()

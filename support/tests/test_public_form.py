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


def _post(client, headers=None, **overrides):
    data = {"email": " Ayse@Example.com ", "name": "Ayşe Yılmaz", "subject": "Broken zip",
            "message": "The zip of my jacket broke.", "website": "", "started": _started()}
    data.update(overrides)
    return client.post(URL, data, **(headers or {}))


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


# --- A refusal says why, on the page, and keeps what was typed (#19 point 6) -----------------

def _kept(html: str) -> bool:
    return 'value="Broken zip"' in html and "The zip of my jacket broke." in html


def _fresh_clock(response) -> float:
    """The render time the page carries for the next attempt (valid, and not the old one)."""
    return float(signing.loads(response.context["form"].data["started"], salt=_SALT))


def test_a_form_sent_too_fast_says_so_keeps_the_text_and_can_be_sent_again(client):
    response = _post(client, started=_started(seconds_ago=0))

    html = response.content.decode()
    assert response.status_code == 400 and 'data-testid="form-refused"' in html
    assert "quicker than anyone can type" in html and "press Send again" in html
    assert _kept(html)
    started = response.context["form"].data["started"]

    # Pressing Send again a little later goes through with the clock the page carried.
    again = _post(client, started=signing.dumps(
        float(signing.loads(started, salt=_SALT)) - 5, salt=_SALT))
    assert again.status_code == 200 and Case.objects.count() == 1


def test_an_expired_form_keeps_the_text_and_carries_a_new_clock(client, monkeypatch):
    three_hours_ago = time.time() - 3 * 60 * 60
    with monkeypatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: three_hours_ago)
        old = signing.dumps(three_hours_ago, salt=_SALT)
    response = _post(client, started=old)

    html = response.content.decode()
    assert response.status_code == 400 and "This form has expired" in html and _kept(html)
    assert time.time() - _fresh_clock(response) < 60


def test_a_form_without_its_clock_is_refused_with_a_reason_not_silently(client):
    response = client.post(URL, {"email": "ayse@example.com", "subject": "Broken zip",
                                 "message": "The zip of my jacket broke.", "website": ""})

    assert response.status_code == 400 and "This form has expired" in response.content.decode()


def test_an_invalid_email_is_named_and_the_message_kept(client):
    response = _post(client, email="ayse@")

    html = response.content.decode()
    assert response.status_code == 400 and "Enter a valid email address" in html
    assert "please correct the fields marked below" in html and _kept(html)


def test_a_rate_limited_visitor_is_told_and_keeps_the_text(client):
    for _ in range(LIMIT_PER_HOUR):
        _post(client)

    refused = _post(client, subject="Broken zip", message="The zip of my jacket broke.")

    html = refused.content.decode()
    assert refused.status_code == 429 and 'data-testid="form-refused"' in html
    assert "Please try again later" in html and _kept(html)


def test_the_refusal_is_in_the_visitors_language(client):
    response = _post(client, headers={"HTTP_ACCEPT_LANGUAGE": "tr"}, started="forged")

    assert "Bu formun süresi doldu" in response.content.decode()

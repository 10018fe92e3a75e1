"""Unsubscribe links: GET only asks, POST (one-click, no login, no cookies, no CSRF) acts."""
import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from campaigns.models import Suppression
from campaigns.tokens import unsubscribe_token, unsubscribe_token_contact_id
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict_client() -> Client:
    """An anonymous client that enforces CSRF checks the way a browser request would meet them."""
    return Client(enforce_csrf_checks=True)


def url_for(contact) -> str:
    return reverse("campaigns:unsubscribe", args=[unsubscribe_token(contact.pk)])


def test_token_round_trips_and_differs_per_contact():
    first, second = ContactFactory(), ContactFactory()

    assert unsubscribe_token_contact_id(unsubscribe_token(first.pk)) == first.pk
    assert unsubscribe_token(first.pk) != unsubscribe_token(second.pk)


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
    lambda token: "x" + token,                                        # payload changed
    lambda token: token.split(":")[0],                                # signature dropped
])
def test_tampered_tokens_are_refused(tamper):
    token = unsubscribe_token(ContactFactory().pk)

    with pytest.raises(signing.BadSignature):
        unsubscribe_token_contact_id(tamper(token))


def test_a_token_for_another_salt_is_refused():
    forged = signing.TimestampSigner(salt="something.else").sign_object({"c": 1})

    with pytest.raises(signing.BadSignature):
        unsubscribe_token_contact_id(forged)


def test_get_shows_a_confirmation_and_changes_nothing(strict_client):
    contact = ContactFactory(marketing_consent=True)

    response = strict_client.get(url_for(contact))

    contact.refresh_from_db()
    assert response.status_code == 200
    assert b'method="post"' in response.content
    assert contact.email.encode() in response.content
    assert contact.marketing_consent is True
    assert not Suppression.objects.exists()


def test_one_click_post_without_cookies_or_csrf_unsubscribes(strict_client):
    contact = ContactFactory(marketing_consent=True)

    response = strict_client.post(url_for(contact), {"List-Unsubscribe": "One-Click"})

    contact.refresh_from_db()
    assert response.status_code == 200
    assert contact.marketing_consent is False
    assert contact.consent_source == "unsubscribe-link"
    assert contact.consent_changed_at is not None
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == (contact.email, "unsubscribed")


def test_repeating_the_post_is_harmless(strict_client):
    contact = ContactFactory(marketing_consent=True)
    strict_client.post(url_for(contact))
    contact.refresh_from_db()
    first_change = contact.consent_changed_at

    response = strict_client.post(url_for(contact))

    contact.refresh_from_db()
    assert response.status_code == 200
    assert contact.consent_changed_at == first_change
    assert Suppression.objects.count() == 1


def test_an_earlier_bounce_keeps_its_reason(strict_client):
    contact = ContactFactory(marketing_consent=True)
    Suppression.objects.create(email=contact.email, reason=Suppression.Reason.BOUNCED)

    strict_client.post(url_for(contact))

    assert Suppression.objects.get().reason == Suppression.Reason.BOUNCED


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_token_gets_a_clear_400_page(strict_client, method):
    contact = ContactFactory(marketing_consent=True)
    token = unsubscribe_token(contact.pk)
    url = reverse("campaigns:unsubscribe", args=[token[:-2] + "zz"])

    response = getattr(strict_client, method)(url)

    contact.refresh_from_db()
    assert response.status_code == 400
    assert b"This unsubscribe link is not valid" in response.content
    assert contact.marketing_consent is True


def test_a_token_of_a_deleted_contact_is_not_valid(strict_client):
    contact = ContactFactory()
    url = url_for(contact)
    contact.delete()

    assert strict_client.post(url).status_code == 400


def test_other_methods_are_refused(strict_client):
    assert strict_client.put(url_for(ContactFactory())).status_code == 405

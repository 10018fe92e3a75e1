"""A case typed into the public form is unconfirmed until the owner of the address follows the
signed link emailed to it; until then staff see it flagged and not as the contact's words."""
import re
import time
from unittest import mock

import pytest
from django.core import signing
from django.core.cache import cache
from django.urls import reverse

from customers.tests.factories import ContactFactory
from feedback.tokens import survey_token
from support.models import Case
from support.public import _SALT
from support.services import CONFIRMATIONS_PER_DAY, case_confirmation_send, case_open
from support.tokens import CONFIRM_MAX_AGE, case_confirm_token

pytestmark = pytest.mark.django_db
FORM = reverse("support:public_case")
SUBJECT, MESSAGE = "Refund my order", "Send the refund to IBAN TR00 1234 instead."


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def _submit(client, capture, email="ayse@example.com"):
    data = {"email": email, "name": "Mallory Visitor", "subject": SUBJECT, "message": MESSAGE,
            "website": "", "started": signing.dumps(time.time() - 10, salt=_SALT)}
    with capture(execute=True):
        response = client.post(FORM, data)
    assert response.status_code == 200
    return Case.objects.get(subject=SUBJECT)


def _link(mail) -> str:
    [url] = re.findall(r"https?://\S+", mail.body)
    return url


@pytest.fixture
def submitted(client, django_capture_on_commit_callbacks, mailoutbox, settings):
    settings.CRM_PUBLIC_URL = "https://crm.shop.example"
    contact = ContactFactory(email="ayse@example.com", first_name="Ayşe")
    case = _submit(client, django_capture_on_commit_callbacks)
    assert case.contact == contact
    return case


def test_a_public_case_for_an_existing_address_is_unconfirmed_and_a_link_is_emailed(
        submitted, mailoutbox):
    [mail] = mailoutbox

    assert submitted.verified is False and submitted.verified_at is None
    assert submitted.confirmation_sent_at is not None
    assert mail.to == ["ayse@example.com"]
    assert _link(mail).startswith("https://crm.shop.example/")
    # Nothing the visitor typed is carried to the address owner.
    assert SUBJECT not in mail.body + mail.subject and "IBAN" not in mail.body
    assert "Mallory" not in mail.body


def test_a_case_for_a_new_address_is_unconfirmed_too(
        client, django_capture_on_commit_callbacks, mailoutbox):
    case = _submit(client, django_capture_on_commit_callbacks, email="new.person@example.com")

    assert case.verified is False and mailoutbox[0].to == ["new.person@example.com"]


def test_opening_the_link_only_asks_and_posting_confirms(client, submitted, mailoutbox):
    url = _link(mailoutbox[0])

    page = client.get(url)
    submitted.refresh_from_db()
    assert page.status_code == 200 and "Yes, I sent it" in page.content.decode()
    assert submitted.verified is False  # a mail scanner's GET confirms nothing

    done = client.post(url)
    submitted.refresh_from_db()
    assert done.status_code == 200 and "Your message is confirmed" in done.content.decode()
    assert submitted.verified is True and submitted.verified_at is not None


def test_a_tampered_or_foreign_token_is_refused_with_400(client, submitted):
    token = case_confirm_token(submitted.pk, "ayse@example.com")
    other_case = case_confirm_token(submitted.pk + 1, "ayse@example.com")
    tampered = other_case.split(":")[0] + ":" + token.split(":", 1)[1]

    for bad in (tampered, token[:-1] + ("A" if token[-1] != "A" else "B"),
                survey_token(submitted.pk, 5), "nonsense"):
        response = client.post(reverse("support:public_confirm", args=[bad]))
        assert response.status_code == 400, bad
    submitted.refresh_from_db()
    assert submitted.verified is False


def test_an_expired_link_is_refused_with_410(client, submitted, mailoutbox):
    later = time.time() + CONFIRM_MAX_AGE.total_seconds() + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = client.post(_link(mailoutbox[0]))

    submitted.refresh_from_db()
    assert response.status_code == 410 and submitted.verified is False


def test_a_link_for_an_address_the_contact_no_longer_has_confirms_nothing(
        client, submitted, mailoutbox):
    submitted.contact.email = "ayse.new@example.com"
    submitted.contact.save()

    response = client.post(_link(mailoutbox[0]))

    submitted.refresh_from_db()
    assert response.status_code == 410 and submitted.verified is False


def test_a_link_for_a_case_erased_since_is_gone(client, submitted, mailoutbox):
    submitted.delete()

    assert client.get(_link(mailoutbox[0])).status_code == 410


def test_the_confirmation_is_sent_once_and_an_address_gets_a_few_a_day(submitted, mailoutbox):
    assert case_confirmation_send(case_id=submitted.pk) is False  # a second run: no email
    contact = submitted.contact
    for number in range(CONFIRMATIONS_PER_DAY + 1):
        case = case_open(contact=contact, subject=f"Spam {number}", channel="web",
                         verified=False)
        case_confirmation_send(case_id=case.pk)

    assert len(mailoutbox) == CONFIRMATIONS_PER_DAY


def test_a_failed_send_releases_the_claim_for_the_retry(submitted):
    case = case_open(contact=submitted.contact, subject="Again", channel="web", verified=False)

    with mock.patch("support.services.send_mail", side_effect=OSError("SMTP down")), \
            pytest.raises(OSError):
        case_confirmation_send(case_id=case.pk)

    case.refresh_from_db()
    assert case.confirmation_sent_at is None


# --- What staff see ---------------------------------------------------------------------------

FLAG = "Unverified: sent from the public form, not yet confirmed by the address owner."


def test_staff_see_the_case_flagged_and_not_on_the_contacts_timeline(
        client, manager, submitted, mailoutbox):
    client.force_login(manager)
    own = case_open(contact=submitted.contact, subject="Phoned about sizes", channel="phone")

    page = client.get(reverse("dashboard:contact_detail", args=[submitted.contact_id]))

    timeline = [entry.item for entry in page.context["timeline"] if entry.kind == "case"]
    assert timeline == [own]
    assert FLAG in page.content.decode()
    listing = client.get(reverse("support:my_cases") + "?all=1").content.decode()
    assert FLAG in listing

    client.post(_link(mailoutbox[0]))
    page = client.get(reverse("dashboard:contact_detail", args=[submitted.contact_id]))
    assert FLAG not in page.content.decode()
    assert {entry.item for entry in page.context["timeline"] if entry.kind == "case"} == {
        own, submitted}


def test_the_api_says_whether_a_case_is_confirmed(manager, submitted):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(manager)

    body = api.get(reverse("api:case", args=[submitted.pk])).json()

    assert body["verified"] is False and body["subject"] == SUBJECT


def test_the_admin_lists_the_case_as_unconfirmed_and_staff_cannot_tick_it(
        client, manager, submitted):
    client.force_login(manager)
    changelist = reverse("admin:support_case_changelist")

    unconfirmed = client.get(changelist + "?verified__exact=0").context["cl"].result_list
    change = client.get(reverse("admin:support_case_change", args=[submitted.pk]))

    assert list(unconfirmed) == [submitted]
    assert "verified" in change.context["adminform"].readonly_fields

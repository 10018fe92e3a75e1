"""An email service's webhooks (recorded payloads, campaigns/tests/payloads/email_services/)
feed the same bounce, complaint, suppression and consent code as delivery reports by email:
verified, applied once, and an event about an email we did not send changes nothing."""
import base64
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path

import pytest

from campaigns.models import EmailServiceEvent, Message, Suppression
from campaigns.tests.factories import MessageFactory
from customers.consent.models import ConsentRecord
from customers.services.contacts import contact_set_consent

pytestmark = pytest.mark.django_db
PAYLOADS = Path(__file__).parent / "payloads" / "email_services"
Status = Message.Status
AUTH = "Basic " + base64.b64encode(b"hooks:s3cret").decode()
SIGNING_KEY = "mailgun-signing-key"


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.CRM_EMAIL_SERVICE = ""
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hooks:s3cret",
                        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
                        "MAILGUN_API_KEY": "key-test"}


@pytest.fixture
def sent():
    """An email the service accepted, to a contact who agreed to marketing email."""
    message = MessageFactory(contact__email="ayse@example.com", status=Status.SENT,
                             to_email="ayse@example.com",
                             provider_message_id=f"<{uuid.uuid4().hex}@service.example>")
    contact_set_consent(contact=message.contact, consent=True, source="test")
    return message


def body_for(name: str, *, message_id: str, recipient: str = "ayse@example.com",
             event_id: str = "") -> bytes:
    text = (PAYLOADS / name).read_text()
    event_id = event_id or uuid.uuid4().hex
    timestamp = str(int(time.time()))
    signature = hmac.new(SIGNING_KEY.encode(), f"{timestamp}{event_id}".encode(),
                         hashlib.sha256).hexdigest()
    if name.startswith("mailgun"):
        message_id = message_id.strip("<>")  # Mailgun's events name it without brackets
    for placeholder, value in (("__MESSAGE_ID__", message_id), ("__RECIPIENT__", recipient),
                               ("__EVENT_ID__", event_id), ("__TIMESTAMP__", timestamp),
                               ("__SIGNATURE__", signature)):
        text = text.replace(placeholder, value)
    return text.encode()


def post(client, service: str, body: bytes, *, auth: str = AUTH):
    from django.conf import settings

    settings.CRM_EMAIL_SERVICE = service  # the one it sends through (restored by the fixture)
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    if service == "amazon_ses":
        data = json.loads(body)
        headers |= {"HTTP_X_AMZ_SNS_MESSAGE_TYPE": data["Type"],
                    "HTTP_X_AMZ_SNS_MESSAGE_ID": data["MessageId"]}
    return client.post(f"/email/service/{service}/tracking/", body,
                       content_type="text/plain" if service == "amazon_ses"
                       else "application/json", **headers)


BOUNCES = [("postmark", "postmark_bounce.json"), ("mailgun", "mailgun_failed_permanent.json"),
           ("sendgrid", "sendgrid_events.json"), ("brevo", "brevo_hard_bounce.json"),
           ("amazon_ses", "ses_bounce.json")]
COMPLAINTS = [("postmark", "postmark_spam_complaint.json"),
              ("mailgun", "mailgun_complained.json"), ("sendgrid", "sendgrid_spamreport.json"),
              ("brevo", "brevo_spam.json"), ("amazon_ses", "ses_complaint.json")]


@pytest.mark.parametrize(("service", "payload"), BOUNCES)
def test_a_bounce_marks_the_email_bounced_and_suppresses_the_address(client, sent, service,
                                                                      payload):
    response = post(client, service, body_for(payload, message_id=sent.provider_message_id))

    assert response.status_code == 200, response.content
    sent.refresh_from_db()
    assert sent.status == Status.BOUNCED
    assert Suppression.objects.get(email="ayse@example.com").reason == \
        Suppression.Reason.BOUNCED
    event = EmailServiceEvent.objects.get()
    assert (event.service, event.outcome, event.message) == (
        service, EmailServiceEvent.Outcome.APPLIED, sent)


@pytest.mark.parametrize(("service", "payload"), COMPLAINTS)
def test_a_complaint_withdraws_consent_and_suppresses_the_address(client, sent, service,
                                                                  payload):
    response = post(client, service, body_for(payload, message_id=sent.provider_message_id))

    assert response.status_code == 200, response.content
    sent.contact.refresh_from_db()
    assert sent.contact.marketing_consent is False
    assert Suppression.objects.get(email="ayse@example.com").reason == \
        Suppression.Reason.COMPLAINED
    withdrawal = ConsentRecord.objects.filter(contact=sent.contact, given=False).get()
    assert withdrawal.method == "spam_complaint"


@pytest.mark.parametrize(("service", "payload"), COMPLAINTS)
def test_a_replayed_event_changes_nothing_more(client, sent, service, payload):
    body = body_for(payload, message_id=sent.provider_message_id, event_id="replayed-1")

    assert post(client, service, body).status_code == 200
    assert post(client, service, body).status_code == 200

    assert EmailServiceEvent.objects.count() == 1
    assert ConsentRecord.objects.filter(contact=sent.contact, given=False).count() == 1


def test_an_unsubscribe_at_the_service_withdraws_consent(client, sent):
    response = post(client, "postmark", body_for("postmark_subscription_change.json",
                                                 message_id=sent.provider_message_id))

    assert response.status_code == 200
    sent.contact.refresh_from_db()
    assert sent.contact.marketing_consent is False
    assert Suppression.objects.get(email="ayse@example.com").reason == \
        Suppression.Reason.UNSUBSCRIBED


@pytest.mark.parametrize("payload", ["postmark_soft_bounce.json", "postmark_delivery.json"])
def test_a_soft_bounce_or_a_delivery_changes_nothing(client, sent, payload):
    response = post(client, "postmark", body_for(payload, message_id=sent.provider_message_id))

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == Status.SENT
    assert not Suppression.objects.exists()
    assert EmailServiceEvent.objects.get().outcome == EmailServiceEvent.Outcome.NOTED


@pytest.mark.parametrize(("service", "payload"), COMPLAINTS)
def test_an_event_about_an_email_we_did_not_send_is_skipped(client, sent, service, payload):
    body = body_for(payload, message_id="<not-ours@service.example>",
                    recipient="someone@example.com")

    assert post(client, service, body).status_code == 200

    assert not Suppression.objects.exists()
    assert EmailServiceEvent.objects.get().outcome == \
        EmailServiceEvent.Outcome.UNKNOWN_MESSAGE


@pytest.mark.parametrize(("service", "payload"), COMPLAINTS)
@pytest.mark.parametrize("auth", ["", "Basic " + base64.b64encode(b"hooks:guess").decode()])
def test_a_webhook_without_the_secret_is_refused(client, sent, service, payload, auth):
    response = post(client, service, body_for(payload, message_id=sent.provider_message_id),
                    auth=auth)

    assert response.status_code in (400, 401, 403)
    assert not EmailServiceEvent.objects.exists()
    assert not Suppression.objects.exists()


def test_only_the_service_the_crm_sends_through_is_heard(client, sent, settings):
    body = body_for("postmark_spam_complaint.json", message_id=sent.provider_message_id)
    settings.CRM_EMAIL_SERVICE = "mailgun"

    response = client.post("/email/service/postmark/tracking/", body,
                           content_type="application/json", HTTP_AUTHORIZATION=AUTH)

    assert response.status_code == 404
    assert not EmailServiceEvent.objects.exists()


def test_a_mailgun_event_with_a_bad_signature_is_refused(client, sent):
    body = json.loads(body_for("mailgun_complained.json", message_id=sent.provider_message_id))
    body["signature"]["signature"] = "0" * 64

    response = post(client, "mailgun", json.dumps(body).encode())

    assert response.status_code == 400
    assert not EmailServiceEvent.objects.exists()


def test_without_a_configured_secret_the_webhooks_accept_nobody(client, sent, settings):
    from crm.settings import base  # as shipped: CRM_EMAIL_SERVICE_WEBHOOK_SECRET unset

    assert base.ANYMAIL["WEBHOOK_SECRET"].startswith("closed:")
    settings.ANYMAIL = {"WEBHOOK_SECRET": base.ANYMAIL["WEBHOOK_SECRET"]}

    response = post(client, "postmark", body_for("postmark_spam_complaint.json",
                                                 message_id=sent.provider_message_id))

    assert response.status_code in (400, 401, 403)
    assert not Suppression.objects.exists()

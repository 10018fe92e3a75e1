"""Local fakes of the email services' send APIs (a real HTTP server on 127.0.0.1), answering
as each service documents, and the settings that point django-anymail at them.

- Postmark: POST /email -> {"To", "SubmittedAt", "MessageID", "ErrorCode": 0, "Message": "OK"}
  (postmarkapp.com/developer/api/email-api); ErrorCode 406 = inactive recipient.
- Mailgun: POST /v3/<domain>/messages -> {"id": "<...@domain>", "message": "Queued. Thank
  you."} (documentation.mailgun.com, Messages API).
- SendGrid: POST /v3/mail/send -> 202 with an empty body and X-Message-Id (docs.sendgrid.com,
  Mail Send); anymail tracks its own id through custom_args.anymail_id.
- Brevo: POST /v3/smtp/email -> 201 {"messageId": "<...@smtp-relay.mailin.fr>"}
  (developers.brevo.com, Send a transactional email).
- Amazon SES (API v2 through boto3): POST /v2/email/outbound-emails -> {"MessageId": "..."}
  (docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html).
"""
import json
import uuid

from crm.tests.fake_http import FakeAnswer, FakeHTTPAPI, FakeRequest


class FakeEmailService(FakeHTTPAPI):
    """`with FakeEmailService() as service:`; `service.url`, `service.requests` (what was
    sent), `service.ids` (the ids it answered with); faults from FakeHTTPAPI."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    @property
    def url(self) -> str:
        return self.base_url

    def handle(self, request: FakeRequest) -> FakeAnswer:
        token, path = uuid.uuid4().hex, request.path
        if path.endswith("/smtp/email"):  # Brevo
            self.ids.append(f"<202612071000.{token}@smtp-relay.mailin.fr>")
            return FakeAnswer(201, {"messageId": self.ids[-1]})
        if path.endswith("/email"):  # Postmark
            self.ids.append(f"{token[:8]}-{token[8:12]}-{token[12:16]}-{token[16:20]}-"
                            f"{token[20:]}")
            return FakeAnswer(200, {"To": json.loads(request.body)["To"],
                                    "SubmittedAt": "2026-12-07T10:00:00Z",
                                    "MessageID": self.ids[-1], "ErrorCode": 0,
                                    "Message": "OK"})
        if path.endswith("/messages"):  # Mailgun
            self.ids.append(f"<20261207100000.{token}@mg.example.com>")
            return FakeAnswer(200, {"id": self.ids[-1], "message": "Queued. Thank you."})
        if path.endswith("/mail/send"):  # SendGrid
            return FakeAnswer(202, b"", {"X-Message-Id": token})
        if path.endswith("/outbound-emails"):  # Amazon SES v2
            self.ids.append(f"0100018c{token}-000000")
            return FakeAnswer(200, {"MessageId": self.ids[-1]})
        return FakeAnswer(404, {"message": "no such endpoint"})


def use_service(settings, monkeypatch, service: str, url: str) -> None:
    """Settings that send through `service`, at the fake's `url`."""
    from django.conf import settings as live

    settings.CRM_EMAIL_SERVICE = service
    settings.EMAIL_BACKEND = live.EMAIL_SERVICES[service]
    anymail = {"WEBHOOK_SECRET": "hooks:s3cret", "REQUESTS_TIMEOUT": 5}
    if service == "postmark":
        anymail |= {"POSTMARK_SERVER_TOKEN": "server-token", "POSTMARK_API_URL": f"{url}/"}
    elif service == "mailgun":
        anymail |= {"MAILGUN_API_KEY": "key-test", "MAILGUN_SENDER_DOMAIN": "mg.example.com",
                    "MAILGUN_API_URL": f"{url}/v3", "MAILGUN_WEBHOOK_SIGNING_KEY": "signing"}
    elif service == "sendgrid":
        anymail |= {"SENDGRID_API_KEY": "SG.test", "SENDGRID_API_URL": f"{url}/v3/"}
    elif service == "brevo":
        anymail |= {"BREVO_API_KEY": "xkeysib-test", "BREVO_API_URL": f"{url}/v3/"}
    elif service == "amazon_ses":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKE")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
        anymail |= {"AMAZON_SES_CLIENT_PARAMS": {
            "region_name": "eu-central-1", "endpoint_url": url,
            "config": __import__("botocore.config").config.Config(
                retries={"max_attempts": 1}, read_timeout=5, connect_timeout=5)}}
    settings.ANYMAIL = anymail

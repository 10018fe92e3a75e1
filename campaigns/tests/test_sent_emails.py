"""The sent-emails page: staff read what campaigns sent, each email as its recipient gets it;
every name is text, never markup, and the HTML body is its own sandboxed document."""
import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from campaigns.models import Message
from customers.tests.factories import ContactFactory

from .factories import CampaignFactory, CampaignRunFactory, EmailTemplateFactory, MessageFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def message():
    template = EmailTemplateFactory(
        subject="Hello {{ contact.first_name }}",
        body_text="Dear {{ contact.first_name }}\n\nUnsubscribe: {{ unsubscribe_url }}\n",
        body_html='<p style="color:red">Dear {{ contact.first_name }}</p>')
    run = CampaignRunFactory(campaign=CampaignFactory(name=f"Spring {SCRIPT}", template=template))
    contact = ContactFactory(first_name=SCRIPT, last_name="Smith", email="script@example.com",
                             marketing_consent=True)
    return MessageFactory(run=run, contact=contact, to_email=contact.email,
                          status=Message.Status.SENT,
                          sent_at=timezone.now() - dt.timedelta(hours=2))


def _get(client, name, *args, **params):
    return client.get(reverse(name, args=args), params, REMOTE_ADDR="127.0.0.1")


def test_the_list_shows_recipient_campaign_status_and_time(client, manager, message):
    held_out = MessageFactory(status=Message.Status.HELD_OUT)
    client.force_login(manager)

    response = _get(client, "campaigns:sent_email_list")

    html = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["page_obj"].object_list) == [message]  # held out: no email
    assert held_out.contact.email not in html
    assert "script@example.com" in html and "Sent" in html
    assert reverse("campaigns:sent_email_detail", args=[message.pk]) in html
    # The navigation leads there.
    assert f'href="{reverse("campaigns:sent_email_list")}"' in html


def test_the_list_filters_by_status(client, manager, message):
    queued = MessageFactory(status=Message.Status.QUEUED)
    client.force_login(manager)

    assert list(_get(client, "campaigns:sent_email_list", status="queued")
                .context["page_obj"].object_list) == [queued]
    assert len(_get(client, "campaigns:sent_email_list", status="nonsense")
               .context["page_obj"].object_list) == 2


def test_names_are_text_on_the_list_and_the_email_page(client, manager, message):
    client.force_login(manager)

    pages = [_get(client, "campaigns:sent_email_list").content.decode(),
             _get(client, "campaigns:sent_email_detail", message.pk).content.decode()]

    for html in pages:
        assert SCRIPT not in html and "<script>alert" not in html
        assert ESCAPED in html  # the contact's name, and the campaign's
        assert "color:red" not in html  # the HTML body is never in the page itself
    detail = pages[1]
    assert f'data-testid="sent-subject">Hello {ESCAPED}</dd>' in detail
    assert f'data-testid="sent-text">Dear {ESCAPED}' in detail


def test_the_html_body_is_a_sandboxed_document_under_a_strict_policy(client, manager, message):
    client.force_login(manager)
    page = _get(client, "campaigns:sent_email_detail", message.pk).content.decode()

    frame = _get(client, "campaigns:sent_email_html", message.pk)

    html_url = reverse("campaigns:sent_email_html", args=[message.pk])
    assert '<iframe sandbox class="crm-email-frame"' in page and f'src="{html_url}"' in page
    assert frame.content.decode() == f'<p style="color:red">Dear {ESCAPED}</p>'
    policy = frame["Content-Security-Policy"].split("; ")
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert not [rule for rule in policy if rule.startswith("script-src")]
    assert "frame-ancestors 'self'" in policy
    assert frame["X-Frame-Options"] == "SAMEORIGIN"


def test_sales_staff_may_read_but_the_page_changes_nothing(client, sales_user, message):
    client.force_login(sales_user)

    assert _get(client, "campaigns:sent_email_list").status_code == 200
    assert _get(client, "campaigns:sent_email_detail", message.pk).status_code == 200
    assert _get(client, "campaigns:sent_email_html", message.pk).status_code == 200
    for name in ("campaigns:sent_email_list", "campaigns:sent_email_detail"):
        args = [] if name.endswith("list") else [message.pk]
        posted = client.post(reverse(name, args=args), REMOTE_ADDR="127.0.0.1")
        assert posted.status_code == 405
    message.refresh_from_db()
    assert message.status == Message.Status.SENT


@pytest.mark.parametrize("name", ["campaigns:sent_email_list", "campaigns:sent_email_detail",
                                  "campaigns:sent_email_html"])
def test_staff_without_permission_see_nothing(client, message, name):
    nobody = UserFactory(username="nobody")
    client.force_login(nobody)
    args = [] if name.endswith("list") else [message.pk]

    response = client.get(reverse(name, args=args), REMOTE_ADDR="127.0.0.1")

    assert response.status_code == 403
    assert b"script@example.com" not in response.content and b"Dear" not in response.content
    assert f'href="{reverse("campaigns:sent_email_list")}"'.encode() not in client.get(
        reverse("dashboard:today"), REMOTE_ADDR="127.0.0.1").content


@pytest.mark.parametrize("name", ["campaigns:sent_email_list", "campaigns:sent_email_detail",
                                  "campaigns:sent_email_html"])
def test_anonymous_visitors_are_sent_to_log_in(client, message, name):
    args = [] if name.endswith("list") else [message.pk]

    response = client.get(reverse(name, args=args), REMOTE_ADDR="127.0.0.1")

    assert response.status_code == 302 and "login" in response["Location"]


def test_a_broken_template_is_reported_not_a_server_error(client, manager, message):
    message.campaign.template.__class__.objects.filter(pk=message.campaign.template_id).update(
        body_text="{% if %}")
    client.force_login(manager)

    response = _get(client, "campaigns:sent_email_detail", message.pk)

    assert response.status_code == 200 and response.context["error"]


def test_the_permission_is_view_message():
    assert Permission.objects.filter(content_type__app_label="campaigns",
                                     codename="view_message").exists()

"""Clicks measured, privately: links rewritten through a signed redirect, counted once per
email and link, never for scanners, prefetches, bots, HEAD requests or erased contacts."""
import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone
from django.utils.encoding import iri_to_uri

from campaigns.clicks import click_token, click_url
from campaigns.models import LinkClick, Message
from campaigns.outbox import send_due_messages
from campaigns.tests.factories import EmailTemplateFactory, MessageFactory

pytestmark = pytest.mark.django_db
Status = Message.Status
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 " \
          "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"


def sent_message(**options) -> Message:
    """An email handed over ten minutes ago."""
    message = MessageFactory(status=Status.SENT, **options)
    Message.objects.filter(pk=message.pk).update(
        sent_at=timezone.now() - dt.timedelta(minutes=10), to_email=message.contact.email)
    message.refresh_from_db()
    return message


def follow(client, url: str, **headers):
    path = url.split("://", 1)[1].split("/", 1)[1]
    return client.get("/" + path, HTTP_USER_AGENT=headers.pop("agent", BROWSER), **headers)


def test_links_in_the_email_go_through_the_redirect_and_ours_stay(settings):
    template = EmailTemplateFactory(
        body_text="Yeni sezon: https://shop.example.com/yeni?utm=mail. Çık: {{ unsubscribe_url }}",
        body_html='<p><a href="https://shop.example.com/yeni?a=1&amp;b=2">Bak</a> '
                  '<a href="{{ unsubscribe_url }}">çık</a></p>')
    message = MessageFactory(run__campaign__template=template)

    send_due_messages()

    email = mail.outbox[0]
    text_links = re.findall(r"https?://\S+", email.body)
    assert text_links[0].startswith(settings.CRM_PUBLIC_URL.rstrip("/") + "/email/c/")
    assert text_links[0].endswith("/.")  # the sentence's full stop stays outside the link
    assert email.body.count("/email/c/") == 1
    assert "/email/unsubscribe/" in text_links[1]
    html = email.alternatives[0].content
    assert html.count("/email/c/") == 1 and "/email/unsubscribe/" in html
    assert "shop.example.com" not in html  # the link is inside the signed token
    message.refresh_from_db()
    assert message.status == Status.SENT


def test_a_click_redirects_and_is_counted_once(client):
    message = sent_message()
    url = click_url(message.pk, "https://shop.example.com/kahve?renk=kırmızı")

    first = follow(client, url)
    second = follow(client, url)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == iri_to_uri("https://shop.example.com/kahve?renk=kırmızı")
    click = LinkClick.objects.get()
    assert (click.message, click.contact, click.kind) == (message, message.contact, "click")


def test_each_link_of_an_email_counts_once(client):
    message = sent_message()

    follow(client, click_url(message.pk, "https://shop.example.com/a"))
    follow(client, click_url(message.pk, "https://shop.example.com/b"))

    assert LinkClick.objects.count() == 2


@pytest.mark.parametrize("headers", [
    {"agent": "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))"},
    {"agent": "python-requests/2.32"},
    {"agent": ""},
    {"HTTP_SEC_PURPOSE": "prefetch"},
    {"HTTP_PURPOSE": "prefetch"},
])
def test_scanners_bots_and_prefetches_are_not_counted(client, headers):
    message = sent_message()

    response = follow(client, click_url(message.pk, "https://shop.example.com/"), **headers)

    assert response.status_code == 302
    assert not LinkClick.objects.exists()


def test_a_head_request_is_not_counted(client):
    message = sent_message()
    url = click_url(message.pk, "https://shop.example.com/")

    response = client.head("/" + url.split("/", 3)[3], HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 302
    assert not LinkClick.objects.exists()


def test_a_click_within_seconds_of_the_hand_off_is_a_scanner(client):
    message = MessageFactory(status=Status.SENT)
    Message.objects.filter(pk=message.pk).update(sent_at=timezone.now(), to_email="a@b.c")

    follow(client, click_url(message.pk, "https://shop.example.com/"))

    assert not LinkClick.objects.exists()


def test_a_tampered_link_is_refused_and_goes_nowhere(client):
    message = sent_message()
    url = click_url(message.pk, "https://shop.example.com/")
    token = url.rstrip("/").rsplit("/", 1)[1]
    forged = click_token(message.pk, "https://evil.example/")[:-3] + token[-3:]

    for bad in (forged, token[:-1] + ("A" if token[-1] != "A" else "B"), "nonsense"):
        response = client.get(f"/email/c/{bad}/", HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 400
        assert "Location" not in response
    assert not LinkClick.objects.exists()


def test_a_click_for_an_erased_contact_redirects_but_records_nothing(client):
    message = sent_message()
    Message.objects.filter(pk=message.pk).update(to_email="")  # what erasure leaves

    response = follow(client, click_url(message.pk, "https://shop.example.com/"))

    assert response.status_code == 302
    assert not LinkClick.objects.exists()


def test_an_email_never_sent_records_no_click(client):
    message = MessageFactory(status=Status.QUEUED)

    follow(client, click_url(message.pk, "https://shop.example.com/"))

    assert not LinkClick.objects.exists()


def test_links_are_left_alone_when_click_tracking_is_off(settings):
    settings.CRM_TRACK_CLICKS = False
    template = EmailTemplateFactory(body_text="https://shop.example.com/yeni")
    MessageFactory(run__campaign__template=template)

    send_due_messages()

    assert "https://shop.example.com/yeni" in mail.outbox[0].body


def test_opens_are_not_tracked_unless_asked(settings, client):
    template = EmailTemplateFactory(body_html="<p>Merhaba</p>")
    MessageFactory(run__campaign__template=template)

    send_due_messages()
    assert "/email/o/" not in mail.outbox[0].alternatives[0].content

    settings.CRM_TRACK_OPENS = True
    MessageFactory(run__campaign__template=template)
    send_due_messages()
    html = mail.outbox[1].alternatives[0].content
    pixel = re.search(r'src="[^"]*(/email/o/[^"]+)"', html).group(1)
    Message.objects.update(sent_at=timezone.now() - dt.timedelta(minutes=5))
    response = client.get(pixel, HTTP_USER_AGENT=BROWSER)
    assert response["Content-Type"] == "image/gif"
    assert LinkClick.objects.get().kind == "open"


def test_the_campaign_shows_its_click_rate_beside_the_uplift(admin_client):
    from campaigns.measurement import campaign_clicks
    from campaigns.tests.factories import CampaignRunFactory

    run = CampaignRunFactory()
    messages = [sent_message(run=run) for _ in range(4)]
    for message in messages[:1]:
        LinkClick.objects.create(message=message, contact=message.contact,
                                 url="https://shop.example.com/a", url_hash="a")
        LinkClick.objects.create(message=message, contact=message.contact,
                                 url="https://shop.example.com/b", url_hash="b")
    LinkClick.objects.create(message=messages[1], contact=messages[1].contact, kind="open",
                             url="", url_hash="o")

    figures = campaign_clicks(run.campaign)
    response = admin_client.get(f"/admin/campaigns/campaign/{run.campaign.pk}/change/")

    assert (figures.sent, figures.clicked, figures.rate) == (4, 1, 0.25)
    assert "1 of 4 emails sent had a link clicked" in response.content.decode()

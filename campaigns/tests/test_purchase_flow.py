"""From the sales form: a coupon code is reported on, and a first purchase starts its campaign."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.coupons import coupon_create
from campaigns.models import Campaign, Coupon, EmailTemplate, Message
from customers.services.contacts import contact_set_consent
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _post_purchase(client, contact, **extra):
    data = {"amount": "20.00", "currency": "USD", "channel": "store", "quantity": "1",
            "purchased_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), **extra}
    return client.post(reverse("dashboard:purchase_create", args=[contact.pk]), data,
                       follow=True)


def test_a_valid_coupon_is_redeemed_and_said_so(client, sales_user):
    contact = ContactFactory()
    coupon = coupon_create(contact=contact, kind="amount", value=Decimal("5"), currency="USD",
                           expires_at=timezone.now() + dt.timedelta(days=10))
    client.force_login(sales_user)

    html = _post_purchase(client, contact, code=coupon.code.lower()).content.decode()

    coupon.refresh_from_db()
    assert coupon.redeemed_purchase is not None
    assert "Purchase recorded." in html and "Coupon redeemed" in html


def test_an_expired_coupon_still_records_the_sale_and_warns(client, sales_user):
    contact = ContactFactory()
    coupon = coupon_create(contact=contact, kind="amount", value=Decimal("5"), currency="USD",
                           expires_at=timezone.now() - dt.timedelta(days=1))
    client.force_login(sales_user)

    html = _post_purchase(client, contact, code=coupon.code).content.decode()

    assert contact.purchases.count() == 1
    assert Coupon.objects.get().redeemed_at is None
    assert "Coupon had expired: not redeemed" in html


def test_a_first_purchase_queues_the_welcome_campaign(client, sales_user,
                                                       django_capture_on_commit_callbacks):
    template = EmailTemplate.objects.create(name="Welcome", subject="Hi", body_text="Thanks")
    campaign = Campaign.objects.create(
        name="Welcome", template=template, trigger=Campaign.Trigger.EVENT,
        event=Campaign.Event.FIRST_PURCHASE, holdout_percent=0, is_active=True,
        delay_days=3, audience={"stages": ["one_time"]})
    contact = ContactFactory()
    contact_set_consent(contact=contact, consent=True, source="checkout")
    client.force_login(sales_user)

    with django_capture_on_commit_callbacks(execute=True):
        _post_purchase(client, contact)

    message = Message.objects.get(campaign=campaign)
    assert message.contact == contact and message.status == Message.Status.QUEUED


def test_the_contact_page_shows_emails_with_their_effect_and_coupons(client, sales_user):
    from campaigns.services import campaign_run_start
    from customers.tests.factories import record_purchase

    template = EmailTemplate.objects.create(name="Hi", subject="Hi", body_text="Code")
    campaign = Campaign.objects.create(name="Spring offer", template=template, holdout_percent=0,
                                       audience={"stages": ["one_time"]},
                                       coupon_kind="percent", coupon_value=Decimal("10"))
    contact = ContactFactory()
    record_purchase(contact, days_ago=40)
    contact_set_consent(contact=contact, consent=True, source="test")
    run = campaign_run_start(campaign=campaign)
    run.messages.update(status=Message.Status.SENT,
                        sent_at=timezone.now() - dt.timedelta(days=5))
    record_purchase(contact, days_ago=2)
    client.force_login(sales_user)

    html = client.get(reverse("dashboard:contact_detail", args=[contact.pk])).content.decode()

    emails = html[html.index('data-testid="emails"'):html.index('data-testid="coupons"')]
    assert "Spring offer" in emails and "Yes" in emails
    coupon = Coupon.objects.get(contact=contact)
    assert coupon.code in html[html.index('data-testid="coupons"'):]

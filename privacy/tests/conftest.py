"""A contact with data in every table that holds personal data, and a manager allowed to act."""
import datetime as dt
import time
from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import MANAGERS
from campaigns.models import (
    CampaignMember,
    JourneyEnrollment,
    Coupon,
    EmailServiceEvent,
    LinkClick,
    Referral,
    ReferralCode,
    ReorderReminder,
    Suppression,
)
from campaigns.tests.factories import MessageFactory
from customers.consent.models import ConsentMethod
from customers.consent.services import consent_record
from customers.models import (
    CallLog, Contact, ContactScore, FollowUp, ImportJob, Note, ScoringRun,
)
from customers.tests.factories import ContactFactory, record_purchase
from feedback.models import PromotionPause, SurveyResponse
from feedback.tests.factories import SurveyInviteFactory
from support.inbound import case_from_email
from support.models import Case
from support.public import _SALT as PUBLIC_FORM_SALT
from support.services import case_message_receive, case_open, case_reply
from webhooks.models import WebhookDelivery, WebhookEndpoint
from activity.models import WebsiteEvent

EMAIL = "zeynep.yildirimqz@example.com"
FIRST = "Zeynepqx"
LAST = "Yildirimqz"
PHONE = "+90 555 123 4567"
# Free text the person wrote (or staff wrote about them): a street address and a sentence.
ADDRESS = "Bagdatqz Caddesi 42"
WROTE = "my parrotqz chewed the jacket"


@pytest.fixture
def privacy_manager(manager):
    """A manager. Until accounts/roles.py lists "privacy.*", grant the Managers group here."""
    group = Group.objects.get(name=MANAGERS)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="privacy"))
    manager.__dict__.pop("_perm_cache", None)
    manager.__dict__.pop("_group_perm_cache", None)
    return manager


@pytest.fixture
def manager_client(client, privacy_manager):
    client.force_login(privacy_manager)
    return client


def _score(contact: Contact) -> ContactScore:
    now = timezone.now()
    run = ScoringRun.objects.create(status=ScoringRun.Status.SUCCEEDED, trigger="command",
                                    as_of=now.date(), horizon_days=90, finished_at=now)
    return ContactScore.objects.create(
        run=run, contact=contact, scored_at=now, p_buy_again=0.5, p_alive=0.8,
        expected_purchases=1.2, expected_value=30.0, predicted_value_12m=36.0, frequency=1,
        recency_days=10, age_days=40)


def _referral(contact: Contact) -> Referral:
    ReferralCode.objects.create(contact=contact, code="ZEYNEP10")
    referee = ContactFactory(email="friend@example.com")
    purchase = record_purchase(referee, amount="20.00", code="ZEYNEP10")
    reward = Coupon.objects.create(code="RWD-1", contact=contact, kind="amount",
                                   value=Decimal("5"), currency="USD",
                                   purpose=Coupon.Purpose.REFERRAL_REWARD,
                                   expires_at=timezone.now() + dt.timedelta(days=30))
    return Referral.objects.create(referrer=contact, referee=referee, purchase=purchase,
                                   reward=reward)


def _webhook_delivery(contact: Contact) -> WebhookDelivery:
    endpoint = WebhookEndpoint.objects.create(name="Shop", url="https://shop.example.com/hook",
                                              events=["contact.at_risk"])
    data = {"contact_id": contact.pk, "email": EMAIL, "stage": contact.stage}
    return WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="contact.at_risk", contact_id=contact.pk,
        payload={"id": "e1", "type": "contact.at_risk", "data": data},
        last_error=f"HTTP 500 for {EMAIL}")


def _cases(contact: Contact, staff) -> None:
    """A case through each door: the public form, an email, staff on the phone."""
    cache.clear()  # the form's per-address rate limit counts every test's posts
    response = Client().post(reverse("support:public_case"), {
        "email": EMAIL.upper(), "name": f"{FIRST} {LAST}", "subject": f"Parcel for {FIRST}",
        "message": f"Call {PHONE}, deliver to {ADDRESS}. {WROTE}.", "website": "",
        "started": signing.dumps(time.time() - 10, salt=PUBLIC_FORM_SALT)})
    assert response.status_code == 200, response.content
    case_from_email(
        f"From: {FIRST} {LAST} <{EMAIL}>\r\nTo: support@shop.example\r\n"
        f"Subject: {LAST} order\r\n\r\nI am {FIRST}, {ADDRESS}. {WROTE}.\r\n".encode())
    case_open(contact=contact, subject=f"{FIRST} called", channel=Case.Channel.PHONE,
              description=f"{FIRST} {LAST} at {PHONE} says {WROTE}", owner=staff)
    cases = Case.objects.filter(contact=contact)
    assert cases.count() == 3
    # A reply on the case and the person's answer threaded back into it.
    web = cases.get(channel=Case.Channel.WEB)
    case_reply(case=web, author=staff, body=f"Dear {FIRST}, we will call {PHONE}.")
    case_message_receive(case=web, body=f"Thanks, I am {FIRST} {LAST} at {ADDRESS}. {WROTE}.",
                         from_address=EMAIL, message_id=f"<{LAST}@mail.example>")
    # The admin's history shows a case by its subject ("Parcel for Zeynepqx").
    LogEntry.objects.log_actions(user_id=staff.pk, queryset=list(cases), action_flag=CHANGE,
                                 change_message="[]")


def _import_job() -> ImportJob:
    """A dashboard import whose preview quotes the person's row and whose error names them."""
    return ImportJob.objects.create(
        kind=ImportJob.Kind.CONTACTS, original_name="contacts.csv",
        status=ImportJob.Status.FAILED,
        error=f'duplicate key value violates unique constraint: (email)=({EMAIL})',
        preview={"header": ["email", "first_name", "phone"],
                 "rows": [[EMAIL, FIRST, PHONE], ["other@example.com", "Ali", ""]],
                 "errors": []})


def _shop_order(contact: Contact) -> None:
    """An order from a connected store (shops): its row, and the webhook body naming them."""
    from shops.models import ShopOrder, Store
    from shops.models import WebhookDelivery as ShopDelivery

    store = Store.objects.create(platform="woocommerce", name="Web shop", key="web",
                                 base_url="https://shop.example.com")
    purchase = contact.purchases.order_by("pk").first()
    ShopOrder.objects.create(store=store, order_id="5001", number="#5001", state="paid",
                             platform_updated_at=timezone.now(), purchase=purchase)
    ShopDelivery.objects.create(store=store, topic="order.created", delivery_id="d-5001",
                                body=f'{{"billing": {{"email": "{EMAIL}"}}}}'.encode())


@pytest.fixture
def rich_contact(privacy_manager) -> Contact:
    contact = ContactFactory(email=EMAIL, first_name=FIRST, last_name=LAST, phone=PHONE,
                             marketing_consent=True, consent_source="checkout")
    # The ledger row stays after erasure; its free-text note (here naming the person) is blanked.
    consent_record(contact=contact, given=True, method=ConsentMethod.PUBLIC_FORM,
                   source="checkout", evidence=f"checkbox ticked by {FIRST} {LAST} at checkout")
    record_purchase(contact, days_ago=40, amount="30.00")
    record_purchase(contact, days_ago=5, amount="12.50", lines=[
        {"sku": "TEA-1", "name": "Green tea", "quantity": 1, "unit_price": "12.50"}])
    Note.objects.create(contact=contact, author=privacy_manager,
                        body=f"{FIRST} {LAST} called from {PHONE} about {EMAIL}: {WROTE}")
    FollowUp.objects.create(contact=contact, assigned_to=privacy_manager,
                            title=f"Call {FIRST} {LAST}", due_on=timezone.now().date(),
                            due_time=dt.time(14, 30))
    CallLog.objects.create(contact=contact, user=privacy_manager, outcome="reached",
                           note=f"{FIRST} asked to use {PHONE}: {WROTE}")
    message = MessageFactory(contact=contact, to_email=EMAIL, status="sent", sent_at=timezone.now(),
                             last_error=f"450 mailbox {EMAIL} busy, retried")
    invite = SurveyInviteFactory(contact=contact, message__to_email=EMAIL)
    response = SurveyResponse.objects.create(invite=invite, contact=contact, score=3,
                                             comment=f"I am {FIRST} {LAST}, call {PHONE}; {WROTE}")
    PromotionPause.objects.create(contact=contact, response=response,
                                  paused_until=timezone.now() + dt.timedelta(days=30))
    _referral(contact)
    # Added to a campaign's audience from the contact list (dashboard bulk action).
    CampaignMember.objects.create(campaign=message.campaign, contact=contact,
                                  added_by=privacy_manager)
    # Reminded to reorder the green tea (campaigns.reorder).
    tea = contact.purchases.get(lines__isnull=False)
    ReorderReminder.objects.create(campaign=message.campaign, contact=contact, message=message,
                                   product=tea.lines.get().product,
                                   last_purchased_on=tea.purchased_on)
    # In a journey (campaigns.journeys), still going: erasure ends it.
    JourneyEnrollment.objects.create(campaign=message.campaign, contact=contact)
    # They clicked a link in it, and the email service later reported a delivery naming them.
    LinkClick.objects.create(message=message, contact=contact, url=f"https://shop.example.com/"
                             f"?email={EMAIL}", url_hash="link")
    EmailServiceEvent.objects.create(service="postmark", event_id="ev-1", event_type="delivered",
                                     provider_message_id="pm-1", recipient=EMAIL,
                                     message=message, outcome="noted",
                                     detail=f"250 ok {EMAIL}")
    _score(contact)
    # Before the bounce below: a reply to a bounced address is refused.
    _cases(contact, privacy_manager)
    Suppression.objects.create(email=EMAIL, reason=Suppression.Reason.BOUNCED,
                               detail=f"550 {EMAIL} unknown")
    _webhook_delivery(contact)
    # What they searched for on the shop's site can name them.
    WebsiteEvent.objects.create(contact=contact, kind="searched", name=f"gift for {FIRST}",
                                properties={"query": f"{FIRST} {LAST}", "note": WROTE},
                                occurred_at=timezone.now(), source="shop")
    _import_job()
    _shop_order(contact)
    contact.language = "tr"
    contact.save(update_fields=["language"])
    LogEntry.objects.log_actions(user_id=privacy_manager.pk, queryset=[contact],
                                 action_flag=CHANGE, change_message="[]", single_object=True)
    assert LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Contact),
                                   object_repr__icontains=EMAIL).exists()
    return contact

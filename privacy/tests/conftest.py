"""A contact with data in every table that holds personal data, and a manager allowed to act."""
import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.roles import MANAGERS
from campaigns.models import Coupon, Referral, ReferralCode, Suppression
from campaigns.tests.factories import MessageFactory
from customers.models import Contact, ContactScore, FollowUp, Note, ScoringRun
from customers.tests.factories import ContactFactory, record_purchase
from feedback.models import PromotionPause, SurveyResponse
from feedback.tests.factories import SurveyInviteFactory
from privacy.models import ConsentMethod
from privacy.services import consent_record
from webhooks.models import WebhookDelivery, WebhookEndpoint
from activity.models import WebsiteEvent

EMAIL = "zeynep.yildirimqz@example.com"
FIRST = "Zeynepqx"
LAST = "Yildirimqz"
PHONE = "+90 555 123 4567"


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


@pytest.fixture
def rich_contact(privacy_manager) -> Contact:
    contact = ContactFactory(email=EMAIL, first_name=FIRST, last_name=LAST, phone=PHONE,
                             marketing_consent=True, consent_source="checkout")
    # The ledger row stays after erasure; its free-text note (here naming the person) is blanked.
    consent_record(contact=contact, given=True, method=ConsentMethod.PUBLIC_FORM,
                   source="checkout", evidence=f"checkbox ticked by {FIRST} {LAST} at checkout")
    record_purchase(contact, days_ago=40, amount="30.00")
    record_purchase(contact, days_ago=5, amount="12.50")
    Note.objects.create(contact=contact, author=privacy_manager,
                        body=f"{FIRST} {LAST} called from {PHONE} about {EMAIL}")
    FollowUp.objects.create(contact=contact, assigned_to=privacy_manager,
                            title=f"Call {FIRST} {LAST}", due_on=timezone.now().date())
    MessageFactory(contact=contact, to_email=EMAIL, status="sent", sent_at=timezone.now(),
                   last_error=f"450 mailbox {EMAIL} busy, retried")
    invite = SurveyInviteFactory(contact=contact, message__to_email=EMAIL)
    response = SurveyResponse.objects.create(invite=invite, contact=contact, score=3,
                                             comment=f"I am {FIRST} {LAST}, call {PHONE}")
    PromotionPause.objects.create(contact=contact, response=response,
                                  paused_until=timezone.now() + dt.timedelta(days=30))
    _referral(contact)
    _score(contact)
    Suppression.objects.create(email=EMAIL, reason=Suppression.Reason.BOUNCED,
                               detail=f"550 {EMAIL} unknown")
    _webhook_delivery(contact)
    # What they searched for on the shop's site can name them.
    WebsiteEvent.objects.create(contact=contact, kind="searched", name=f"gift for {FIRST}",
                                properties={"query": f"{FIRST} {LAST}"},
                                occurred_at=timezone.now(), source="shop")
    contact.language = "tr"
    contact.save(update_fields=["language"])
    LogEntry.objects.log_actions(user_id=privacy_manager.pk, queryset=[contact],
                                 action_flag=CHANGE, change_message="[]", single_object=True)
    assert LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Contact),
                                   object_repr__icontains=EMAIL).exists()
    return contact

"""A new website event starts the "After a website action" campaigns for its kind, once."""
import datetime as dt

import pytest
from django.utils import timezone

from activity.services import event_record, events_record
from campaigns.models import Campaign, Message
from campaigns.tests.factories import CampaignFactory
from customers.services.contacts import contact_set_consent
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _campaign(kind="abandoned_cart", **fields) -> Campaign:
    values = {"trigger": Campaign.Trigger.EVENT, "event": Campaign.Event.WEBSITE_EVENT,
              "event_kind": kind, "holdout_percent": 0, "is_active": True, **fields}
    return CampaignFactory(**values)


def _consenting_contact():
    contact = ContactFactory()
    contact_set_consent(contact=contact, consent=True, source="test")
    return contact


def _record(capture, contact, **changes):
    values = {"contact": contact, "kind": "abandoned_cart", "occurred_at": timezone.now(),
              "source": "shop", "external_id": "cart-1", **changes}
    with capture(execute=True):
        return event_record(**values)


def test_the_event_queues_the_campaign_with_its_delay(django_capture_on_commit_callbacks):
    campaign = _campaign(delay_days=1)
    contact = _consenting_contact()
    before = timezone.now()

    _record(django_capture_on_commit_callbacks, contact)

    message = Message.objects.get()
    assert (message.campaign, message.contact) == (campaign, contact)
    assert message.status == Message.Status.QUEUED
    assert before + dt.timedelta(days=1) <= message.not_before <= (
        timezone.now() + dt.timedelta(days=1))


def test_a_retried_event_does_not_queue_a_second_message(django_capture_on_commit_callbacks):
    _campaign()
    contact = _consenting_contact()
    _record(django_capture_on_commit_callbacks, contact)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        retry = event_record(contact=contact, kind="abandoned_cart", occurred_at=timezone.now(),
                             source="shop", external_id="cart-1")

    assert retry.created is False
    assert callbacks == []  # nothing even enqueued
    assert Message.objects.count() == 1


def test_a_second_event_does_not_email_the_contact_again(django_capture_on_commit_callbacks):
    _campaign()
    contact = _consenting_contact()
    _record(django_capture_on_commit_callbacks, contact)

    _record(django_capture_on_commit_callbacks, contact, external_id="cart-2")

    assert Message.objects.count() == 1  # event campaigns email a contact once, ever


def test_no_message_without_consent(django_capture_on_commit_callbacks):
    _campaign()
    contact = ContactFactory(marketing_consent=False)

    _record(django_capture_on_commit_callbacks, contact)

    assert not Message.objects.exists()


def test_a_new_contact_by_email_gets_no_message(django_capture_on_commit_callbacks):
    _campaign(kind="signed_up_newsletter")

    with django_capture_on_commit_callbacks(execute=True):
        event_record(email="new@example.com", kind="signed_up_newsletter",
                     occurred_at=timezone.now())

    assert not Message.objects.exists()  # created without marketing consent


def test_only_campaigns_for_that_kind_and_active_ones(django_capture_on_commit_callbacks):
    wanted = _campaign(kind="abandoned_cart")
    _campaign(kind="viewed_product")
    _campaign(kind="abandoned_cart", is_active=False)
    CampaignFactory(trigger=Campaign.Trigger.EVENT, event=Campaign.Event.FIRST_PURCHASE,
                    holdout_percent=0, is_active=True)
    contact = _consenting_contact()

    _record(django_capture_on_commit_callbacks, contact)

    assert list(Message.objects.values_list("campaign", flat=True)) == [wanted.pk]


def test_an_old_event_is_recorded_but_starts_nothing(django_capture_on_commit_callbacks):
    _campaign()
    contact = _consenting_contact()

    result = _record(django_capture_on_commit_callbacks, contact,
                     occurred_at=timezone.now() - dt.timedelta(days=3))

    assert result.created is True
    assert not Message.objects.exists()


def test_a_batch_starts_the_campaign_once_per_contact(django_capture_on_commit_callbacks):
    _campaign()
    contact = _consenting_contact()
    item = {"contact": contact, "kind": "abandoned_cart", "occurred_at": timezone.now(),
            "source": "shop"}

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        events_record(events=[{**item, "external_id": "a"}, {**item, "external_id": "b"}])

    # the run's sending, one trigger for both events, one re-score of the contact (#18)
    assert len(callbacks) == 3
    assert Message.objects.count() == 1


def test_a_delayed_cart_reminder_is_not_sent_to_someone_who_has_bought_since(
        django_capture_on_commit_callbacks, smtp_sink):
    from campaigns.outbox import BOUGHT_SINCE, send_due_messages
    from customers.tests.factories import record_purchase

    _campaign(delay_days=1, audience={"website_action": "abandoned_cart",
                                      "website_action_days": 3,
                                      "website_action_no_purchase_since": True})
    bought, still_waiting = _consenting_contact(), _consenting_contact()
    _record(django_capture_on_commit_callbacks, bought, external_id="cart-1")
    _record(django_capture_on_commit_callbacks, still_waiting, external_id="cart-2")
    record_purchase(bought)  # the next morning, before the reminder goes out
    Message.objects.update(not_before=timezone.now())  # the day has passed

    send_due_messages()

    statuses = dict(Message.objects.values_list("contact_id", "status"))
    assert statuses == {bought.pk: Message.Status.SUPPRESSED,
                        still_waiting.pk: Message.Status.SENT}
    assert Message.objects.get(contact=bought).last_error == BOUGHT_SINCE
    assert sum(smtp_sink.message_ids().values()) == 1

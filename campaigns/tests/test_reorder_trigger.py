""""Time to reorder" end to end: a purchase with lines in through the purchase service, the
clock past the contact's (or the product's) interval, one reminder out through the outbox to
a real SMTP server; not twice, not after a new purchase of it, not without consent, capped."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.campaign_service import campaign_create
from campaigns.models import (
    Campaign,
    EmailTemplate,
    EmailTemplateTranslation,
    Message,
    ReorderReminder,
)
from campaigns.outbox import send_due_messages
from campaigns.outbox.outcomes import BOUGHT_SINCE, FREQUENCY_CAP
from campaigns.reorder import reorder_check
from campaigns.tests.factories import MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture
from campaigns.triggers import reorder_check_task
from customers.bought.pairs import product_reorder_refresh
from customers.tests.bought import buy, line
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
Status = Message.Status
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.CRM_BASE_CURRENCY = "USD"
    settings.CRM_REORDER_MIN_CONTACTS = 3
    settings.CRM_REORDER_CATCH_UP_DAYS = 14
    settings.CRM_MARKETING_CAP_DAYS = 7


@pytest.fixture
def campaign() -> Campaign:
    template = EmailTemplate.objects.create(
        name="Reorder", subject="Time for more {{ reorder_product.name }}?",
        body_text="Running low on {{ reorder_product.name }}? {{ unsubscribe_url }}",
        body_html="<p>Running low on {{ reorder_product.name }}?</p>")
    EmailTemplateTranslation.objects.create(
        template=template, language="tr", subject="{{ reorder_product.name }} bitti mi?",
        body_text="{{ reorder_product.name }} azaldı mı? {{ unsubscribe_url }}")
    return Campaign.objects.create(name="Reorder", template=template, is_active=True,
                                   trigger=Campaign.Trigger.EVENT,
                                   event=Campaign.Event.REORDER_DUE, holdout_percent=0)


def _regular(**contact) -> object:
    """Bought tea 60 and 30 days ago: their own interval is 30 days, due today."""
    contact = ContactFactory(**{"marketing_consent": True, **contact})
    buy(contact, "TEA", days_ago=60)
    buy(contact, "TEA", "HONEY", days_ago=30)
    return contact


def _drain() -> None:
    while send_due_messages().claimed:
        pass


def test_purchase_in_reminder_out_once_through_the_outbox(campaign, smtp_sink):
    contact = _regular(first_name="Ada")

    assert reorder_check(now=timezone.now() - 5 * DAY) == 0  # five days early: not due yet
    assert reorder_check() == 1
    _drain()

    [received] = smtp_sink.received
    assert received.rcpt_tos == (contact.email,)
    assert received.message["Subject"] == "Time for more Tea?"
    reminder = ReorderReminder.objects.get()
    assert (reminder.product.sku, reminder.message.status) == ("TEA", Status.SENT)
    # Run again today, tomorrow, next week: the same last purchase is never recalled twice.
    assert reorder_check() == 0
    assert reorder_check(now=timezone.now() + DAY) == 0
    reorder_check_task()
    _drain()
    assert len(smtp_sink.received) == 1


def test_in_the_contacts_language(campaign, smtp_sink):
    _regular(language="tr")

    reorder_check()
    _drain()

    assert smtp_sink.received[0].message["Subject"] == "Tea bitti mi?"


def test_a_new_purchase_of_it_stops_the_reminder(campaign):
    contact = _regular()
    buy(contact, "TEA", days_ago=1)

    assert reorder_check() == 0


def test_a_purchase_of_something_else_does_not(campaign):
    contact = _regular()
    buy(contact, "SOAP", days_ago=1)

    assert reorder_check() == 1


def test_bought_between_queueing_and_sending_it_is_not_sent(campaign, smtp_sink):
    contact = _regular()
    reorder_check()
    buy(contact, "TEA")

    _drain()

    assert smtp_sink.received == []
    message = Message.objects.get()
    assert (message.status, message.last_error) == (Status.SUPPRESSED, BOUGHT_SINCE)


def test_no_reminder_without_consent(campaign, smtp_sink):
    _regular(marketing_consent=False)

    assert reorder_check() == 0
    _drain()
    assert smtp_sink.received == []


def test_the_frequency_cap_holds_it_back(campaign, smtp_sink):
    contact = _regular()
    MessageFactory(contact=contact, status=Status.SENT, sent_at=timezone.now() - DAY)

    reorder_check()
    _drain()

    assert smtp_sink.received == []
    assert Message.objects.get(campaign=campaign).status == Status.CAPPED
    assert Message.objects.get(campaign=campaign).last_error == FREQUENCY_CAP


def test_held_out_contacts_are_recorded_and_not_asked_again(campaign, smtp_sink):
    campaign.holdout_percent = 90
    campaign.save()
    contacts = [_regular() for _ in range(8)]

    assert reorder_check() == len(contacts)
    _drain()

    held = Message.objects.filter(status=Status.HELD_OUT).count()
    assert len(smtp_sink.received) == len(contacts) - held
    assert ReorderReminder.objects.count() == len(contacts)
    assert reorder_check(now=timezone.now() + DAY) == 0


def test_bought_once_the_products_interval_is_used(campaign):
    for _ in range(3):  # three regulars: tea every 20 days
        contact = ContactFactory()
        buy(contact, "TEA", days_ago=300)
        buy(contact, "TEA", days_ago=280)
    newcomer = ContactFactory(marketing_consent=True)
    buy(newcomer, "TEA", days_ago=21)

    assert reorder_check() == 0  # no product interval computed yet: no reminder
    product_reorder_refresh()
    assert reorder_check() == 1
    assert ReorderReminder.objects.get().contact == newcomer


def test_long_overdue_products_are_not_recalled(campaign, settings):
    settings.CRM_REORDER_CATCH_UP_DAYS = 3
    contact = ContactFactory(marketing_consent=True)
    buy(contact, "TEA", days_ago=100)
    buy(contact, "TEA", days_ago=90)  # due 80 days ago

    assert reorder_check() == 0


def test_two_products_due_come_one_a_day_most_overdue_first(campaign):
    contact = ContactFactory(marketing_consent=True)
    buy(contact, "TEA", days_ago=24)
    buy(contact, "TEA", days_ago=14)  # due 4 days ago
    buy(contact, "HONEY", days_ago=20)
    buy(contact, "HONEY", days_ago=10)  # due today

    assert reorder_check() == 1
    assert reorder_check() == 0  # the contact is in today's run already
    assert reorder_check(now=timezone.now() + DAY) == 1
    assert [r.product.sku for r in ReorderReminder.objects.order_by("id")] == ["TEA", "HONEY"]


def test_refunded_lines_do_not_count(campaign):
    contact = ContactFactory(marketing_consent=True)
    buy(contact, "TEA", days_ago=60)
    refunded = buy(contact, "TEA", days_ago=30)
    from customers.services.refunds import purchase_refund

    purchase_refund(purchase=refunded)

    assert reorder_check() == 0  # one purchase of tea left, no product interval


def test_only_a_reorder_campaign_may_name_the_product(campaign):
    with pytest.raises(ValidationError, match="product to reorder"):
        campaign_create(name="Weekly", template=campaign.template,
                        trigger=Campaign.Trigger.SCHEDULE)


def test_a_weighed_line_counts_like_any(campaign):
    contact = ContactFactory(marketing_consent=True)
    buy(contact, lines=[line("CHEESE", quantity=2)], days_ago=40)
    buy(contact, lines=[line("CHEESE")], days_ago=20)

    assert reorder_check() == 1

"""Lifecycle stage and purchase figures follow real purchases through every kind of change."""
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from customers.models import Stage
from customers.services.purchases import (
    purchase_delete,
    purchase_record,
    purchase_update,
    purchases_delete,
)
from customers.services.refunds import purchase_refund
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc


def test_contact_without_purchases_is_a_prospect():
    contact = ContactFactory()

    assert contact.stage == Stage.PROSPECT
    assert contact.purchase_count == 0
    assert contact.total_spent == 0


def test_first_purchase_makes_a_one_time_buyer_with_its_figures():
    contact = ContactFactory()

    purchase = record_purchase(contact, days_ago=3, amount="19.90")

    contact.refresh_from_db()
    assert contact.stage == Stage.ONE_TIME
    assert contact.purchase_count == 1
    assert contact.total_spent == Decimal("19.90")
    assert contact.first_purchase_at == purchase.purchased_at
    assert contact.last_purchase_at == purchase.purchased_at


def test_purchase_on_a_second_day_makes_a_repeat_client():
    contact = ContactFactory()
    record_purchase(contact, days_ago=40)

    record_purchase(contact, days_ago=1)

    contact.refresh_from_db()
    assert contact.stage == Stage.REPEAT
    assert contact.purchase_count == 2


def test_zero_amount_order_is_still_a_purchase():
    contact = ContactFactory()

    record_purchase(contact, amount="0")

    contact.refresh_from_db()
    assert contact.stage == Stage.ONE_TIME
    assert contact.total_spent == 0


def test_purchases_on_the_same_shop_day_count_as_one_transaction(settings):
    settings.TIME_ZONE = "Europe/Istanbul"
    contact = ContactFactory()
    # 22:30 and 23:50 UTC on 1 March are both 2 March in Istanbul (UTC+3).
    for hour, minute in ((22, 30), (23, 50)):
        purchase_record(contact=contact, purchased_at=dt.datetime(2025, 3, 1, hour, minute, tzinfo=UTC),
                        amount=Decimal("5"), currency="USD")

    contact.refresh_from_db()
    assert contact.purchase_count == 1
    assert contact.stage == Stage.ONE_TIME
    assert contact.total_spent == Decimal("10")


def test_same_utc_day_can_be_two_shop_days(settings):
    settings.TIME_ZONE = "Europe/Istanbul"
    contact = ContactFactory()
    # 20:00 UTC is 23:00 in Istanbul; 21:30 UTC is 00:30 the next day there.
    for hour, minute in ((20, 0), (21, 30)):
        purchase_record(contact=contact, purchased_at=dt.datetime(2025, 3, 1, hour, minute, tzinfo=UTC),
                        amount=Decimal("5"), currency="USD")

    contact.refresh_from_db()
    assert contact.purchase_count == 2
    assert contact.stage == Stage.REPEAT


def test_purchase_day_is_stored_in_shop_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    contact = ContactFactory()

    result = purchase_record(contact=contact, purchased_at=dt.datetime(2025, 1, 2, 3, 0, tzinfo=UTC),
                             amount=Decimal("5"), currency="USD")

    assert result.purchase.purchased_on == dt.date(2025, 1, 1)
    assert result.purchase.purchased_at.astimezone(ZoneInfo("America/New_York")).hour == 22


def test_refund_stops_a_purchase_from_counting():
    contact = ContactFactory()
    record_purchase(contact, days_ago=30, amount="10")
    second = record_purchase(contact, days_ago=2, amount="25")

    purchase_refund(purchase=second)

    contact.refresh_from_db()
    assert contact.stage == Stage.ONE_TIME
    assert contact.purchase_count == 1
    assert contact.total_spent == Decimal("10")
    assert contact.last_purchase_at < second.purchased_at


def test_refunding_the_only_purchase_returns_to_prospect():
    contact = ContactFactory()
    only = record_purchase(contact)

    purchase_refund(purchase=only)

    contact.refresh_from_db()
    assert contact.stage == Stage.PROSPECT
    assert contact.first_purchase_at is None
    assert contact.last_purchase_at is None
    assert contact.total_spent == 0


def test_refunding_twice_keeps_the_first_refund_time():
    contact = ContactFactory()
    purchase = record_purchase(contact)
    first_time = dt.datetime(2025, 5, 1, tzinfo=UTC)
    purchase_refund(purchase=purchase, refunded_at=first_time)

    purchase_refund(purchase=purchase, refunded_at=dt.datetime(2025, 6, 1, tzinfo=UTC))

    purchase.refresh_from_db()
    assert purchase.refunded_at == first_time


def test_deleting_a_purchase_updates_the_figures():
    contact = ContactFactory()
    record_purchase(contact, days_ago=10, amount="10")
    latest = record_purchase(contact, days_ago=1, amount="5")

    purchase_delete(purchase=latest)

    contact.refresh_from_db()
    assert contact.stage == Stage.ONE_TIME
    assert contact.total_spent == Decimal("10")


def test_bulk_delete_updates_every_contact_concerned():
    first, second = ContactFactory(), ContactFactory()
    for contact in (first, second):
        record_purchase(contact, days_ago=10)
        record_purchase(contact, days_ago=1)

    deleted = purchases_delete(purchases=first.purchases.all() | second.purchases.filter(
        purchased_at__gte=second.last_purchase_at))

    first.refresh_from_db()
    second.refresh_from_db()
    assert deleted == 3
    assert first.stage == Stage.PROSPECT
    assert second.stage == Stage.ONE_TIME


def test_editing_a_purchase_date_onto_another_purchase_day_merges_transactions():
    contact = ContactFactory()
    first = record_purchase(contact, days_ago=10)
    second = record_purchase(contact, days_ago=1)

    purchase_update(purchase=second, purchased_at=first.purchased_at)

    contact.refresh_from_db()
    assert contact.purchase_count == 1
    assert contact.stage == Stage.ONE_TIME


def test_moving_a_purchase_to_another_contact_updates_both():
    buyer, other = ContactFactory(), ContactFactory()
    record_purchase(buyer, days_ago=10)
    moved = record_purchase(buyer, days_ago=1, amount="7")

    purchase_update(purchase=moved, contact=other)

    buyer.refresh_from_db()
    other.refresh_from_db()
    assert (buyer.stage, other.stage) == (Stage.ONE_TIME, Stage.ONE_TIME)
    assert other.total_spent == Decimal("7")


def test_stage_querysets_select_by_stage():
    prospect, one_time, repeat = ContactFactory(), ContactFactory(), ContactFactory()
    record_purchase(one_time)
    record_purchase(repeat, days_ago=5)
    record_purchase(repeat, days_ago=1)

    from customers.models import Contact

    assert list(Contact.objects.prospects()) == [prospect]
    assert list(Contact.objects.one_time_buyers()) == [one_time]
    assert list(Contact.objects.repeat_clients()) == [repeat]


def test_at_risk_are_repeat_clients_silent_for_too_long(settings):
    settings.CRM_AT_RISK_MIN_DAYS = 90
    silent, active, one_time = ContactFactory(), ContactFactory(), ContactFactory()
    record_purchase(silent, days_ago=200)
    record_purchase(silent, days_ago=120)
    record_purchase(active, days_ago=200)
    record_purchase(active, days_ago=10)
    record_purchase(one_time, days_ago=300)

    from customers.models import Contact

    assert list(Contact.objects.at_risk()) == [silent]

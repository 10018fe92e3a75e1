"""purchase_record applies a purchase's coupon or referral code, and never loses the sale."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Coupon, Referral
from campaigns.referrals import referral_code_for
from customers.models import Purchase
from customers.services.purchases import purchase_record
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _coupon(contact) -> Coupon:
    return Coupon.objects.create(code="CP-23456-789AB", contact=contact, kind="amount",
                                 value=Decimal("5"), currency="USD",
                                 expires_at=timezone.now() + dt.timedelta(days=3))


def _record(contact, **kwargs):
    return purchase_record(contact=contact, purchased_at=timezone.now(), amount=Decimal("20"),
                           currency="USD", **kwargs)


def test_recording_a_purchase_redeems_its_coupon():
    contact = ContactFactory()
    coupon = _coupon(contact)

    result = _record(contact, code="cp-23456-789ab", source="api", external_id="o-1")

    coupon.refresh_from_db()
    assert coupon.redeemed_purchase == result.purchase
    assert result.purchase.code == "cp-23456-789ab"  # kept as typed, for the record


def test_recording_a_purchase_records_its_referral():
    referrer, newcomer = ContactFactory(), ContactFactory()

    result = _record(newcomer, code=referral_code_for(referrer).code)

    assert Referral.objects.get().purchase == result.purchase


def test_the_same_order_recorded_twice_is_applied_once():
    contact = ContactFactory()
    coupon = _coupon(contact)
    first = _record(contact, code=coupon.code, source="csv", external_id="o-9")

    again = _record(contact, code=coupon.code, source="csv", external_id="o-9")

    assert again.created is False
    coupon.refresh_from_db()
    assert coupon.redeemed_purchase == first.purchase


def test_a_failing_code_check_does_not_lose_the_sale(monkeypatch):
    contact = ContactFactory()
    coupon = _coupon(contact)

    def broken(purchase, coupon_id):
        Coupon.objects.filter(pk=coupon_id).update(redeemed_at=timezone.now())  # rolled back
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("campaigns.coupons.coupon_redeem", broken)

    result = _record(contact, code=coupon.code)

    assert Purchase.objects.get() == result.purchase
    assert result.created is True
    contact.refresh_from_db()
    assert contact.purchase_count == 1
    coupon.refresh_from_db()
    assert coupon.redeemed_at is None

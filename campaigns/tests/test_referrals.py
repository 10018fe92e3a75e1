"""Referrals: a new buyer's first purchase with a code rewards the referrer once."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.coupons import CodeOutcome, purchase_codes_apply
from campaigns.models import Coupon, Referral, ReferralCode
from campaigns.referrals import referral_code_for, referral_codes_ensure
from customers.services.purchases import purchase_record
from customers.services.refunds import purchase_refund
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


def test_a_contact_keeps_one_referral_code():
    contact = ContactFactory()

    code = referral_code_for(contact)

    assert re.fullmatch(r"RF-[2-9A-Z]{5}-[2-9A-Z]{5}", code.code)
    assert referral_code_for(contact) == code
    assert ReferralCode.objects.count() == 1


def test_codes_are_ensured_in_bulk_without_touching_existing_ones(django_assert_max_num_queries):
    contacts = [ContactFactory() for _ in range(30)]
    existing = referral_code_for(contacts[0])
    ids = [c.pk for c in contacts]

    with django_assert_max_num_queries(4):
        created = referral_codes_ensure(ids)

    assert created == 29
    assert ReferralCode.objects.count() == 30
    assert ReferralCode.objects.get(contact=contacts[0]).code == existing.code
    assert referral_codes_ensure(ids) == 0


def test_new_buyers_first_purchase_records_the_referral_and_rewards_the_referrer(settings):
    settings.CRM_REFERRAL_REWARD_AMOUNT = "12.50"
    settings.CRM_REFERRAL_REWARD_VALID_DAYS = 60
    settings.CRM_BASE_CURRENCY = "USD"
    referrer = ContactFactory()
    code = referral_code_for(referrer)
    newcomer = ContactFactory()
    before = timezone.now()

    purchase = record_purchase(newcomer, code=f" {code.code.lower()} ")

    referral = Referral.objects.get()
    assert (referral.referrer, referral.referee, referral.purchase) == (referrer, newcomer,
                                                                        purchase)
    reward = referral.reward
    assert reward.contact == referrer
    assert reward.purpose == Coupon.Purpose.REFERRAL_REWARD
    assert (reward.kind, reward.value, reward.currency) == ("amount", Decimal("12.50"), "USD")
    assert before + dt.timedelta(days=60) <= reward.expires_at
    assert reward.expires_at <= timezone.now() + dt.timedelta(days=60)
    assert reward.redeemed_at is None


def test_the_reward_can_be_redeemed_by_the_referrer():
    referrer = ContactFactory()
    record_purchase(ContactFactory(), code=referral_code_for(referrer).code)
    reward = Referral.objects.get().reward

    record_purchase(referrer, code=reward.code)

    reward.refresh_from_db()
    assert reward.redeemed_purchase is not None


def test_own_code_does_not_count():
    contact = ContactFactory()
    code = referral_code_for(contact)

    purchase = record_purchase(contact, code=code.code)

    assert not Referral.objects.exists()
    assert not Coupon.objects.exists()
    assert purchase_codes_apply(purchase) == CodeOutcome.SELF_REFERRAL


def test_a_contact_is_referred_once_even_by_another_code():
    first, second = ContactFactory(), ContactFactory()
    newcomer = ContactFactory()
    record_purchase(newcomer, code=referral_code_for(first).code, days_ago=3)

    again = record_purchase(newcomer, code=referral_code_for(second).code)

    assert Referral.objects.get().referrer == first
    assert Coupon.objects.filter(purpose=Coupon.Purpose.REFERRAL_REWARD).count() == 1
    assert purchase_codes_apply(again) == CodeOutcome.ALREADY_REFERRED


def test_the_same_referee_using_the_code_again_earns_nothing_more():
    referrer = ContactFactory()
    code = referral_code_for(referrer).code
    newcomer = ContactFactory()
    record_purchase(newcomer, code=code, days_ago=3)

    record_purchase(newcomer, code=code)

    assert Referral.objects.count() == 1
    assert referrer.coupons.count() == 1


def test_someone_who_bought_before_is_not_a_new_buyer():
    referrer = ContactFactory()
    buyer = ContactFactory()
    record_purchase(buyer, days_ago=30)

    purchase = record_purchase(buyer, code=referral_code_for(referrer).code)

    assert not Referral.objects.exists()
    assert purchase_codes_apply(purchase) == CodeOutcome.NOT_FIRST_PURCHASE


def test_a_refunded_earlier_purchase_does_not_stop_the_first_live_one_counting():
    referrer = ContactFactory()
    buyer = ContactFactory()
    purchase_refund(purchase=record_purchase(buyer, days_ago=30))

    purchase = record_purchase(buyer, code=referral_code_for(referrer).code)

    assert Referral.objects.get().purchase == purchase


def test_refunding_the_referred_purchase_withdraws_the_unused_reward():
    referrer = ContactFactory()
    purchase = record_purchase(ContactFactory(), code=referral_code_for(referrer).code)
    reward = Referral.objects.get().reward

    purchase_refund(purchase=purchase)
    attempt = purchase_record(contact=referrer, purchased_at=timezone.now(),
                              amount=Decimal("30"), currency="USD", code=reward.code)

    referral = Referral.objects.get()
    reward.refresh_from_db()
    assert referral.purchase == purchase  # the referral stays on record
    assert attempt.code_outcome == CodeOutcome.EXPIRED
    assert reward.redeemed_at is None


def test_a_reward_already_spent_stays_spent_after_the_refund():
    referrer = ContactFactory()
    purchase = record_purchase(ContactFactory(), code=referral_code_for(referrer).code)
    reward = Referral.objects.get().reward
    record_purchase(referrer, code=reward.code)

    purchase_refund(purchase=purchase)

    reward.refresh_from_db()
    assert reward.redeemed_purchase is not None

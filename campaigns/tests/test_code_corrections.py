"""Correcting a purchase's code (admin): the old code's effect is undone, the new one applied."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.coupons import CodeOutcome, coupon_create
from campaigns.models import Coupon, Referral
from campaigns.referrals import referral_code_for
from customers.models import Purchase
from customers.services.purchases import purchase_update
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


def _coupon(contact) -> Coupon:
    return coupon_create(contact=contact, kind="amount", value=Decimal("5"), currency="USD",
                         expires_at=timezone.now() + dt.timedelta(days=30))


def test_a_code_added_afterwards_redeems_the_coupon():
    buyer = ContactFactory()
    coupon = _coupon(buyer)
    purchase = record_purchase(buyer, days_ago=1)

    updated = purchase_update(purchase=purchase, code=f" {coupon.code.lower()} ")

    coupon.refresh_from_db()
    assert updated.code_outcome == CodeOutcome.REDEEMED
    assert coupon.redeemed_purchase == purchase


def test_a_wrong_code_replaced_frees_the_coupon_it_had_redeemed():
    buyer = ContactFactory()
    wrong, right = _coupon(buyer), _coupon(buyer)
    purchase = record_purchase(buyer, days_ago=1, code=wrong.code)

    purchase_update(purchase=purchase, code=right.code)

    wrong.refresh_from_db()
    right.refresh_from_db()
    assert (wrong.redeemed_at, wrong.redeemed_purchase) == (None, None)
    assert right.redeemed_purchase == purchase


def test_removing_a_referral_code_removes_the_referral_and_its_unused_reward():
    referrer, newcomer = ContactFactory(), ContactFactory()
    purchase = record_purchase(newcomer, days_ago=1, code=referral_code_for(referrer).code)
    reward = Referral.objects.get().reward

    updated = purchase_update(purchase=purchase, code="")

    reward.refresh_from_db()
    assert updated.code_outcome == CodeOutcome.NO_CODE
    assert not Referral.objects.exists()
    assert reward.expires_at <= timezone.now()


def test_other_corrections_leave_the_code_alone():
    buyer = ContactFactory()
    coupon = _coupon(buyer)
    purchase = record_purchase(buyer, days_ago=1, code=coupon.code)

    updated = purchase_update(purchase=purchase, amount=Decimal("99"))

    coupon.refresh_from_db()
    assert updated.code_outcome == ""
    assert coupon.redeemed_purchase == purchase


def test_the_admin_says_what_the_corrected_code_did(client, manager):
    buyer = ContactFactory()
    coupon = _coupon(buyer)
    purchase = record_purchase(buyer, days_ago=1)
    client.force_login(manager)
    url = reverse("admin:customers_purchase_change", args=[purchase.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"code": coupon.code, "purchased_at_0": purchase.purchased_at.strftime("%Y-%m-%d"),
                 "purchased_at_1": purchase.purchased_at.strftime("%H:%M:%S")})
    data.pop("purchased_at", None)

    response = client.post(url, data, follow=True)

    assert Purchase.objects.get(pk=purchase.pk).code == coupon.code
    assert str(CodeOutcome.REDEEMED.label) in response.content.decode()

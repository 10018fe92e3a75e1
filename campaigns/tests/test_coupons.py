"""Coupons: unguessable typable codes, issued in bulk per run, redeemed once by their owner."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.coupons import (ALPHABET, CodeOutcome, code_generate, code_normalise,
                               coupons_issue_for_run, purchase_codes_apply)
from campaigns.models import Campaign, CampaignRun, Coupon, EmailTemplate, Message
from customers.services.refunds import purchase_refund
from customers.tests.factories import ContactFactory, record_purchase

Status = Message.Status


def _campaign(**values) -> Campaign:
    template = EmailTemplate.objects.create(name=f"t{EmailTemplate.objects.count()}",
                                            subject="Hi", body_text="Your code")
    values.setdefault("name", f"c{Campaign.objects.count()}")
    return Campaign.objects.create(template=template, **values)


def _run(campaign: Campaign, statuses: list[str]) -> CampaignRun:
    run = CampaignRun.objects.create(campaign=campaign, key=f"k{CampaignRun.objects.count()}")
    Message.objects.bulk_create(
        Message(run=run, campaign=campaign, contact=ContactFactory(), status=status,
                message_id=f"<{run.pk}.{index}@test>")
        for index, status in enumerate(statuses))
    return run


def _coupon(contact=None, *, expires_in_days=30, **values) -> Coupon:
    campaign = values.pop("campaign", None) or _campaign(coupon_kind="amount",
                                                         coupon_value=Decimal("5"))
    return Coupon.objects.create(
        code=code_generate("CP"), contact=contact or ContactFactory(), campaign=campaign,
        kind=Coupon.Kind.AMOUNT, value=Decimal("5"), currency="USD",
        expires_at=timezone.now() + dt.timedelta(days=expires_in_days), **values)


# --- Codes ----------------------------------------------------------------------------------

def test_codes_are_prefixed_and_use_only_unambiguous_characters():
    codes = {code_generate("CP") for _ in range(2000)}

    assert len(codes) == 2000
    for code in codes:
        assert re.fullmatch(r"CP-[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}", code)
    assert not set("01OIL") & set(ALPHABET)


@pytest.mark.parametrize(("typed", "stored"), [
    ("CP-7K4MQ-2XRHD", "CP-7K4MQ-2XRHD"),
    ("  cp-7k4mq-2xrhd  ", "CP-7K4MQ-2XRHD"),
    ("cp 7k4mq 2xrhd", "CP-7K4MQ-2XRHD"),
    ("CP7K4MQ2XRHD", "CP-7K4MQ-2XRHD"),
    ("rf-abcde-fghjk", "RF-ABCDE-FGHJK"),
    ("SUMMER10", None),
    ("CP-7K4MQ-2XRH", None),
    ("", None),
])
def test_typed_codes_are_normalised(typed, stored):
    assert code_normalise(typed) == stored


# --- Issuing --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_each_message_that_may_be_sent_gets_its_own_coupon(settings):
    settings.CRM_BASE_CURRENCY = "EUR"
    campaign = _campaign(coupon_kind="amount", coupon_value=Decimal("7.50"), coupon_valid_days=14)
    run = _run(campaign, [Status.QUEUED] * 3 + [Status.HELD_OUT, Status.SUPPRESSED,
                                                Status.CAPPED])
    now = timezone.now()

    issued = coupons_issue_for_run(run, now=now)

    assert issued == 3
    linked = Message.objects.filter(run=run, coupon__isnull=False).select_related("coupon")
    assert {m.status for m in linked} == {Status.QUEUED}
    assert len({m.coupon.code for m in linked}) == 3
    for message in linked:
        coupon = message.coupon
        assert coupon.contact_id == message.contact_id
        assert (coupon.campaign, coupon.purpose) == (campaign, Coupon.Purpose.CAMPAIGN)
        assert (coupon.kind, coupon.value, coupon.currency) == ("amount", Decimal("7.50"), "EUR")
        assert coupon.expires_at == now + dt.timedelta(days=14)
    assert Coupon.objects.count() == 3


@pytest.mark.django_db
def test_percent_coupons_have_no_currency():
    run = _run(_campaign(coupon_kind="percent", coupon_value=Decimal("15")), [Status.QUEUED])

    coupons_issue_for_run(run)

    assert Coupon.objects.get().currency == ""
    assert Coupon.objects.get().kind == "percent"


@pytest.mark.django_db
def test_issuing_again_adds_nothing():
    run = _run(_campaign(coupon_kind="amount", coupon_value=Decimal("5")), [Status.QUEUED] * 4)
    coupons_issue_for_run(run)
    before = dict(Message.objects.values_list("pk", "coupon__code"))

    assert coupons_issue_for_run(run) == 0
    assert dict(Message.objects.values_list("pk", "coupon__code")) == before
    assert Coupon.objects.count() == 4


@pytest.mark.django_db
def test_campaign_without_coupon_issues_none():
    run = _run(_campaign(), [Status.QUEUED] * 2)

    assert coupons_issue_for_run(run) == 0
    assert not Coupon.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "value"), [("amount", None), ("percent", Decimal("120")),
                                             ("amount", Decimal("0"))])
def test_a_coupon_campaign_needs_a_sensible_value(kind, value):
    run = _run(_campaign(coupon_kind=kind, coupon_value=value), [Status.QUEUED])

    with pytest.raises(ValidationError) as caught:
        coupons_issue_for_run(run)

    assert caught.value.error_dict["coupon_value"][0].code == "invalid_coupon_value"


@pytest.mark.django_db
def test_issuing_takes_a_few_queries_whatever_the_run_size(django_assert_max_num_queries):
    run = _run(_campaign(coupon_kind="amount", coupon_value=Decimal("5")), [Status.QUEUED] * 60)

    with django_assert_max_num_queries(8):
        assert coupons_issue_for_run(run) == 60


@pytest.mark.django_db
def test_a_code_collision_draws_again(monkeypatch):
    taken = _coupon()
    codes = iter([taken.code, "CP-22222-22222"])
    monkeypatch.setattr("campaigns.coupons.code_generate", lambda prefix: next(codes))
    run = _run(_campaign(coupon_kind="amount", coupon_value=Decimal("5")), [Status.QUEUED])

    assert coupons_issue_for_run(run) == 1
    assert Message.objects.get().coupon.code == "CP-22222-22222"


# --- Redeeming ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_own_valid_coupon_is_redeemed_and_attributed_to_its_campaign():
    coupon = _coupon()

    purchase = record_purchase(coupon.contact, code=coupon.code)

    coupon.refresh_from_db()
    assert coupon.redeemed_purchase == purchase
    assert coupon.redeemed_at == purchase.purchased_at
    assert purchase.redeemed_coupon.campaign == coupon.campaign


@pytest.mark.django_db
def test_code_in_lower_case_with_spaces_is_redeemed():
    coupon = _coupon()
    typed = f"  {coupon.code.lower().replace('-', ' ')} "

    purchase = record_purchase(coupon.contact, code=typed)

    coupon.refresh_from_db()
    assert coupon.redeemed_purchase == purchase


@pytest.mark.django_db
def test_expired_coupon_is_not_redeemed_but_the_sale_is_recorded():
    coupon = _coupon(expires_in_days=-1)

    purchase = record_purchase(coupon.contact, code=coupon.code)

    assert purchase_codes_apply(purchase) == CodeOutcome.EXPIRED
    coupon.refresh_from_db()
    assert coupon.redeemed_at is None
    assert purchase.contact.purchases.count() == 1


@pytest.mark.django_db
def test_coupon_valid_at_the_purchase_time_counts_even_if_recorded_later():
    coupon = _coupon(expires_in_days=-1)  # expired yesterday

    record_purchase(coupon.contact, code=coupon.code, days_ago=2)

    coupon.refresh_from_db()
    assert coupon.redeemed_at is not None


@pytest.mark.django_db
def test_someone_elses_coupon_is_not_redeemed():
    coupon = _coupon()
    stranger = ContactFactory()

    purchase = record_purchase(stranger, code=coupon.code)

    assert purchase_codes_apply(purchase) == CodeOutcome.NOT_YOURS
    coupon.refresh_from_db()
    assert coupon.redeemed_at is None
    assert stranger.purchases.get() == purchase


@pytest.mark.django_db
def test_a_coupon_is_redeemed_once():
    coupon = _coupon()
    first = record_purchase(coupon.contact, code=coupon.code, days_ago=1)

    second = record_purchase(coupon.contact, code=coupon.code)

    assert purchase_codes_apply(second) == CodeOutcome.ALREADY_REDEEMED
    coupon.refresh_from_db()
    assert coupon.redeemed_purchase == first


@pytest.mark.django_db
def test_refunding_the_redeeming_purchase_keeps_the_coupon_used():
    coupon = _coupon()
    purchase = record_purchase(coupon.contact, code=coupon.code, days_ago=1)

    purchase_refund(purchase=purchase)
    again = record_purchase(coupon.contact, code=coupon.code)

    coupon.refresh_from_db()
    assert coupon.redeemed_purchase == purchase
    assert purchase_codes_apply(again) == CodeOutcome.ALREADY_REDEEMED


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "outcome"), [("", CodeOutcome.NO_CODE),
                                               ("SUMMER10", CodeOutcome.UNKNOWN),
                                               ("CP-22222-22222", CodeOutcome.UNKNOWN)])
def test_codes_that_are_not_ours_change_nothing(code, outcome):
    purchase = record_purchase(ContactFactory(), code=code)

    assert purchase_codes_apply(purchase) == outcome
    assert purchase.pk is not None


@pytest.mark.django_db
def test_outcomes_have_translated_labels():
    assert str(CodeOutcome.NOT_YOURS.label) == "Coupon belongs to another contact: not redeemed"

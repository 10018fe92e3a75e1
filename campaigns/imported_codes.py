"""Coupon and referral codes of imported purchases, applied set-based: what
purchase_codes_apply does for one purchase, for a whole import in a few statements
(customers.hooks.purchases_imported, inside the import's transaction).

The rules are those of one purchase (campaigns.coupons, campaigns.referrals):
- A coupon is redeemed when it is the buyer's own, unused and not expired at the purchase's
  time; it is redeemed at that time by that purchase. Two imported purchases carrying the same
  coupon: the first inserted (lowest id) redeems it, as applying them one by one would.
- A referral is recorded when the code is someone else's referral code, the buyer was never
  referred before and the purchase is the buyer's first counted purchase (judged against
  everything recorded, the imported purchases included); the referrer gets one reward coupon.
- Anything else (unknown, expired, someone else's coupon, used before) is simply not applied;
  the purchase is imported either way.
- A historical import records the facts (coupons redeemed, referrals noted) but sends and
  creates nothing for today: no coupon.redeemed webhooks, no reward coupons (a reward for a
  referral years ago was the shop's business then, not a coupon to hand out now).

Codes are matched as forgivingly as code_normalise matches a typed one: case and the
separators people type (space, tab, dash, underscore, dot, slash) do not matter.

Queries, whatever the import's size (no loop over purchases); none but the first when no
imported purchase carries a code:
0. whether any does (the import noted their ids in a temporary table);
1. coupons: one UPDATE ... WHERE code IN (imported codes) AND EXISTS (an eligible purchase),
   setting the first eligible purchase and its time (correlated on the coupon's contact);
2. referrals: one INSERT ... SELECT of the eligible first purchases (ON CONFLICT DO NOTHING:
   a concurrent writer's referral of the same buyer wins, as in referral_apply);
3. rewards (not historical): one SELECT of the new referrals, one bulk INSERT of their reward
   coupons (a fresh random code each), one bulk UPDATE linking them;
4. webhooks (not historical): one SELECT of the redeemed coupons for coupon.redeemed.
"""
import datetime as dt
from decimal import Decimal
from functools import reduce

from django.conf import settings
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat, Length, Replace, Substr, Upper
from django.utils import timezone

from crm.shop import shop
from customers.hooks import ImportedPurchases
from customers.models import Purchase

from .coupons import COUPON_PREFIX, CODE_LENGTH, _bulk_create_with_retry, code_generate
from .models import Coupon, Referral, ReferralCode

_SEPARATORS = (" ", "\t", "-", "_", ".", "/")
_COMPACT_LENGTH = len(COUPON_PREFIX) + CODE_LENGTH  # "CP" + ten characters, as REFERRAL_PREFIX


def _coded(purchases: QuerySet) -> QuerySet:
    """The purchases whose code could be one of ours, with `stored`: the code as stored
    ("CP-7K4MQ-2XRHD"), built in SQL from what was typed."""
    compact = Upper(reduce(lambda text, sep: Replace(text, Value(sep), Value("")),
                           _SEPARATORS, F("code")))
    return (purchases.exclude(code="").annotate(compact=compact)
            .annotate(compact_length=Length("compact")).filter(compact_length=_COMPACT_LENGTH)
            .annotate(stored=Concat(Substr("compact", 1, 2), Value("-"), Substr("compact", 3, 5),
                                    Value("-"), Substr("compact", 8, 5))))


def imported_codes_apply(batch: ImportedPurchases) -> None:
    if not batch.with_code.exists():  # most imports: one look at an empty table, no more
        return
    coded = _coded(batch.with_code)
    redeemed = _coupons_redeem(coded)
    new_referrals = _referrals_record(coded)
    if batch.historical:
        return
    if new_referrals:
        _rewards_give(batch.with_code)
    if redeemed:
        from webhooks.services import coupons_redeemed_emit  # webhooks imports customers

        coupons_redeemed_emit(Coupon.objects.filter(redeemed_purchase__in=batch.with_code))


def _coupons_redeem(coded: QuerySet) -> int:
    eligible = (coded.filter(stored=OuterRef("code"), contact_id=OuterRef("contact_id"),
                             purchased_at__lte=OuterRef("expires_at"))
                .order_by("pk"))
    return (Coupon.objects.filter(redeemed_at__isnull=True,
                                  code__in=coded.values("stored"))
            .filter(Exists(eligible))
            .update(redeemed_purchase_id=Subquery(eligible.values("pk")[:1]),
                    redeemed_at=Subquery(eligible.values("purchased_at")[:1])))


def _referrals_record(coded: QuerySet) -> int:
    code_of_another = ReferralCode.objects.filter(code=OuterRef("stored")).exclude(
        contact_id=OuterRef("contact_id"))
    earlier = Purchase.objects.counted().filter(
        Q(purchased_at__lt=OuterRef("purchased_at"))
        | Q(purchased_at=OuterRef("purchased_at"), pk__lt=OuterRef("pk")),
        contact_id=OuterRef("contact_id"))
    eligible = (coded.filter(Exists(code_of_another), refunded_at__isnull=True)
                .exclude(Exists(Referral.objects.filter(referee_id=OuterRef("contact_id"))))
                .exclude(Exists(earlier))
                .annotate(referrer=Subquery(code_of_another.values("contact_id")[:1]),
                          referee=F("contact_id"), bought=F("pk"))
                .order_by().values("referrer", "referee", "bought"))
    sql, params = eligible.query.sql_with_params()
    table = Referral._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {table} (referrer_id, referee_id, purchase_id, created_at)
            SELECT e.referrer, e.referee, e.bought, %s FROM ({sql}) e
            WHERE true
            ON CONFLICT DO NOTHING""",
                       [connection.ops.adapt_datetimefield_value(timezone.now()), *params])
        return cursor.rowcount


def _rewards_give(purchases: QuerySet) -> None:
    """One reward coupon per new referral of these purchases, as referrals._reward."""
    referrals = list(Referral.objects.filter(purchase__in=purchases, reward__isnull=True)
                     .order_by("pk"))
    now = timezone.now()
    expires_at = now + dt.timedelta(days=settings.CRM_REFERRAL_REWARD_VALID_DAYS)
    rewards = _bulk_create_with_retry([
        Coupon(code=code_generate(COUPON_PREFIX), contact_id=referral.referrer_id,
               purpose=Coupon.Purpose.REFERRAL_REWARD, kind=Coupon.Kind.AMOUNT,
               value=Decimal(settings.CRM_REFERRAL_REWARD_AMOUNT),
               currency=shop().base_currency, expires_at=expires_at)
        for referral in referrals])
    for referral, reward in zip(referrals, rewards, strict=True):
        referral.reward = reward
    Referral.objects.bulk_update(referrals, ["reward"], batch_size=1000)

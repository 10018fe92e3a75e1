"""Referral codes and rewards: a new buyer's first purchase with someone's code rewards them.

    referral_code_for(contact) -> ReferralCode       # the contact's code, made on first use
    referral_codes_ensure(contact_ids) -> int        # bulk, before a referral campaign sends
    referral_apply(purchase, referral_code)          # via coupons.purchase_codes_apply

Rules: only the referee's first live purchase counts (no live purchase of theirs before it);
nobody can refer themselves; a contact is referred at most once, ever (Referral.referee is
unique), so the same referee using codes again is not counted; each referral gives the
referrer one reward coupon (CRM_REFERRAL_REWARD_AMOUNT in the base currency, valid
CRM_REFERRAL_REWARD_VALID_DAYS days).

The referee's own discount (CRM_REFERRAL_DISCOUNT_PERCENT) is given at the till or the shop's
checkout, which knows the code before the order is priced; the CRM only records the referral
afterwards, so the purchase amount recorded here is the amount after that discount.
"""
import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from crm.shop import shop
from customers.models import Contact, Purchase

from .coupons import REFERRAL_PREFIX, CodeOutcome, code_generate, coupon_create
from .models import Coupon, Referral, ReferralCode

_ATTEMPTS = 5
_CHUNK = 1000


def referral_code_for(contact: Contact) -> ReferralCode:
    """The contact's referral code, created with a fresh unique code the first time."""
    for _attempt in range(_ATTEMPTS):
        existing = ReferralCode.objects.filter(contact=contact).first()
        if existing:
            return existing
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(contact=contact,
                                                   code=code_generate(REFERRAL_PREFIX))
        except IntegrityError:
            continue  # created meanwhile by another writer, or a code collision: look again
    raise RuntimeError(f"could not create a referral code for contact {contact.pk}")


def referral_codes_ensure(contact_ids) -> int:
    """Give every one of these contacts a referral code; return how many were created."""
    created = 0
    for _attempt in range(_ATTEMPTS):
        missing = _without_code(contact_ids)
        if not missing:
            return created
        for start in range(0, len(missing), _CHUNK):
            rows = [ReferralCode(contact_id=contact_id, code=code_generate(REFERRAL_PREFIX))
                    for contact_id in missing[start:start + _CHUNK]]
            # A conflict (made meanwhile, or a code collision) skips the row; the next pass
            # finds whoever is still missing.
            ReferralCode.objects.bulk_create(rows, ignore_conflicts=True)
        created += len(missing) - len(_without_code(missing))
    if _without_code(contact_ids):
        raise RuntimeError("could not create every referral code")
    return created


def _without_code(contact_ids) -> list[int]:
    wanted = sorted(set(contact_ids))
    have: set[int] = set()
    for start in range(0, len(wanted), _CHUNK):
        have.update(ReferralCode.objects.filter(contact_id__in=wanted[start:start + _CHUNK])
                    .values_list("contact_id", flat=True))
    return [contact_id for contact_id in wanted if contact_id not in have]


def _is_first_live_purchase(purchase: Purchase) -> bool:
    earlier = Q(purchased_at__lt=purchase.purchased_at) | Q(
        purchased_at=purchase.purchased_at, pk__lt=purchase.pk)
    return not (Purchase.objects.counted().filter(earlier, contact_id=purchase.contact_id)
                .exclude(pk=purchase.pk).exists())


def _reward(referrer_id: int, now: dt.datetime) -> Coupon:
    return coupon_create(
        contact=Contact(pk=referrer_id), kind=Coupon.Kind.AMOUNT,
        value=Decimal(settings.CRM_REFERRAL_REWARD_AMOUNT),
        currency=shop().base_currency, purpose=Coupon.Purpose.REFERRAL_REWARD,
        expires_at=now + dt.timedelta(days=settings.CRM_REFERRAL_REWARD_VALID_DAYS))


def referral_apply(purchase: Purchase, referral_code: ReferralCode) -> CodeOutcome:
    """Record the referral this purchase's code stands for and reward the referrer once."""
    if referral_code.contact_id == purchase.contact_id:
        return CodeOutcome.SELF_REFERRAL
    if Referral.objects.filter(referee_id=purchase.contact_id).exists():
        return CodeOutcome.ALREADY_REFERRED
    if purchase.refunded_at is not None or not _is_first_live_purchase(purchase):
        return CodeOutcome.NOT_FIRST_PURCHASE
    try:
        with transaction.atomic():
            referral = Referral.objects.create(referrer_id=referral_code.contact_id,
                                               referee_id=purchase.contact_id, purchase=purchase)
    except IntegrityError:  # referred by a concurrent purchase a moment ago
        return CodeOutcome.ALREADY_REFERRED
    referral.reward = _reward(referral_code.contact_id, timezone.now())
    referral.save(update_fields=["reward"])
    return CodeOutcome.REFERRAL_RECORDED


def referral_reward_withdraw(purchase: Purchase, *, at: dt.datetime) -> int:
    """The referred first purchase was refunded: an unused reward ends now (the referral stays
    on record; a reward already spent stays spent). Returns rewards withdrawn (0 or 1)."""
    rewards = Referral.objects.filter(purchase=purchase, reward__isnull=False).values("reward")
    return Coupon.objects.filter(pk__in=rewards, redeemed_at__isnull=True,
                                 expires_at__gt=at).update(expires_at=at)

"""Coupon and referral codes: issued in bulk for a run, redeemed when a purchase carries one.

Codes look like ``CP-7K4MQ-2XRHD`` (coupons) or ``RF-…`` (referral codes): a prefix and ten
characters from an alphabet without look-alikes (no 0/O, 1/I/L), about 50 bits from the
operating system's random source, so they cannot be guessed and are easy to read out and type.
The unique index on the code is the real guarantee; a collision only makes us draw again.

What a customer types is matched forgivingly: case, spaces and dashes do not matter.

    coupons_issue_for_run(run) -> int          # one coupon per message that may be sent
    purchase_codes_apply(purchase) -> CodeOutcome   # called by customers.services.purchase_record

A code that does not apply (expired, someone else's, used already) is simply not redeemed: the
purchase itself is always recorded; the outcome says why, for the screen that recorded it.
A refund of the purchase that redeemed a coupon does not give the coupon back: it stays
redeemed (single use, as at the till), and the refunded purchase stops counting in uplift.
"""
import datetime as dt
import logging
import re
import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.shop import shop
from customers.models import Contact, Purchase

from .models import Campaign, CampaignRun, Coupon, Message, ReferralCode

logger = logging.getLogger(__name__)

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
COUPON_PREFIX = "CP"
REFERRAL_PREFIX = "RF"
_ATTEMPTS = 5
_CHUNK = 1000
# Messages in these states are never sent, so a coupon for them would only be noise.
_NOT_SENDING = (Message.Status.HELD_OUT, Message.Status.SUPPRESSED, Message.Status.CAPPED)


class CodeOutcome(models.TextChoices):
    NO_CODE = "no_code", _("No code given")
    UNKNOWN = "unknown", _("Not one of our codes")
    REDEEMED = "redeemed", _("Coupon redeemed")
    EXPIRED = "expired", _("Coupon had expired: not redeemed")
    NOT_YOURS = "not_yours", _("Coupon belongs to another contact: not redeemed")
    ALREADY_REDEEMED = "already_redeemed", _("Coupon was used before: not redeemed")
    REFERRAL_RECORDED = "referral_recorded", _("Referral recorded; the referrer is rewarded")
    SELF_REFERRAL = "self_referral", _("Own referral code: not counted")
    ALREADY_REFERRED = "already_referred", _("This contact was referred before: not counted")
    NOT_FIRST_PURCHASE = "not_first_purchase", _("Not the contact's first purchase: not counted")
    ERROR = "error", _("The code could not be checked; the purchase is recorded")


# --- Codes ----------------------------------------------------------------------------------

def code_generate(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{prefix}-{body[:5]}-{body[5:]}"


def code_normalise(text: str) -> str | None:
    """The stored form of a typed code (" cp 7k4mq-2xrhd " -> "CP-7K4MQ-2XRHD"), or None."""
    compact = re.sub(r"[^0-9A-Z]", "", (text or "").upper())
    for prefix in (COUPON_PREFIX, REFERRAL_PREFIX):
        body = compact[len(prefix):]
        if compact.startswith(prefix) and len(body) == CODE_LENGTH:
            return f"{prefix}-{body[:5]}-{body[5:]}"
    return None


# --- Issuing --------------------------------------------------------------------------------

def coupon_terms(campaign: Campaign) -> tuple[str, Decimal, str]:
    value = campaign.coupon_value
    if value is None or value <= 0 or (campaign.coupon_kind == Campaign.CouponKind.PERCENT
                                       and value > 100):
        raise ValidationError({"coupon_value": ValidationError(
            _("Enter a coupon value above 0 (at most 100 for a percentage)."),
            code="invalid_coupon_value")})
    is_amount = campaign.coupon_kind == Campaign.CouponKind.AMOUNT
    currency = shop().base_currency if is_amount else ""
    return campaign.coupon_kind, value, currency


def _bulk_create_with_retry(coupons: list[Coupon]) -> list[Coupon]:
    """Insert with fresh codes; on a (vanishingly rare) code collision draw them all again."""
    for attempt in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                return Coupon.objects.bulk_create(coupons)
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
            for coupon in coupons:
                coupon.code = code_generate(COUPON_PREFIX)
    return []  # unreachable


def coupon_create(*, contact: Contact, kind: str, value: Decimal, currency: str,
                  expires_at: dt.datetime, purpose: str = Coupon.Purpose.CAMPAIGN,
                  campaign: Campaign | None = None) -> Coupon:
    """One coupon with a fresh unique code."""
    coupon = Coupon(code=code_generate(COUPON_PREFIX), contact=contact, campaign=campaign,
                    purpose=purpose, kind=kind, value=value, currency=currency,
                    expires_at=expires_at)
    return _bulk_create_with_retry([coupon])[0]


def coupons_issue_for_run(run: CampaignRun, *, now: dt.datetime | None = None) -> int:
    """Give every message of the run that may be sent its own coupon; return how many were new.

    Idempotent: messages that have a coupon keep it, so a retried build issues nothing twice.
    Held-out, suppressed and capped messages get none. Campaigns without a coupon kind: 0.
    """
    campaign = run.campaign
    if not campaign.coupon_kind:
        return 0
    kind, value, currency = coupon_terms(campaign)
    expires_at = (now or timezone.now()) + dt.timedelta(days=campaign.coupon_valid_days)
    issued = 0
    with transaction.atomic():
        # One issuer per run at a time, so two calls cannot both fill the same messages.
        CampaignRun.objects.select_for_update().filter(pk=run.pk).values_list("pk").first()
        pending = (Message.objects.filter(run=run, coupon__isnull=True)
                   .exclude(status__in=_NOT_SENDING).order_by("pk")
                   .values_list("contact_id", flat=True))
        contact_ids = list(pending)
        for start in range(0, len(contact_ids), _CHUNK):
            chunk = contact_ids[start:start + _CHUNK]
            created = _bulk_create_with_retry([
                Coupon(code=code_generate(COUPON_PREFIX), contact_id=contact_id,
                       campaign=campaign, purpose=Coupon.Purpose.CAMPAIGN, kind=kind,
                       value=value, currency=currency, expires_at=expires_at)
                for contact_id in chunk])
            _link_messages(run, chunk, [coupon.pk for coupon in created])
            issued += len(created)
    return issued


def _link_messages(run: CampaignRun, contact_ids: list[int], coupon_ids: list[int]) -> None:
    """Set each message's coupon in one UPDATE: a run has one message per contact."""
    coupon = Coupon.objects.filter(pk__in=coupon_ids, contact_id=OuterRef("contact_id"))
    Message.objects.filter(run=run, contact_id__in=contact_ids, coupon__isnull=True).update(
        coupon_id=Subquery(coupon.values("pk")[:1]))


# --- Redeeming ------------------------------------------------------------------------------

def _coupon_check(coupon: Coupon, purchase: Purchase) -> CodeOutcome | None:
    if coupon.contact_id != purchase.contact_id:
        return CodeOutcome.NOT_YOURS
    if coupon.redeemed_at is not None:
        return CodeOutcome.ALREADY_REDEEMED
    if coupon.expires_at < purchase.purchased_at:
        return CodeOutcome.EXPIRED
    return None


def coupon_redeem(purchase: Purchase, coupon_id: int) -> CodeOutcome:
    """Mark the coupon used by this purchase, if it is the buyer's, unused and not expired."""
    coupon = Coupon.objects.select_for_update().get(pk=coupon_id)
    problem = _coupon_check(coupon, purchase)
    if problem:
        return problem
    # The purchase's own time: an order imported days later still used the coupon then.
    redeemed = Coupon.objects.filter(pk=coupon.pk, redeemed_at__isnull=True).update(
        redeemed_at=purchase.purchased_at, redeemed_purchase=purchase)
    if redeemed:
        from webhooks.services import coupon_redeemed_emit  # webhooks imports customers

        coupon_redeemed_emit(coupon=coupon, purchase=purchase)
    return CodeOutcome.REDEEMED


def _apply(purchase: Purchase) -> CodeOutcome:
    code = code_normalise(purchase.code)
    if code is None:
        return CodeOutcome.UNKNOWN
    coupon_id = Coupon.objects.filter(code=code).values_list("pk", flat=True).first()
    if coupon_id is not None:
        return coupon_redeem(purchase, coupon_id)
    referral_code = ReferralCode.objects.filter(code=code).first()
    if referral_code is not None:
        from .referrals import referral_apply  # referrals imports this module

        return referral_apply(purchase, referral_code)
    return CodeOutcome.UNKNOWN


def purchase_codes_apply(purchase: Purchase) -> CodeOutcome:
    """Redeem the coupon or record the referral a new purchase's code stands for.

    Called by purchase_record inside its transaction, after the purchase is created. Never
    lets the sale fail: any error here is logged, rolled back to a savepoint and reported as
    ERROR while the purchase stays recorded.
    """
    if not purchase.code.strip():
        return CodeOutcome.NO_CODE  # most purchases: not even a savepoint
    try:
        with transaction.atomic():
            return _apply(purchase)
    except Exception:  # never lose a sale over a code
        logger.exception("Could not apply code %r of purchase %s", purchase.code, purchase.pk)
        return CodeOutcome.ERROR


def purchase_codes_reapply(purchase: Purchase) -> CodeOutcome:
    """A purchase's code was corrected: undo what the old code did for it (a coupon it
    redeemed is free again; a referral it recorded is removed and its unused reward
    withdrawn), then apply the new code as for a new purchase."""
    from .models import Referral
    from .referrals import referral_reward_withdraw  # referrals imports this module

    Coupon.objects.filter(redeemed_purchase=purchase).update(redeemed_at=None,
                                                             redeemed_purchase=None)
    if Referral.objects.filter(purchase=purchase).exists():
        referral_reward_withdraw(purchase, at=timezone.now())
        Referral.objects.filter(purchase=purchase).delete()
    return purchase_codes_apply(purchase)

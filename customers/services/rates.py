"""Currency rates: what a purchase in another currency is worth in the base currency on its
purchase day, recording rates, and converting the purchases that waited for one.

Which rate a purchase takes: the latest rate of its currency on or before its purchase day.
A manual rate holds until a newer rate of its currency is recorded (a manager sets it for
currencies no feed publishes, or to correct one). A central bank's rate holds for
MAX_RATE_AGE_DAYS: the banks publish nothing on weekends and holidays, so Friday's rate is
the right one for Saturday and Sunday, and a Turkish religious holiday (up to four and a half
working days) plus a weekend stays within a week; a gap longer than that is a feed that
stopped, and its purchases wait (provisional) for a fresh rate rather than take an old one.

A purchase with no rate yet is stored with amount_base NULL (provisional): it counts as a
purchase (purchase days, stage, first and last purchase) but its value is left out of money
figures until converted, never guessed. Recording rates converts the waiting purchases of
those currencies, set-based, and recomputes their contacts' figures (customers.stats); a new
or corrected rate also re-converts the purchases it now applies to (a mistyped manual rate,
a bank's re-published day, a back-filled earlier day).
"""
import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from django.db import transaction
from django.db.models import DecimalField, F, QuerySet, Value
from django.db.models.functions import Round

from ..models import Contact, CurrencyRate, Purchase, PurchaseLine
from ..stats import contacts_refresh_stats

MAX_RATE_AGE_DAYS = 7

_MISSING = object()


class RateBook:
    """The rates of the currencies asked about, each loaded with one query the first time it
    is asked for, then answered from memory per (currency, day): an import of a million rows
    asks the database once per currency in the file."""

    def __init__(self) -> None:
        self._rates: dict[str, tuple[list[dt.date], list[tuple[Decimal, bool]]]] = {}
        self._answers: dict[tuple[str, dt.date], Decimal | None] = {}

    def rate_on(self, currency: str, day: dt.date) -> Decimal | None:
        """Base-currency units per one unit of `currency` on `day`, or None (not known)."""
        key = (currency, day)
        answer = self._answers.get(key, _MISSING)
        if answer is _MISSING:
            answer = self._answers[key] = self._find(currency, day)
        return answer  # type: ignore[return-value]

    def _find(self, currency: str, day: dt.date) -> Decimal | None:
        days, rates = self._load(currency)
        at = bisect_right(days, day) - 1
        if at < 0:
            return None
        rate, manual = rates[at]
        if not manual and (day - days[at]).days > MAX_RATE_AGE_DAYS:
            return None
        return rate

    def _load(self, currency: str) -> tuple[list[dt.date], list[tuple[Decimal, bool]]]:
        loaded = self._rates.get(currency)
        if loaded is None:
            rows = list(CurrencyRate.objects.filter(currency=currency).order_by("day")
                        .values_list("day", "rate", "source"))
            loaded = self._rates[currency] = (
                [day for day, _rate, _source in rows],
                [(rate, source == CurrencyRate.Source.MANUAL) for _day, rate, source in rows])
        return loaded


def rate_on(currency: str, day: dt.date) -> Decimal | None:
    """The rate a purchase of `currency` made on `day` is converted at, or None."""
    return RateBook().rate_on(currency, day)


class RateRecorded(NamedTuple):
    converted: int  # purchases that waited for a rate
    reconverted: int  # purchases whose base amount the new or corrected rate changed


def rate_record(*, rate: CurrencyRate) -> RateRecorded:
    """Save one rate (the admin's manual rates, a new one or a correction), re-convert the
    purchases it now applies to and convert the purchases waiting for it."""
    with transaction.atomic():
        rate.save()
        reconverted = purchases_reconvert(rate.currency, rate.day)
        return RateRecorded(purchases_convert_waiting([rate.currency]), reconverted)


def rates_save(rates: dict[str, Decimal], *, day: dt.date, source: str) -> tuple[int, int]:
    """One day's rates from one source, all or none; a re-run writes the same rows again.
    A feed never overwrites a manager's rate of the same day. Then the waiting purchases of
    these currencies are converted. Returns (rates saved, purchases converted)."""
    with transaction.atomic():
        manual = set()
        if source != CurrencyRate.Source.MANUAL:
            manual = set(CurrencyRate.objects.filter(
                day=day, currency__in=list(rates), source=CurrencyRate.Source.MANUAL)
                .values_list("currency", flat=True))
        saved = 0
        for currency, rate in sorted(rates.items()):
            if currency in manual:
                continue
            CurrencyRate.objects.update_or_create(
                currency=currency, day=day, defaults={"rate": rate, "source": source})
            saved += 1
            purchases_reconvert(currency, day)  # a re-published or back-filled day
        converted = purchases_convert_waiting(rates)
    return saved, converted


def purchases_convert_waiting(currencies: Iterable[str] | None = None) -> int:
    """Give the provisional purchases (of these currencies) whose rate is now known their
    base amount, one UPDATE per (currency, purchase day), and recompute their contacts'
    figures. Returns how many purchases were converted."""
    from .purchases import refresh_scores_after_commit

    waiting = Purchase.objects.filter(amount_base__isnull=True)
    if currencies is not None:
        waiting = waiting.filter(currency__in=sorted(set(currencies)))
    groups = list(waiting.order_by().values_list("currency", "purchased_on").distinct())
    if not groups:
        return 0
    book = RateBook()
    known = [(currency, day, rate) for currency, day in sorted(groups)
             if (rate := book.rate_on(currency, day)) is not None]
    if not known:
        return 0
    converted = 0
    with transaction.atomic():
        # Lock the contacts first, in id order, as every purchase writer does (a few more
        # than needed at most: those with another waiting purchase of these currencies).
        contact_ids = sorted(set(waiting.filter(
            currency__in={currency for currency, _day, _rate in known},
            purchased_on__in={day for _currency, day, _rate in known},
        ).values_list("contact_id", flat=True)))
        _lock_contacts(contact_ids)
        for currency, day, rate in known:
            day_waiting = Purchase.objects.filter(
                amount_base__isnull=True, currency=currency, purchased_on=day)
            _lines_in_base(day_waiting, rate)  # before the purchases stop waiting
            converted += day_waiting.update(**_in_base(rate))
        contacts_refresh_stats(contact_ids)
        refresh_scores_after_commit(contact_ids)
    return converted


def purchases_reconvert(currency: str, day: dt.date) -> int:
    """After the rate of `currency` on `day` is recorded or corrected: give every converted
    purchase that now takes a different rate (those from `day` until the currency's next
    recorded rate) its new base amount, one UPDATE per purchase day, and recompute their
    contacts' figures. Returns how many purchases changed."""
    from .purchases import refresh_scores_after_commit

    affected = Purchase.objects.filter(currency=currency, purchased_on__gte=day,
                                       amount_base__isnull=False)
    next_day = (CurrencyRate.objects.filter(currency=currency, day__gt=day).order_by("day")
                .values_list("day", flat=True).first())
    if next_day is not None:
        affected = affected.filter(purchased_on__lt=next_day)
    days = sorted(affected.order_by().values_list("purchased_on", flat=True).distinct())
    if not days:
        return 0
    book = RateBook()
    changed = 0
    with transaction.atomic():
        contact_ids = sorted(set(affected.values_list("contact_id", flat=True)))
        _lock_contacts(contact_ids)
        for purchase_day in days:
            rate = book.rate_on(currency, purchase_day)
            if rate is None:  # a feed's rate too old for that day: it was never applied there
                continue
            converted = _in_base(rate)
            day_changed = affected.filter(purchased_on=purchase_day).exclude(
                amount_base=converted["amount_base"])
            _lines_in_base(day_changed, rate)
            changed += day_changed.update(**converted)
        if changed:
            contacts_refresh_stats(contact_ids)
            refresh_scores_after_commit(contact_ids)
    return changed


def _lock_contacts(contact_ids: list[int]) -> None:
    """Lock the contacts in id order, as every purchase writer does (no deadlocks)."""
    list(Contact.objects.select_for_update().filter(pk__in=contact_ids)
         .order_by("pk").values_list("pk"))


def _in_base(rate: Decimal) -> dict:
    """The UPDATE's base-currency amounts of a purchase at `rate`."""
    at_rate = Value(rate, output_field=DecimalField(max_digits=24, decimal_places=12))
    return {"amount_base": Round(F("amount") * at_rate, 3),
            "refunded_amount_base": Round(F("refunded_amount") * at_rate, 3)}


def _lines_in_base(purchases: QuerySet[Purchase], rate: Decimal) -> int:
    """The base-currency totals of these purchases' lines at `rate` (customers.models.
    PurchaseLine), rounded as the purchases are."""
    at_rate = Value(rate, output_field=DecimalField(max_digits=24, decimal_places=12))
    return PurchaseLine.objects.filter(purchase__in=purchases.values("pk")).update(
        total_base=Round(F("total") * at_rate, 3))


def has_provisional(contact: Contact) -> bool:
    """Whether some of the contact's counted purchases still wait for an exchange rate (its
    money figures leave them out meanwhile)."""
    return Purchase.objects.counted().filter(contact=contact, amount_base__isnull=True).exists()


def contacts_with_provisional(contact_ids: Iterable[int]) -> set[int]:
    """Which of these contacts have counted purchases still waiting for an exchange rate: one
    query for a page of a list (the list marks their totals provisional)."""
    return set(Purchase.objects.counted().filter(
        contact_id__in=list(contact_ids), amount_base__isnull=True,
    ).order_by().values_list("contact_id", flat=True).distinct())

"""One row of a purchases file checked and turned into the values staged for the merge
(a StagedRow), or into the list of everything wrong with it
(customers.imports.purchases)."""
import datetime as dt
import hashlib
import re
from decimal import Decimal
from operator import itemgetter
from typing import NamedTuple

from babel.numbers import get_currency_precision
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from ..channels import channel_label_clean, channel_mapping
from ..models import Channel, Contact, Purchase
from ..money import (
    MAX_AMOUNT, base_currency, normalise_currency, parse_amount, to_base, validate_amount,
)
from ..normalise import (
    DAY_FIRST, EARLIEST_PURCHASE, channel_key, normalise_email, parse_purchase_time, shop_timezone,
    validate_purchase_time,
)
from ..services.rates import RateBook
from .dates import DateOrder
from .reading import from_decimal_comma

REQUIRED_COLUMNS = ("email", "purchased_at", "amount", "currency")
OPTIONAL_COLUMNS = ("external_id", "first_name", "last_name", "channel", "quantity", "code")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
DERIVED_ID_PREFIX = "row:"

_MAX_QUANTITY = 2**31 - 1
# Addresses of this common shape always pass Django's validate_email; others take the full check.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_TEXT_LIMITS = {
    "email": Contact._meta.get_field("email").max_length,
    "external_id": Purchase._meta.get_field("external_id").max_length,
    "first_name": Contact._meta.get_field("first_name").max_length,
    "last_name": Contact._meta.get_field("last_name").max_length,
    "code": Purchase._meta.get_field("code").max_length,
}
_SHORTEST_TEXT_LIMIT = min(_TEXT_LIMITS.values())


class StagedRow(NamedTuple):
    """A valid row as it is staged for the merge: the columns of the staging table, in its
    order (customers.imports.purchase_staging), as the texts and numbers the database takes."""

    line: int  # the line the row starts on: the first one wins among duplicates
    email: str  # normalised
    first_name: str
    last_name: str
    external_id: str  # as given, or derived from the row (DERIVED_ID_PREFIX + a hash)
    derived: int  # 1 if external_id was derived, else 0 (a smallint column)
    purchased_at: str  # the UTC instant: "2024-05-31 11:30:00+00:00" (naive on SQLite)
    purchased_on: str  # the shop-local day, ISO
    amount: str  # a plain decimal, as format(amount, "f")
    currency: str
    amount_base: str | None  # in the base currency; None: provisional, no rate yet
    quantity: int
    channel: str  # the reporting channel
    channel_label: str  # the shop's own label, as written (trimmed)
    code: str


# A NamedTuple, not a dataclass: the rows go straight into COPY / executemany as tuples, and
# building a frozen dataclass per row (14 object.__setattr__ calls, about 5 µs) cost 10-40% more
# Python CPU for a whole import (bench/bench_import.py, 100,000 rows); StagedRow._make is
# tuple.__new__ (about 0.4 µs a row).
_staged_row = StagedRow._make


# --- Checking rows --------------------------------------------------------------------------

class RowChecker:
    """Turns one row's texts into staged values, or into the list of everything wrong with it.

    This runs a million times per big file, so the common shapes take cheap paths; anything
    else goes through the shared validators (customers.normalise, customers.money), which also
    word the errors.
    """

    def __init__(self, columns: list[str], *, aware_times: bool, decimal_comma: bool = False,
                 dates: DateOrder | None = None):
        self.width = len(columns)
        self.dates = dates or DateOrder(DAY_FIRST)  # how 05.12.2026 reads (imports.dates)
        self.decimal_comma = decimal_comma
        self.email_at = columns.index("email")
        # Absent optional columns read the "" appended to every row at index `width`.
        self.fields = itemgetter(*(columns.index(name) if name in columns else self.width
                                   for name in COLUMNS))
        now = timezone.now()
        self.now = now
        self.latest = now + dt.timedelta(hours=settings.CRM_FUTURE_TOLERANCE_HOURS)
        self.rates = RateBook()  # one query per currency in the file, then from memory
        self.shop_zone = shop_timezone()
        self.aware = aware_times  # PostgreSQL takes "+00:00"; SQLite stores naive UTC text
        # The label mapping, loaded once per file (customers.channels); texts seen, cached.
        self.channel_mapping = channel_mapping()
        self._channels: dict[str, tuple[str, str] | list[str]] = {}
        self.unmapped: set[str] = set()  # labels that counted as "other" for want of a mapping
        self.base = base_currency()
        self._currencies: dict[str, str | list[str]] = {}
        self._plain_amounts: dict[str, re.Pattern] = {}

    def email_text(self, values: list[str]) -> str:
        return values[self.email_at] if self.email_at < len(values) else ""

    def check(self, line: int, values: list[str]) -> StagedRow | list[str]:
        reasons: list[str] = []
        if len(values) != self.width:
            reasons.append(_("The row has %(found)d fields; the header has %(expected)d.")
                           % {"found": len(values), "expected": self.width})
            values = (values + [""] * self.width)[:self.width]
        (email_text, when_text, amount_text, currency_text, external_id, first_name,
         last_name, channel, quantity, code) = self.fields(values + [""])
        email = self._email(email_text, reasons)
        times = self._time(when_text, reasons)
        money = self._money(amount_text, currency_text, reasons)
        label_channel = self._channels.get(channel)
        if label_channel is None:
            label_channel = self._channel(channel)
        if label_channel.__class__ is list:
            reasons.extend(label_channel)
        quantity = self._quantity(quantity, reasons) if quantity else 1
        texts = (external_id.strip(), first_name.strip(), last_name.strip(), code.strip())
        if max(map(len, texts)) > _SHORTEST_TEXT_LIMIT or "\x00" in "".join(texts):
            self._check_texts(texts, reasons)
        if reasons:
            return reasons
        amount, currency, amount_base = money
        external_id, first_name, last_name, code = texts
        channel_label, channel = label_channel
        when, moment = times
        # The shop-local day, as customers.normalise.shop_day computes it.
        day = (when if when.tzinfo is self.shop_zone else when.astimezone(self.shop_zone)).date()
        if amount_base is None:  # another currency: its rate on the purchase day, if known
            amount_base = to_base(amount, self.rates.rate_on(currency, day))
        instant = moment.isoformat(" ")  # "2024-05-31 11:30:00+00:00"
        derived = not external_id
        if derived:
            external_id = _derived_id(email, instant, amount, currency)
        return _staged_row((
            line, email, first_name, last_name, external_id, int(derived),
            instant if self.aware else instant[:-6], day.isoformat(), format(amount, "f"), currency,
            None if amount_base is None else format(amount_base, "f"), quantity, channel,
            channel_label, code,
        ))

    def _email(self, text: str, reasons: list[str]) -> str | None:
        email = text.strip().lower()
        if not _PLAIN_EMAIL.fullmatch(email):
            try:
                email = normalise_email(text)
            except ValidationError as error:
                reasons.extend(error.messages)
                return None
        if len(email) > _TEXT_LIMITS["email"]:
            reasons.append(_("Email is longer than %(limit)d characters.")
                           % {"limit": _TEXT_LIMITS["email"]})
            return None
        return email

    def _time(self, text: str, reasons: list[str]) -> tuple[dt.datetime, dt.datetime] | None:
        """The moment in UTC (bounds checked there: comparing one zone is cheapest)."""
        try:
            when = parse_purchase_time(text, date_order=self.dates.order)
            moment = when.astimezone(dt.timezone.utc)
            if not EARLIEST_PURCHASE <= moment <= self.latest:
                validate_purchase_time(when, now=self.now)
        except ValidationError as error:
            reasons.extend(error.messages)
            return None
        return when, moment

    def _money(self, amount_text: str, currency_text: str, reasons: list[str]):
        """(amount, currency, amount in base currency or None: another currency, converted
        once the purchase day is known) as Decimals, or None."""
        currency = self._currency(currency_text, reasons)
        if self.decimal_comma:
            amount_text = from_decimal_comma(amount_text, reasons)
            if amount_text is None:
                return None
        plain = self._plain_amounts.get(currency)
        if plain is not None and plain.fullmatch(amount_text):
            amount = Decimal(amount_text)
        else:
            try:
                amount = parse_amount(amount_text)
                if currency is None:
                    return None
                amount = validate_amount(amount, currency)
            except ValidationError as error:
                reasons.extend(error.messages)
                return None
        if currency == self.base:
            return amount, currency, amount
        return amount, currency, None

    def _plain_amount(self, currency: str) -> re.Pattern:
        """Digits with at most the currency's decimals, below MAX_AMOUNT: always valid."""
        places = get_currency_precision(currency)
        digits = len(str(int(MAX_AMOUNT))) - 1  # one digit fewer: surely below the maximum
        # [0-9], not \d: \d and Decimal() also read other scripts' digits ("١٢" as 12).
        decimals = rf"(?:\.[0-9]{{1,{places}}})?" if places else ""
        return re.compile(rf"[0-9]{{1,{digits}}}{decimals}")

    def _currency(self, text: str, reasons: list[str]) -> str | None:
        known = self._currencies.get(text)
        if known is None:
            try:
                known = normalise_currency(text)
                if known not in self._plain_amounts:
                    self._plain_amounts[known] = self._plain_amount(known)
            except ValidationError as error:
                known = error.messages
            if len(self._currencies) < 1000:  # garbage must not grow the cache without end
                self._currencies[text] = known
        if isinstance(known, list):
            reasons.extend(known)
            return None
        return known

    def _channel(self, text: str) -> tuple[str, str] | list[str]:
        """(label, reporting channel), or the reasons: only a label too long is refused; an
        unknown one counts as "other" (and is listed for managers to map)."""
        try:
            label = channel_label_clean(text)
        except ValidationError as error:
            known: tuple[str, str] | list[str] = error.messages
        else:
            channel = Channel.ONLINE.value
            if label:
                channel = self.channel_mapping.get(channel_key(label), Channel.OTHER.value)
                if channel_key(label) not in self.channel_mapping:
                    self.unmapped.add(label)
            known = (label, channel)
        if len(self._channels) < 1000:  # garbage must not grow the cache without end
            self._channels[text] = known
        return known

    def _quantity(self, text: str, reasons: list[str]) -> int:
        cleaned = text.strip()
        if not cleaned:
            return 1
        if cleaned.isascii() and cleaned.isdigit() and 1 <= int(cleaned) <= _MAX_QUANTITY:
            return int(cleaned)
        reasons.append(_("Quantity %(value)s is not a whole number of at least 1.")
                       % {"value": cleaned[:20]})
        return 1

    def _check_texts(self, texts: tuple[str, ...], reasons: list[str]) -> None:
        for name, text in zip(("external_id", "first_name", "last_name", "code"), texts):
            if len(text) > _TEXT_LIMITS[name]:
                reasons.append(_("%(column)s is longer than %(limit)d characters.")
                               % {"column": name, "limit": _TEXT_LIMITS[name]})
            if "\x00" in text:
                reasons.append(_("%(column)s contains a NUL character.") % {"column": name})



def _derived_id(email: str, instant: str, amount: Decimal, currency: str) -> str:
    """Same order, same id: the UTC instant and a normalised amount ignore formatting."""
    key = f"{email}|{instant}|{format(amount.normalize(), 'f')}|{currency}"
    return DERIVED_ID_PREFIX + hashlib.sha1(key.encode()).hexdigest()

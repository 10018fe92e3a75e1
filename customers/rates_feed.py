"""The daily exchange rates from a central bank's published feed (task customers.fetch_rates).

The feed follows the shop's base currency (CRM_BASE_CURRENCY):
- TRY: the Central Bank of the Republic of Türkiye's today.xml, TRY per `Unit` units of each
  currency (JPY per 100), its ForexSelling column (the rate invoices are usually made at);
- EUR: the European Central Bank's eurofxref-daily.xml, units of each currency per EUR;
- any other base the ECB publishes: the ECB's rates crossed through the euro.
Rates are saved for the feed's own date (a weekend or holiday run saves the last business
day's rates again: idempotent), all of them or none; a malformed or empty feed or a network
error saves nothing, keeps the old rates, logs one line and leaves a failed RateFetch row,
which the currency-rates admin page shows.
"""
import datetime as dt
import logging
import xml.etree.ElementTree as ET  # the two banks' own feeds, over HTTPS; no entities
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import requests
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import CurrencyRate, RateFetch
from .money import base_currency, known_currency
from .normalise import shop_timezone
from .services.rates import rates_save

logger = logging.getLogger(__name__)

TCMB_URL = "https://www.tcmb.gov.tr/kurlar/today.xml"
ECB_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
TIMEOUT_SECONDS = 30
# Stored rates keep 12 decimal places: 1 / 17,000 IDR per EUR still has 8 significant digits.
_RATE_PLACES = Decimal("1e-12")
_ECB_NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"


class FeedError(Exception):
    """The feed could not be read or said nothing usable; the message says why."""


@dataclass(frozen=True)
class FeedRates:
    source: str  # CurrencyRate.Source
    day: dt.date  # the feed's own date
    rates: dict[str, Decimal]  # base-currency units per one unit of each currency


def _xml(content: bytes) -> ET.Element:
    if not content or not content.strip():
        raise FeedError(_("The feed is empty."))
    try:
        return ET.fromstring(content)
    except ET.ParseError as error:
        raise FeedError(_("The feed is not well-formed XML (%(error)s).")
                        % {"error": error}) from None


def _positive(text: str | None) -> Decimal | None:
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def parse_tcmb(content: bytes) -> tuple[dt.date, dict[str, Decimal]]:
    """today.xml: its date and TRY per one unit of each currency (ForexSelling / Unit)."""
    root = _xml(content)
    try:
        day = dt.datetime.strptime(root.get("Tarih", ""), "%d.%m.%Y").date()
    except ValueError:
        raise FeedError(_("The TCMB feed has no date (Tarih_Date Tarih=\"dd.mm.yyyy\").")) from None
    rates = {}
    for currency in root.iter("Currency"):
        code = (currency.get("CurrencyCode") or currency.get("Kod") or "").strip().upper()
        unit = _positive(currency.findtext("Unit"))
        selling = _positive(currency.findtext("ForexSelling"))
        # Rows without a forex selling rate (the IMF's SDR) or with a code outside ISO 4217
        # are not rates a purchase can be in.
        if unit is None or selling is None or not known_currency(code) or code == "TRY":
            continue
        rates[code] = (selling / unit).quantize(_RATE_PLACES)
    if not rates:
        raise FeedError(_("The TCMB feed of %(day)s has no rates.") % {"day": day})
    return day, rates


def parse_ecb(content: bytes) -> tuple[dt.date, dict[str, Decimal]]:
    """eurofxref-daily.xml: its date and units of each currency per one EUR."""
    root = _xml(content)
    dated = next((cube for cube in root.iter(f"{_ECB_NS}Cube") if cube.get("time")), None)
    if dated is None:
        raise FeedError(_("The ECB feed has no date (Cube time=\"yyyy-mm-dd\")."))
    try:
        day = dt.date.fromisoformat(dated.get("time", ""))
    except ValueError:
        raise FeedError(_("The ECB feed has no date (Cube time=\"yyyy-mm-dd\").")) from None
    rates = {}
    for cube in dated.iter(f"{_ECB_NS}Cube"):
        code = (cube.get("currency") or "").strip().upper()
        rate = _positive(cube.get("rate"))
        if rate is not None and known_currency(code):
            rates[code] = rate
    if not rates:
        raise FeedError(_("The ECB feed of %(day)s has no rates.") % {"day": day})
    return day, rates


def feed_for(base: str) -> str:
    return CurrencyRate.Source.TCMB if base == "TRY" else CurrencyRate.Source.ECB


def fetch(url: str) -> bytes:
    """The feed's bytes: the one place the network is used (tests patch it)."""
    try:
        response = requests.get(url, timeout=TIMEOUT_SECONDS,
                                headers={"User-Agent": "crm-exchange-rates"})
        response.raise_for_status()
    except requests.RequestException as error:
        raise FeedError(_("The feed could not be fetched from %(url)s (%(error)s).")
                        % {"url": url, "error": error}) from None
    return response.content


def feed_rates(base: str | None = None) -> FeedRates:
    """Fetch and read the feed for the base currency: base units per one unit of each."""
    base = base or base_currency()
    if feed_for(base) == CurrencyRate.Source.TCMB:
        day, rates = parse_tcmb(fetch(TCMB_URL))
        return FeedRates(CurrencyRate.Source.TCMB, day, rates)
    day, per_euro = parse_ecb(fetch(ECB_URL))
    if base == "EUR":
        rates = {code: (1 / rate).quantize(_RATE_PLACES) for code, rate in per_euro.items()}
    elif base in per_euro:  # crossed through the euro: X per EUR / base per EUR
        base_per_euro = per_euro[base]
        rates = {code: (base_per_euro / rate).quantize(_RATE_PLACES)
                 for code, rate in per_euro.items() if code != base}
        rates["EUR"] = base_per_euro
    else:
        raise FeedError(_("The ECB publishes no rate for the base currency %(base)s: enter "
                          "rates by hand under Currency rates.") % {"base": base})
    return FeedRates(CurrencyRate.Source.ECB, day, rates)


def fetch_and_save_rates(*, today: dt.date | None = None) -> RateFetch:
    """The daily job: fetch, save all or nothing, record how it went. Never raises for a bad
    feed: the RateFetch row and the log line say what happened."""
    today = today or timezone.now().astimezone(shop_timezone()).date()
    source = feed_for(base_currency())
    try:
        feed = feed_rates()
        saved, converted = rates_save(feed.rates, day=feed.day, source=feed.source)
    except FeedError as error:
        logger.warning("Exchange rates (%s): nothing saved, previous rates kept: %s",
                       source, error)
        return RateFetch.objects.create(feed=source, outcome=RateFetch.Outcome.FAILED,
                                        message=str(error))
    age = (today - feed.day).days
    outcome, message = RateFetch.Outcome.SAVED, ""
    if age > 0:
        outcome = RateFetch.Outcome.LATE
        message = _("The feed's latest rates are of %(day)s, %(days)d day(s) old: a weekend "
                    "or holiday, or the feed is late.") % {"day": feed.day, "days": age}
        logger.warning("Exchange rates (%s): the feed's rates are of %s, %d day(s) old",
                       source, feed.day, age)
    logger.info("Exchange rates (%s) of %s: %d saved, %d waiting purchases converted",
                source, feed.day, saved, converted)
    return RateFetch.objects.create(
        feed=source, outcome=outcome, feed_day=feed.day, rates_saved=saved,
        purchases_converted=converted, message=message)

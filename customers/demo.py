"""Demo data: the public CDNOW purchase histories moved to end near today (cdnow_rows), and
the living shop that `make run` loads (demo_shop, below).

CDNOW (Fader & Hardie) holds every purchase of 23,570 customers of an online CD shop who first
bought in the first quarter of 1997, up to June 1998. It ships inside the `lifetimes` package
(a development and demo dependency, never a production one). We read the file with
importlib.resources rather than lifetimes' own loader, which breaks on current setuptools. Names are generated (Faker, fixed seed), emails are on the reserved example.com domain.
"""
import datetime as dt
import hashlib
import math
import random
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

import phonenumbers
from faker import Faker

from .money import base_currency
from .normalise import shop_timezone

CDNOW_PACKAGE = "lifetimes.datasets"
CDNOW_FILE = "CDNOW_master.txt"
CDNOW_LAST_DAY = dt.date(1998, 6, 30)
DEMO_SOURCE = "demo"
_TRANSLITERATE = str.maketrans({"ı": "i", "İ": "i", "ş": "s", "Ş": "s", "ğ": "g", "Ğ": "g"})


def _ascii_slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    return "".join(ch for ch in text.encode("ascii", "ignore").decode().lower() if ch.isalnum())


def _time_of_day(key: str) -> dt.time:
    """A stable shop-hours time (09:00-20:59) so days and re-runs stay the same."""
    minutes = int(hashlib.blake2s(key.encode(), digest_size=4).hexdigest(), 16) % (12 * 60)
    return dt.time(9 + minutes // 60, minutes % 60)


def cdnow_rows(*, today: dt.date | None = None, seed: int = 1997) -> Iterator[dict[str, str]]:
    """Rows in the import's column format, one per CDNOW purchase line, dates shifted."""
    shift = ((today or dt.date.today()) - dt.timedelta(days=1)) - CDNOW_LAST_DAY
    fake = Faker(["en_US", "en_GB", "tr_TR", "de_DE"])
    fake.seed_instance(seed)
    names: dict[str, tuple[str, str]] = {}
    tz = shop_timezone()
    with warnings.catch_warnings():
        # lifetimes 0.11.3 sets a pandas option that pandas 3 deprecates, when it is imported.
        warnings.simplefilter("ignore")
        text = resources.files(CDNOW_PACKAGE).joinpath(CDNOW_FILE).read_text(encoding="ascii")
    for line_number, line in enumerate(text.splitlines()[1:], start=2):
        customer_id, day, cds, dollars = line.split()
        if customer_id not in names:
            names[customer_id] = (fake.first_name(), fake.last_name())
        first, last = names[customer_id]
        purchased_on = dt.datetime.strptime(day, "%Y%m%d").date() + shift
        key = f"{customer_id}-{line_number}"
        purchased_at = dt.datetime.combine(purchased_on, _time_of_day(key), tzinfo=tz)
        yield {
            "email": f"{_ascii_slug(first)}.{_ascii_slug(last)}.{int(customer_id)}@example.com",
            "first_name": first,
            "last_name": last,
            "purchased_at": purchased_at.isoformat(),
            "amount": dollars,
            "currency": "USD",
            "quantity": cds,
            "channel": "online",
            "external_id": f"cdnow-{key}",
        }


# --- The living shop: a synthetic history up to yesterday (`make demo`) ----------------------
#
# CDNOW's customers all first bought in one quarter, so a shifted CDNOW has no new buyers in
# its last year: the call list's one-time-buyer column, the conversion chart and first-order
# revenue stay empty. The shop below is generated instead, deterministic for a seed and a day:
# every week of the last DEMO_WEEKS weeks brings new first-time buyers; whether one comes back
# depends on channel, first-order value, items and coupon (so the covariate model has signal),
# and those who come back buy again at their own pace until they stop (the BG/NBD story), so
# some repeat clients are slipping. Half Turkish, half English-speaking (names, language,
# city, phone), all addresses on the reserved example.com domain.

DEMO_WEEKS = 130  # two and a half years of weekly cohorts
DEMO_NEW_PER_WEEK = 40  # new first-time buyers a week (about 5,200 contacts, 13,000 purchases)
DEMO_SEED = 2026
WELCOME_CODES = {"tr": "HOSGELDIN10", "en": "WELCOME10"}
REPEAT_CODES = {"tr": "TESEKKURLER", "en": "THANKYOU"}
# Channel: (share of new buyers, effect on the log-odds of coming back).
_CHANNELS = {"online": (0.50, 0.0), "store": (0.20, 0.7), "marketplace": (0.20, -1.0),
             "phone": (0.10, 0.4)}
_CITIES = {
    "tr": ["İstanbul", "Ankara", "İzmir", "Bursa", "Antalya", "Eskişehir", "Trabzon", "Konya"],
    "en": ["London", "Manchester", "Leeds", "Bristol", "Edinburgh", "Berlin", "Dublin"],
}
_FAKER_LOCALES = {"tr": "tr_TR", "en": "en_GB"}


@dataclass(frozen=True)
class DemoContact:
    email: str
    first_name: str
    last_name: str
    language: str  # "tr" or "en"
    city: str
    phone: str  # E.164, "" for about one in seven
    consent: str  # "yes", "no" or "" (never asked)
    channel: str


@dataclass(frozen=True)
class DemoShop:
    contacts: list[DemoContact]
    purchases: list[dict[str, str]]  # rows in the purchase import's column format
    refunds: list[str]  # external ids of purchases refunded later


def _phone(rng: random.Random, language: str) -> str:
    """A valid mobile number: Turkish (+90 5xx), British (+44 7xxx) or German (+49 15x)."""
    while True:
        if language == "tr":
            text = f"+905{rng.choice([30, 32, 33, 35, 36, 38, 42, 44, 46, 52, 54]):02d}" \
                   f"{rng.randrange(10**7):07d}"
        elif rng.random() < 0.8:
            text = f"+447{rng.choice([4, 5, 7, 8, 9])}{rng.randrange(10**8):08d}"
        else:
            text = f"+4915{rng.choice([1, 2, 7])}{rng.randrange(10**8):08d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(text)):
            return text


def _comes_back(rng: random.Random, channel: str, value: float, items: int,
                coupon: bool) -> bool:
    """Whether a new buyer ever buys again: more likely from a store, with a bigger first
    order and more items; less from a marketplace or when a welcome coupon brought them."""
    logit = (-0.55 + _CHANNELS[channel][1] + 1.1 * math.log(value / 60) + 0.25 * (items - 1)
             - 1.0 * coupon)
    return rng.random() < 1 / (1 + math.exp(-logit))


def _pick_channel(rng: random.Random) -> str:
    point, total = rng.random(), 0.0
    for channel, (share, _effect) in _CHANNELS.items():
        total += share
        if point < total:
            return channel
    return "online"


def demo_shop(*, today: dt.date | None = None, seed: int = DEMO_SEED,
              new_per_week: int = DEMO_NEW_PER_WEEK, weeks: int = DEMO_WEEKS) -> DemoShop:
    """The demo shop's history up to yesterday, the same for the same seed, size and day."""
    today = today or dt.date.today()
    last_day = today - dt.timedelta(days=1)
    start = last_day - dt.timedelta(weeks=weeks) + dt.timedelta(days=1)
    rng = random.Random(seed)
    fakers = {lang: Faker(locale) for lang, locale in _FAKER_LOCALES.items()}
    for offset, faker in enumerate(fakers.values()):
        faker.seed_instance(seed + offset)
    tz = shop_timezone()
    contacts: list[DemoContact] = []
    purchases: list[dict[str, str]] = []
    refunds: list[str] = []
    number = 0
    for week in range(weeks):
        # A growing shop with a December peak.
        week_start = start + dt.timedelta(weeks=week)
        season = 1.35 if week_start.month == 12 else 1.0
        count = max(1, round(new_per_week * (0.75 + 0.5 * week / weeks) * season
                             * rng.uniform(0.85, 1.15)))
        for _index in range(count):
            number += 1
            language = "tr" if rng.random() < 0.55 else "en"
            faker = fakers[language]
            first, last = faker.first_name(), faker.last_name()
            channel = _pick_channel(rng)
            consent = rng.choices(["yes", "no", ""], weights=[70, 8, 22])[0]
            contact = DemoContact(
                email=f"{_ascii_slug(first)}.{_ascii_slug(last)}.{number}@example.com",
                first_name=first, last_name=last, language=language,
                city=rng.choice(_CITIES[language]),
                phone=_phone(rng, language) if rng.random() < 0.86 else "",
                consent=consent, channel=channel)
            contacts.append(contact)
            day = week_start + dt.timedelta(days=rng.randrange(7))
            value = min(900.0, max(8.0, rng.lognormvariate(math.log(60), 0.6)))
            items = 1 + min(6, int(rng.expovariate(0.9)))
            coupon = rng.random() < 0.3
            orders = [(day, value, items, WELCOME_CODES[language] if coupon else "")]
            if _comes_back(rng, channel, value, items, coupon):
                # Their own pace (mean gap 35-120 days) and their own chance to stop after
                # each order (people differ in both, as BG/NBD and Pareto/NBD assume; one
                # stopping chance for all would leave the models' dropout spread unidentified).
                gap = rng.uniform(35, 120)
                stop = rng.betavariate(1.2, 5.0)
                wait = rng.uniform(15, 50)  # the second order comes soonest
                while True:
                    day += dt.timedelta(days=max(1, round(rng.expovariate(1 / wait))))
                    wait = gap
                    if day > last_day:
                        break
                    orders.append((day, value * rng.uniform(0.6, 1.5),
                                   max(1, items + rng.randint(-1, 2)),
                                   REPEAT_CODES[language] if rng.random() < 0.1 else ""))
                    if rng.random() < stop:
                        break
            for order_number, (order_day, amount, quantity, code) in enumerate(orders, 1):
                if order_day > last_day:
                    break
                key = f"{number}-{order_number}"
                at = dt.datetime.combine(order_day, _time_of_day(key), tzinfo=tz)
                purchases.append({
                    "email": contact.email, "first_name": first, "last_name": last,
                    "purchased_at": at.isoformat(), "amount": f"{amount:.2f}",
                    "currency": base_currency(), "quantity": str(quantity),
                    "channel": channel, "code": code, "external_id": f"demo-{key}",
                })
                if order_number > 1 and rng.random() < 0.03:
                    refunds.append(f"demo-{key}")
    return DemoShop(contacts=contacts, purchases=purchases, refunds=refunds)

"""Demo data for `make run`: the public CDNOW purchase histories, moved to end near today.

CDNOW (Fader & Hardie) holds every purchase of 23,570 customers of an online CD shop who first
bought in the first quarter of 1997, up to June 1998. It ships inside the `lifetimes` package
(a development and demo dependency, never a production one). We read the file with
importlib.resources rather than lifetimes' own loader, which breaks on current setuptools. Names are generated (Faker, fixed seed), emails are on the reserved example.com domain.
"""
import datetime as dt
import hashlib
import unicodedata
import warnings
from collections.abc import Iterator
from importlib import resources

from faker import Faker

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

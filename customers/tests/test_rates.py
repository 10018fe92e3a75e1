"""Exchange rates per day: the feeds (recorded files, never the network), which rate a
purchase takes, provisional purchases and their conversion when a rate arrives."""
import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
import requests
from django.urls import reverse

from customers import rates_feed
from customers.models import CurrencyRate, Purchase, RateFetch
from customers.rates_feed import FeedError, fetch_and_save_rates, parse_ecb, parse_tcmb
from customers.services.purchases import purchase_clean, purchase_record
from customers.services.rates import (
    MAX_RATE_AGE_DAYS, RateBook, has_provisional, purchases_convert_waiting, purchases_reconvert,
    rate_on, rates_save,
)
from customers.services.refunds import purchase_refund
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
TCMB = (DATA / "tcmb_today.xml").read_bytes()
ECB = (DATA / "ecb_eurofxref_daily.xml").read_bytes()
FEED_DAY = dt.date(2026, 12, 4)  # a Friday: both recorded feeds are of that day
UTC = dt.timezone.utc
NOON = dt.datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


class _Response:
    def __init__(self, content: bytes, status: int = 200):
        self.content, self.status_code = content, status

    def raise_for_status(self):
        if self.status_code >= 400:
            raise requests.HTTPError(f"{self.status_code} Server Error")


def serve(content: bytes | Exception, status: int = 200):
    """Patch the one HTTP call (requests.get in customers.rates_feed)."""
    effect = content if isinstance(content, Exception) else None
    return mock.patch.object(rates_feed.requests, "get", side_effect=effect,
                             return_value=_Response(content, status) if effect is None else None)


@pytest.fixture
def eur_shop(settings):
    settings.CRM_BASE_CURRENCY = "EUR"
    settings.TIME_ZONE = "UTC"


# --- The feeds, from the recorded files -----------------------------------------------------

def test_tcmb_feed_is_try_per_unit_of_forex_selling():
    day, rates = parse_tcmb(TCMB)
    assert day == FEED_DAY
    assert rates["USD"] == Decimal("43.1957")
    assert rates["EUR"] == Decimal("50.2622")
    assert rates["JPY"] == Decimal("0.279646")  # 27.9646 TRY per 100 JPY
    assert "XDR" not in rates and "TRY" not in rates  # the SDR has no forex selling rate
    assert len(rates) == 21


def test_ecb_feed_is_units_per_euro():
    day, rates = parse_ecb(ECB)
    assert day == FEED_DAY
    assert (rates["USD"], rates["TRY"], rates["JPY"]) == (
        Decimal("1.1645"), Decimal("49.5108"), Decimal("180.79"))
    assert "EUR" not in rates and len(rates) == 29


@pytest.mark.parametrize(("base", "currency", "expected"), [
    ("EUR", "TRY", Decimal(1) / Decimal("49.5108")),
    ("EUR", "USD", Decimal(1) / Decimal("1.1645")),
    ("USD", "EUR", Decimal("1.1645")),  # crossed through the euro
    ("USD", "TRY", Decimal("1.1645") / Decimal("49.5108")),
    ("TRY", "USD", Decimal("43.1957")),
])
def test_the_feed_follows_the_base_currency(base, currency, expected):
    with serve(TCMB if base == "TRY" else ECB) as get:
        feed = rates_feed.feed_rates(base)
    assert get.call_args.kwargs["timeout"] == rates_feed.TIMEOUT_SECONDS
    assert get.call_args.args[0] == (rates_feed.TCMB_URL if base == "TRY" else rates_feed.ECB_URL)
    assert feed.source == ("tcmb" if base == "TRY" else "ecb") and feed.day == FEED_DAY
    assert abs(feed.rates[currency] - expected) < Decimal("1e-11")
    assert base not in feed.rates


def test_a_base_the_ecb_does_not_publish_is_a_clear_error():
    with serve(ECB), pytest.raises(FeedError, match="no rate for the base currency XAF"):
        rates_feed.feed_rates("XAF")


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "The feed is empty."),
    (b"<Tarih_Date Tarih='04.12.2026'><Currency", "not well-formed XML"),
    (b"<html><body>Bakim calismasi</body></html>", "has no date"),
    (b"<Tarih_Date Tarih='04.12.2026'></Tarih_Date>", "has no rates"),
    (b"<Tarih_Date Tarih='04.12.2026'><Currency Kod='USD'><Unit>1</Unit>"
     b"<ForexSelling>-3</ForexSelling></Currency></Tarih_Date>", "has no rates"),
])
def test_a_bad_tcmb_feed_says_why(content, reason):
    with pytest.raises(FeedError, match=reason):
        parse_tcmb(content)


def test_a_bad_ecb_feed_says_why():
    with pytest.raises(FeedError, match="has no date"):
        parse_ecb(ECB.replace(b"time='2026-12-04'", b"time='04.12.2026'"))
    with pytest.raises(FeedError, match="has no rates"):
        parse_ecb(ECB.replace(b"currency='", b"currency='X"))


# --- The daily job --------------------------------------------------------------------------

def test_the_daily_job_saves_the_feed_once(eur_shop):
    with serve(ECB):
        first = fetch_and_save_rates(today=FEED_DAY)
        again = fetch_and_save_rates(today=FEED_DAY)  # a re-run: the same rows
    assert (first.outcome, first.feed, first.feed_day, first.rates_saved) == (
        "saved", "ecb", FEED_DAY, 29)
    assert again.outcome == "saved"
    assert CurrencyRate.objects.filter(day=FEED_DAY, source="ecb").count() == 29
    assert rate_on("TRY", FEED_DAY) == (1 / Decimal("49.5108")).quantize(Decimal("1e-12"))


def test_a_late_feed_is_saved_under_its_own_date_and_reported(eur_shop, caplog):
    monday = FEED_DAY + dt.timedelta(days=3)
    with serve(ECB), caplog.at_level(logging.WARNING, logger="customers.rates_feed"):
        fetch = fetch_and_save_rates(today=monday)
    assert (fetch.outcome, fetch.feed_day) == ("late", FEED_DAY)
    assert "3 day(s) old" in fetch.message
    assert "2026-12-04, 3 day(s) old" in caplog.text
    assert not CurrencyRate.objects.filter(day=monday).exists()
    # Friday's rate serves the weekend and Monday (within MAX_RATE_AGE_DAYS).
    assert rate_on("USD", monday) is not None


@pytest.mark.parametrize("failure", [
    b"<gesmes:Envelope",  # cut off
    b"",
    requests.ConnectionError("Name or service not known"),
    requests.Timeout("read timed out"),
    "http 503",
])
def test_a_failed_fetch_writes_nothing_and_keeps_the_old_rates(eur_shop, caplog, failure):
    CurrencyRate.objects.create(currency="USD", day=dt.date(2026, 12, 3), rate=Decimal("0.86"),
                                source="ecb")
    served = serve(b"Service Unavailable", 503) if failure == "http 503" else serve(failure)
    with served, caplog.at_level(logging.WARNING, logger="customers.rates_feed"):
        fetch = fetch_and_save_rates(today=FEED_DAY)
    assert fetch.outcome == "failed" and fetch.rates_saved == 0 and fetch.message
    assert "nothing saved, previous rates kept" in caplog.text
    assert list(CurrencyRate.objects.values_list("currency", "rate")) == [("USD", Decimal("0.86"))]


def test_a_feed_never_overwrites_a_managers_rate_of_the_same_day(eur_shop):
    CurrencyRate.objects.create(currency="TRY", day=FEED_DAY, rate=Decimal("0.02"))
    with serve(ECB):
        fetch = fetch_and_save_rates(today=FEED_DAY)
    assert fetch.rates_saved == 28
    assert CurrencyRate.objects.get(currency="TRY", day=FEED_DAY).rate == Decimal("0.02")


def test_the_task_is_scheduled_daily():
    from crm.schedules import DEFAULT_SCHEDULES
    from customers.tasks import fetch_rates_task

    assert fetch_rates_task.name == "customers.fetch_rates"
    assert any(s.task == "customers.fetch_rates" and s.crontab for s in DEFAULT_SCHEDULES)


def test_the_rates_admin_shows_how_the_last_fetch_went(admin_client, eur_shop):
    page = admin_client.get(reverse("admin:customers_currencyrate_changelist"))
    assert "have not been fetched yet" in page.content.decode()
    with serve(requests.ConnectionError("no route to host")):
        fetch_and_save_rates(today=FEED_DAY)
    page = admin_client.get(reverse("admin:customers_currencyrate_changelist")).content.decode()
    assert "Failed; the previous rates are kept" in page and "no route to host" in page


# --- Which rate a purchase takes ------------------------------------------------------------

def test_the_latest_rate_on_or_before_the_day_within_the_age_limit():
    friday = FEED_DAY
    CurrencyRate.objects.create(currency="USD", day=friday, rate=Decimal("0.86"), source="ecb")
    CurrencyRate.objects.create(currency="USD", day=friday + dt.timedelta(days=3),
                                rate=Decimal("0.87"), source="ecb")
    book = RateBook()
    assert book.rate_on("USD", friday - dt.timedelta(days=1)) is None  # none before
    assert book.rate_on("USD", friday + dt.timedelta(days=1)) == Decimal("0.86")  # Saturday
    assert book.rate_on("USD", friday + dt.timedelta(days=3)) == Decimal("0.87")
    last = friday + dt.timedelta(days=3)
    assert book.rate_on("USD", last + dt.timedelta(days=MAX_RATE_AGE_DAYS)) == Decimal("0.87")
    assert book.rate_on("USD", last + dt.timedelta(days=MAX_RATE_AGE_DAYS + 1)) is None


def test_a_manual_rate_holds_until_a_newer_rate():
    CurrencyRate.objects.create(currency="AED", rate=Decimal("0.25"))  # as migrated: from 1970
    assert rate_on("AED", dt.date(2026, 12, 4)) == Decimal("0.25")
    assert rate_on("AED", dt.date(1999, 1, 1)) == Decimal("0.25")
    CurrencyRate.objects.create(currency="AED", day=dt.date(2026, 1, 5), rate=Decimal("0.24"),
                                source="ecb")
    assert rate_on("AED", dt.date(2025, 12, 31)) == Decimal("0.25")
    assert rate_on("AED", dt.date(2026, 1, 6)) == Decimal("0.24")
    assert rate_on("AED", dt.date(2026, 12, 4)) is None  # the feed stopped: wait, not guess


def test_an_unknown_code_is_refused_and_any_iso_code_accepted(eur_shop):
    with pytest.raises(Exception, match="Unknown currency TLX"):
        purchase_clean(purchased_at=NOON, amount=Decimal("10"), currency="TLX")
    for code in ("TRY", "AED", "KZT", "JPY"):
        values = purchase_clean(purchased_at=NOON, amount=Decimal("10"), currency=code.lower())
        assert values["currency"] == code and values["amount_base"] is None


# --- Provisional purchases and their conversion ---------------------------------------------

def test_a_purchase_without_a_rate_is_provisional_then_converted(eur_shop):
    contact = ContactFactory()
    purchase_record(contact=contact, purchased_at=NOON, amount=Decimal("1000.00"),
                    currency="TRY")
    purchase_record(contact=contact, purchased_at=NOON, amount=Decimal("20.00"), currency="EUR")
    contact.refresh_from_db()
    waiting = Purchase.objects.get(currency="TRY")
    assert waiting.amount_base is None and waiting.amount == Decimal("1000.000")
    # It counts as a purchase; its value waits: the total holds what is known.
    assert (contact.purchase_count, contact.stage, contact.total_spent) == (
        1, "one_time", Decimal("20.000"))
    assert has_provisional(contact)

    with serve(ECB):
        fetch = fetch_and_save_rates(today=FEED_DAY)

    assert fetch.purchases_converted == 1
    waiting.refresh_from_db()
    contact.refresh_from_db()
    expected = (Decimal("1000") / Decimal("49.5108")).quantize(Decimal("0.001"))
    assert waiting.amount_base == expected == Decimal("20.198")
    assert contact.total_spent == expected + 20
    assert not has_provisional(contact)


def test_a_manual_rate_from_the_admin_converts_the_waiting_purchases(admin_client, eur_shop):
    contact = ContactFactory()
    purchase_record(contact=contact, purchased_at=NOON, amount=Decimal("500"), currency="AED")
    response = admin_client.post(reverse("admin:customers_currencyrate_add"),
                                 {"currency": "aed", "day": "2026-12-01", "rate": "0.25"})
    assert response.status_code == 302
    rate = CurrencyRate.objects.get()
    assert (rate.source, rate.day) == ("manual", dt.date(2026, 12, 1))
    assert Purchase.objects.get().amount_base == Decimal("125.000")
    contact.refresh_from_db()
    assert contact.total_spent == Decimal("125.000")


def test_a_manager_correcting_a_mistyped_rate_recomputes_the_purchases_it_applied_to(
        admin_client, eur_shop):
    contact = ContactFactory()
    purchase_record(contact=contact, purchased_at=NOON, amount=Decimal("500"), currency="AED")
    admin_client.post(reverse("admin:customers_currencyrate_add"),
                      {"currency": "AED", "day": "2026-12-01", "rate": "2.5"})  # meant 0.25
    rate = CurrencyRate.objects.get()
    assert Purchase.objects.get().amount_base == Decimal("1250.000")

    response = admin_client.post(
        reverse("admin:customers_currencyrate_change", args=[rate.pk]),
        {"currency": "AED", "day": "2026-12-01", "rate": "0.25"}, follow=True)

    assert Purchase.objects.get().amount_base == Decimal("125.000")
    contact.refresh_from_db()
    assert contact.total_spent == Decimal("125.000")
    assert "1 purchase(s) now take this rate" in response.content.decode()


def test_a_rate_for_an_earlier_day_applies_until_the_next_recorded_rate(eur_shop):
    early, late = ContactFactory(), ContactFactory()
    purchase_record(contact=early, purchased_at=NOON - dt.timedelta(days=2),
                    amount=Decimal("100"), currency="TRY")
    purchase_record(contact=late, purchased_at=NOON, amount=Decimal("100"), currency="TRY")
    rates_save({"TRY": Decimal("0.03")}, day=FEED_DAY - dt.timedelta(days=3), source="ecb")
    rates_save({"TRY": Decimal("0.02")}, day=FEED_DAY, source="ecb")
    # A correction of the earlier day (the bank re-published it) reaches only its own days.
    rates_save({"TRY": Decimal("0.025")}, day=FEED_DAY - dt.timedelta(days=3), source="ecb")

    assert Purchase.objects.get(contact=early).amount_base == Decimal("2.500")
    assert Purchase.objects.get(contact=late).amount_base == Decimal("2.000")
    early.refresh_from_db()
    assert early.total_spent == Decimal("2.500")


def test_the_same_rate_saved_again_rewrites_no_purchase(eur_shop):
    contact = ContactFactory()
    purchase_record(contact=contact, purchased_at=NOON, amount=Decimal("100"), currency="TRY")
    rates_save({"TRY": Decimal("0.02")}, day=FEED_DAY, source="ecb")
    changed_at = Purchase.objects.values_list("amount_base", flat=True).get()

    assert purchases_reconvert("TRY", FEED_DAY) == 0
    assert Purchase.objects.values_list("amount_base", flat=True).get() == changed_at


def test_a_rate_after_the_purchase_day_converts_nothing(eur_shop):
    contact = ContactFactory()
    purchase_record(contact=contact, purchased_at=NOON, amount=Decimal("10"), currency="TRY")
    saved, converted = rates_save({"TRY": Decimal("0.02")}, day=FEED_DAY + dt.timedelta(days=1),
                                  source="ecb")
    assert (saved, converted) == (1, 0)
    assert Purchase.objects.get().amount_base is None


def test_a_refunded_provisional_purchase_converts_its_refund_too(eur_shop):
    contact = ContactFactory()
    purchase = purchase_record(contact=contact, purchased_at=NOON, amount=Decimal("100"),
                               currency="TRY").purchase
    purchase_refund(purchase=purchase, amount=Decimal("40"))
    purchase.refresh_from_db()
    assert (purchase.refunded_amount, purchase.refunded_amount_base) == (Decimal("40"), 0)
    rates_save({"TRY": Decimal("0.02")}, day=FEED_DAY, source="ecb")
    purchase.refresh_from_db()
    contact.refresh_from_db()
    assert (purchase.amount_base, purchase.refunded_amount_base) == (
        Decimal("2.000"), Decimal("0.800"))
    assert contact.total_spent == Decimal("1.200")


def test_converting_is_one_update_per_currency_and_day(eur_shop, django_assert_max_num_queries):
    contacts = ContactFactory.create_batch(5)
    for number, contact in enumerate(contacts):
        for hours in (1, 2, 26):
            purchase_record(contact=contact, purchased_at=NOON - dt.timedelta(hours=hours),
                            amount=Decimal(10 + number), currency="TRY")
    CurrencyRate.objects.create(currency="TRY", day=FEED_DAY - dt.timedelta(days=1),
                                rate=Decimal("0.02"), source="ecb")
    with django_assert_max_num_queries(12):
        assert purchases_convert_waiting(["TRY"]) == 15
    assert not Purchase.objects.filter(amount_base__isnull=True).exists()
    assert RateFetch.objects.count() == 0


def test_a_manager_can_fetch_the_rates_now_from_the_admin(admin_client, eur_shop,
                                                          django_capture_on_commit_callbacks):
    page = admin_client.get(reverse("admin:customers_currencyrate_changelist")).content.decode()
    assert "Fetch the rates now" in page
    with serve(ECB), django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:customers_currencyrate_fetch_now"))
    assert response.status_code == 302
    assert RateFetch.objects.get().outcome in ("saved", "late")
    assert CurrencyRate.objects.filter(source="ecb").count() == 29


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_todays_rates_as_manual_rates_from_the_start():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("customers", "0017_consent_ledger_moved")]
    after = [("customers", "0018_rates_per_day")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_rate = executor.loader.project_state(before).apps.get_model("customers", "CurrencyRate")
    old_rate.objects.create(currency="GBP", rate=Decimal("1.17"))
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest state

    rate = CurrencyRate.objects.get()
    assert (rate.currency, rate.day, rate.rate, rate.source) == (
        "GBP", dt.date(1970, 1, 1), Decimal("1.17"), "manual")
    assert rate_on("GBP", dt.date(2026, 12, 4)) == Decimal("1.17")

"""After the shop's time zone changes, the nightly re-derivation moves purchases to their day."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from customers.models import Purchase, Stage
from customers.services.consistency import contacts_rederive_stats
from customers.services.purchases import purchase_record
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc


def _buyer_of_one_utc_day(settings):
    """Two purchases on 1 March in UTC; in Istanbul (UTC+3) the second is on 2 March."""
    settings.TIME_ZONE = "UTC"
    contact = ContactFactory()
    for hour in (10, 22):
        purchase_record(contact=contact, amount=Decimal("5"), currency="USD",
                        purchased_at=dt.datetime(2025, 3, 1, hour, 30, tzinfo=UTC))
    assert (contact.purchase_count, contact.stage) == (1, Stage.ONE_TIME)
    return contact


def test_purchases_move_to_their_day_in_the_new_time_zone(settings):
    contact = _buyer_of_one_utc_day(settings)
    settings.TIME_ZONE = "Europe/Istanbul"

    report = contacts_rederive_stats()

    contact.refresh_from_db()
    assert report.days_corrected == 1
    assert sorted(contact.purchases.values_list("purchased_on", flat=True)) == [
        dt.date(2025, 3, 1), dt.date(2025, 3, 2)]
    assert (contact.purchase_count, contact.stage) == (2, Stage.REPEAT)
    assert contacts_rederive_stats().days_corrected == 0


def test_the_check_reports_wrong_days_and_changes_nothing(settings, capsys):
    contact = _buyer_of_one_utc_day(settings)
    settings.TIME_ZONE = "Europe/Istanbul"

    with pytest.raises(SystemExit) as caught:
        call_command("rederive_contact_stats", "--check")

    contact.refresh_from_db()
    assert caught.value.code == 1
    assert "1 purchase was on another day" in capsys.readouterr().out
    assert contact.purchase_count == 1
    assert Purchase.objects.filter(purchased_on=dt.date(2025, 3, 2)).count() == 0


def test_nothing_moves_while_the_time_zone_stays(settings):
    _buyer_of_one_utc_day(settings)

    assert contacts_rederive_stats().days_corrected == 0

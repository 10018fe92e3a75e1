"""The demo data behind `make run`: real CDNOW histories, loaded once however often it runs."""
import datetime as dt
import json
from io import StringIO
from itertools import islice

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.roles import MANAGERS, SALES_STAFF
from accounts.tests.factories import role_group
from customers.demo import cdnow_rows
from customers.models import Contact, Purchase, Stage

CDNOW_CUSTOMERS = 23_570
CDNOW_LINES = 69_659


def test_rows_are_cdnow_histories_shifted_to_end_yesterday():
    today = dt.date(2026, 12, 1)
    rows = list(cdnow_rows(today=today))

    assert len(rows) == CDNOW_LINES
    assert len({row["email"] for row in rows}) == CDNOW_CUSTOMERS
    days = sorted(dt.datetime.fromisoformat(row["purchased_at"]).date() for row in rows)
    assert days[-1] == today - dt.timedelta(days=1)
    # CDNOW spans 1997-01-01..1998-06-30: 545 days.
    assert (days[-1] - days[0]).days == 545
    assert all(row["email"].endswith("@example.com") for row in rows)


def test_rows_are_the_same_on_every_run():
    first = list(islice(cdnow_rows(today=dt.date(2026, 12, 1)), 50))
    again = list(islice(cdnow_rows(today=dt.date(2026, 12, 1)), 50))
    assert first == again


@pytest.mark.django_db(transaction=True)
def test_loading_twice_duplicates_nothing_and_keeps_the_logins(settings, tmp_path, monkeypatch):
    monkeypatch.setattr("customers.management.commands.load_demo_data.LOGINS_FILE",
                        tmp_path / "demo_logins.json")
    settings.DEBUG = True
    role_group(MANAGERS), role_group(SALES_STAFF)  # earlier transactional tests flush them

    call_command("load_demo_data", stdout=StringIO())
    logins = json.loads((tmp_path / "demo_logins.json").read_text())
    counts = (Contact.objects.count(), Purchase.objects.count())
    call_command("load_demo_data", stdout=StringIO())

    assert counts == (CDNOW_CUSTOMERS, CDNOW_LINES)
    assert (Contact.objects.count(), Purchase.objects.count()) == counts
    assert json.loads((tmp_path / "demo_logins.json").read_text()) == logins
    assert User.objects.get(username="manager").check_password(logins["manager"])
    assert User.objects.get(username="manager").groups.filter(name=MANAGERS).exists()
    assert User.objects.get(username="sales").groups.filter(name=SALES_STAFF).exists()
    # Real histories: most CDNOW customers bought once, a long tail came back.
    stages = {stage: Contact.objects.filter(stage=stage).count() for stage in Stage.values}
    assert stages[Stage.ONE_TIME] > stages[Stage.REPEAT] > 5_000
    assert not Contact.objects.filter(owner__isnull=True).exists()
    assert 0.6 < Contact.objects.filter(marketing_consent=True).count() / counts[0] < 0.8
    # Each agreeing contact has its ledger record with the wording it agreed to.
    from customers.consent.models import ConsentRecord

    assert ConsentRecord.objects.filter(given=True, wording__isnull=False).count() == (
        Contact.objects.filter(marketing_consent=True).count())


def test_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("load_demo_data")

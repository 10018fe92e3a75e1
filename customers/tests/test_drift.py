"""The re-derivation command finds and fixes figures that drifted from the purchases."""
import pytest
from django.core.management import call_command

from customers.models import Contact, Stage
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


def _drift(contact: Contact) -> None:
    Contact.objects.filter(pk=contact.pk).update(purchase_count=7, total_spent=1)


def test_check_reports_drift_without_fixing(capsys):
    contact = ContactFactory()
    record_purchase(contact)
    _drift(contact)

    with pytest.raises(SystemExit) as caught:
        call_command("rederive_contact_stats", "--check")

    contact.refresh_from_db()
    assert caught.value.code == 1
    assert "1 with drift" in capsys.readouterr().out
    assert contact.purchase_count == 7


def test_rederive_fixes_drift(capsys):
    healthy, drifted = ContactFactory(), ContactFactory()
    record_purchase(healthy)
    record_purchase(drifted, amount="12.50")
    _drift(drifted)

    call_command("rederive_contact_stats")

    drifted.refresh_from_db()
    out = capsys.readouterr().out
    assert "Checked 2 contacts, 1 with drift." in out
    assert str(drifted.pk) in out
    assert (drifted.purchase_count, drifted.stage, str(drifted.total_spent)) == (1, Stage.ONE_TIME, "12.500")


def test_null_dates_count_as_drift_too():
    contact = ContactFactory()
    record_purchase(contact)
    Contact.objects.filter(pk=contact.pk).update(last_purchase_at=None)

    from customers.stats import contacts_with_drift

    assert list(contacts_with_drift()) == [contact]


def test_no_drift_after_normal_writes(capsys):
    contact = ContactFactory()
    record_purchase(contact, days_ago=3)
    record_purchase(contact, days_ago=1)

    call_command("rederive_contact_stats", "--check")

    assert "0 with drift" in capsys.readouterr().out

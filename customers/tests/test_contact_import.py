"""Contact import (customers.imports.contacts and `manage.py import_contacts`)."""
import csv
import io

import pytest
from django.core.management import CommandError, call_command

from customers.consent.models import ConsentRecord, ConsentWording
from customers.imports.contacts import contacts_import_csv
from customers.imports.reading import ImportRefused
from customers.models import Contact
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def as_file(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def test_new_contacts_are_created_with_normalised_email():
    result = contacts_import_csv(file=as_file(
        "email,first_name,last_name,phone\n Ann@Example.COM ,Ann,Lee,+90 555 111 22 33\n"))

    contact = Contact.objects.get()
    assert (contact.email, contact.first_name, contact.last_name, contact.phone) == (
        "ann@example.com", "Ann", "Lee", "+905551112233")  # phones are stored in E.164
    assert (result.contacts_created, result.contacts_updated, result.imported) == (1, 0, True)


def test_empty_cells_never_clear_existing_values():
    ContactFactory(email="ann@example.com", first_name="Ann", last_name="Lee", phone="123456")

    result = contacts_import_csv(file=as_file(
        "email,first_name,last_name,phone\nann@example.com,,Smith,\n"))

    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.phone) == ("Ann", "Smith", "123456")
    assert (result.contacts_created, result.contacts_updated, result.contacts_unchanged) == (
        0, 1, 0)


def test_rerun_of_the_same_file_changes_nothing():
    text = "email,first_name,marketing_consent\nann@example.com,Ann,yes\nbob@example.com,Bob,no\n"
    contacts_import_csv(file=as_file(text))
    stamped = dict(Contact.objects.values_list("email", "updated_at"))

    result = contacts_import_csv(file=as_file(text))

    assert (result.contacts_created, result.contacts_updated, result.contacts_unchanged) == (
        0, 0, 2)
    assert dict(Contact.objects.values_list("email", "updated_at")) == stamped


def test_consent_change_is_stamped_with_the_import_as_source():
    ContactFactory(email="ann@example.com", marketing_consent=False)

    result = contacts_import_csv(file=as_file("email,marketing_consent\nann@example.com,TRUE\n"))

    contact = Contact.objects.get()
    assert contact.marketing_consent is True
    assert contact.consent_source == "import"
    assert contact.consent_changed_at is not None
    assert result.consent_changed == 1
    record = ConsentRecord.objects.get()
    assert (record.contact_id, record.given, record.method) == (contact.pk, True, "csv_import")
    assert result.consent_ledger is True


def test_rerun_writes_no_second_consent_record():
    text = "email,marketing_consent\nann@example.com,yes\nbob@example.com,no\n"
    contacts_import_csv(file=as_file(text))

    contacts_import_csv(file=as_file(text))

    assert sorted(ConsentRecord.objects.values_list("contact__email", "given")) == [
        ("ann@example.com", True), ("bob@example.com", False)]


def test_consent_without_a_published_wording_refuses_the_import():
    ConsentWording.objects.all().delete()

    with pytest.raises(ImportRefused) as refused:
        contacts_import_csv(file=as_file("email,marketing_consent\nann@example.com,yes\n"))

    assert "No consent wording is published in en yet." in str(refused.value)
    assert (Contact.objects.count(), ConsentRecord.objects.count()) == (0, 0)


def test_empty_consent_cell_leaves_consent_alone():
    ContactFactory(email="ann@example.com", marketing_consent=True)

    contacts_import_csv(file=as_file("email,marketing_consent,first_name\nann@example.com,,A\n"))

    assert Contact.objects.get().marketing_consent is True


def test_bad_rows_are_all_reported_and_nothing_is_imported():
    report = io.StringIO()
    result = contacts_import_csv(file=as_file(
        "email,marketing_consent,phone\n"
        "ann@example.com,yes,\n"
        "not-an-email,maybe,\n"
        "bob@example.com,,call me\n"
        "ANN@example.com,no,\n"), errors_file=report)

    assert result.imported is False
    assert Contact.objects.count() == 0
    assert result.errors == [
        (3, "not-an-email", ["not-an-email is not a valid email address.",
                             "Marketing consent maybe is not one of yes, no, true, false, 1, 0."]),
        (4, "bob@example.com", ["Phone number call me is not valid: write it like "
                                "+90 501 234 56 78, or without the country code for a number "
                                "in the shop's country."]),
        (5, "ann@example.com", ["Email ann@example.com is already on line 2 of this file."]),
    ]
    assert list(csv.reader(io.StringIO(report.getvalue())))[0:2] == [
        ["line", "email", "reasons"],
        ["3", "not-an-email", "not-an-email is not a valid email address.; Marketing consent "
                              "maybe is not one of yes, no, true, false, 1, 0."]]


def test_skip_invalid_imports_the_valid_rows():
    result = contacts_import_csv(file=as_file("email\nann@example.com\nbad\n"), skip_invalid=True)

    assert list(Contact.objects.values_list("email", flat=True)) == ["ann@example.com"]
    assert (result.rows_read, result.rows_invalid, result.contacts_created) == (2, 1, 1)


def test_dry_run_counts_without_writing():
    ContactFactory(email="ann@example.com", first_name="Ann")

    result = contacts_import_csv(file=as_file(
        "email,first_name\nann@example.com,Anna\nbob@example.com,Bob\ncem@x,C\n"),
        dry_run=True, skip_invalid=True)

    assert (result.contacts_created, result.contacts_updated, result.rows_invalid) == (1, 1, 1)
    assert (result.imported, result.dry_run) == (False, True)
    assert list(Contact.objects.values_list("email", "first_name")) == [("ann@example.com", "Ann")]


def test_language_column_is_checked():
    result = contacts_import_csv(file=as_file("email,language\nann@example.com,tr\nbob@x.com,xx\n"),
                                 skip_invalid=True)

    assert Contact.objects.get().language == "tr"
    assert result.errors[0][0] == 3
    assert result.errors[0][2][0].startswith("Language xx is not one of ")


def test_unknown_column_refuses_the_file():
    with pytest.raises(ImportRefused) as refused:
        contacts_import_csv(file=as_file("email,fax\nann@example.com,1\n"))

    assert "unknown columns: fax" in str(refused.value)
    assert Contact.objects.count() == 0


def test_latin1_file_is_refused():
    with pytest.raises(ImportRefused) as refused:
        contacts_import_csv(file=as_file("email,first_name\nayse@example.com,Ayşe\n", "cp1254"))

    assert str(refused.value).startswith("Line 2 is not valid UTF-8")


def test_command_prints_a_summary(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("email,first_name\nann@example.com,Ann\n", encoding="utf-8")
    out = io.StringIO()

    call_command("import_contacts", str(path), stdout=out, stderr=io.StringIO())

    assert out.getvalue() == ("Rows read: 1 (valid: 1, with errors: 0).\n"
                              "Contacts: 1 new, 0 updated, 0 unchanged; consent changed on 0.\n")


def test_command_fails_on_bad_rows(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("email\nbad\n", encoding="utf-8")

    with pytest.raises(CommandError) as failed:
        call_command("import_contacts", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    assert str(failed.value) == ("Nothing was imported: 1 row has errors. Fix it, or use "
                                 "--skip-invalid to import the 0 valid rows.")

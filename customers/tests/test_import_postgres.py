"""Purchase import next to concurrent writers (PostgreSQL row locks and races)."""
import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from customers.imports import purchase_merge
from customers.imports.purchases import purchases_import_csv
from customers.imports.reading import ImportRefused
from customers.models import Contact, Purchase
from customers.services.purchases import purchase_record
from customers.stats import contacts_with_drift
from customers.tests.factories import ContactFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

UTC = dt.timezone.utc
HEADER = "email,purchased_at,amount,currency,external_id,first_name\n"


def in_thread(work) -> threading.Thread:
    def target():
        try:
            work()
        finally:
            connection.close()
    thread = threading.Thread(target=target)
    thread.start()
    return thread


def wait_for_lock_waiters(count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.02)
    raise AssertionError("nobody waited for a lock")


def test_import_waits_for_a_concurrent_purchase_and_counts_it(tmp_path):
    contact = ContactFactory(email="ann@example.com")
    purchase_record(contact=contact, purchased_at=dt.datetime(2025, 1, 1, tzinfo=UTC),
                    amount=Decimal("1"), currency="USD")
    path = tmp_path / "purchases.csv"
    path.write_text(HEADER + "ann@example.com,2025-03-01,4,USD,A-1,\n", encoding="utf-8")
    holding, release, results = threading.Event(), threading.Event(), []

    def dashboard():
        with transaction.atomic():  # purchase_record locks the contact until this commits
            purchase_record(contact=Contact.objects.get(pk=contact.pk),
                            purchased_at=dt.datetime(2025, 2, 1, tzinfo=UTC),
                            amount=Decimal("2"), currency="USD")
            holding.set()
            release.wait(10)

    writer = in_thread(dashboard)
    holding.wait(10)
    importer = in_thread(lambda: results.append(purchases_import_csv(file=path)))
    wait_for_lock_waiters(1)
    release.set()
    writer.join()
    importer.join()

    contact.refresh_from_db()
    assert results[0].purchases_created == 1
    assert (contact.purchase_count, contact.total_spent) == (3, Decimal("7"))
    assert list(contacts_with_drift()) == []


def test_contact_created_meanwhile_for_a_new_email_is_used(tmp_path, monkeypatch):
    path = tmp_path / "purchases.csv"
    path.write_text(HEADER + "new@example.com,2025-03-01,4,USD,A-1,Nina\n"
                             "old@example.com,2025-03-02,5,USD,A-2,\n", encoding="utf-8")
    ContactFactory(email="old@example.com")
    lock_existing = purchase_merge._lock_existing

    def racing_lock(cursor, tables):
        lock_existing(cursor, tables)
        in_thread(lambda: ContactFactory(email="new@example.com", first_name="")).join()

    monkeypatch.setattr(purchase_merge, "_lock_existing", racing_lock)

    result = purchases_import_csv(file=path)

    theirs = Contact.objects.get(email="new@example.com")
    assert (result.purchases_created, result.contacts_created) == (2, 0)
    assert list(theirs.purchases.values_list("external_id", flat=True)) == ["A-1"]
    assert (theirs.purchase_count, theirs.total_spent, theirs.first_name) == (
        1, Decimal("4.000"), "Nina")
    assert list(contacts_with_drift()) == []


def test_contact_deleted_meanwhile_refuses_the_import(tmp_path, monkeypatch):
    path = tmp_path / "purchases.csv"
    path.write_text(HEADER + "old@example.com,2025-03-02,5,USD,A-2,\n", encoding="utf-8")
    old = ContactFactory(email="old@example.com")
    lock_existing = purchase_merge._lock_existing

    def racing_lock(cursor, tables):
        in_thread(lambda: Contact.objects.filter(pk=old.pk).delete()).join()
        lock_existing(cursor, tables)

    monkeypatch.setattr(purchase_merge, "_lock_existing", racing_lock)

    with pytest.raises(ImportRefused, match="changed or deleted while it was being imported"):
        purchases_import_csv(file=path)
    assert Purchase.objects.count() == 0


def test_contact_whose_email_changed_meanwhile_refuses_the_import(tmp_path, monkeypatch):
    path = tmp_path / "purchases.csv"
    path.write_text(HEADER + "old@example.com,2025-03-02,5,USD,A-2,\n", encoding="utf-8")
    old = ContactFactory(email="old@example.com")
    lock_existing = purchase_merge._lock_existing

    def racing_lock(cursor, tables):
        in_thread(lambda: Contact.objects.filter(pk=old.pk).update(
            email="renamed@example.com")).join()
        lock_existing(cursor, tables)

    monkeypatch.setattr(purchase_merge, "_lock_existing", racing_lock)

    with pytest.raises(ImportRefused, match="changed or deleted while it was being imported"):
        purchases_import_csv(file=path)
    assert Purchase.objects.count() == 0


def test_two_imports_of_one_file_at_once_record_each_purchase_once(tmp_path):
    path = tmp_path / "purchases.csv"
    rows = [f"c{i % 40}@example.com,2025-03-{1 + i % 28:02d},{i}.50,USD,O-{i},Name{i % 40}\n"
            for i in range(300)]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    ContactFactory(email="c7@example.com", first_name="")
    barrier, results, errors = threading.Barrier(2), [], []

    def run():
        try:
            barrier.wait()
            results.append(purchases_import_csv(file=path))
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [in_thread(run) for _ in range(2)]
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(result.purchases_created for result in results) == 300
    assert sum(result.purchases_existing for result in results) == 300
    assert (Contact.objects.count(), Purchase.objects.count()) == (40, 300)
    assert Contact.objects.get(email="c7@example.com").first_name == "Name7"
    assert list(contacts_with_drift()) == []


def test_new_contacts_get_ids_in_file_order(tmp_path):
    path = tmp_path / "purchases.csv"
    emails = [f"c{i}@example.com" for i in (5, 3, 9, 1, 7)]
    path.write_text(HEADER + "".join(f"{email},2025-03-01,1,USD,O-{email},\n" for email in emails),
                    encoding="utf-8")

    purchases_import_csv(file=path)

    assert list(Contact.objects.order_by("id").values_list("email", flat=True)) == emails


def test_contacts_import_adopts_a_contact_created_meanwhile(tmp_path):
    from customers.imports.contacts import contacts_import_csv

    path = tmp_path / "contacts.csv"
    path.write_text("email,first_name,phone\nnew@example.com,Nur,0532 123 45 67\n"
                    "other@example.com,Ece,\n", encoding="utf-8")
    holding, release, results = threading.Event(), threading.Event(), []

    def shop_api():  # creates the same contact, committing only once the import waits on it
        with transaction.atomic():
            Contact.objects.create(email="new@example.com", first_name="From the shop")
            holding.set()
            release.wait(10)

    shop = in_thread(shop_api)
    assert holding.wait(10)
    importer = in_thread(lambda: results.append(contacts_import_csv(file=path)))
    wait_for_lock_waiters(1)  # the import's insert waits for the shop's uncommitted row
    release.set()
    shop.join(10)
    importer.join(10)

    result, = results
    assert result.imported
    assert (result.contacts_created, result.contacts_updated) == (1, 1)
    adopted = Contact.objects.get(email="new@example.com")
    assert (adopted.first_name, adopted.phone) == ("Nur", "+905321234567")
    assert Contact.objects.count() == 2

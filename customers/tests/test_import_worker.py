"""The dashboard import through the real broker and a worker, as in production."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.tests.workers import wait_until
from customers.models import ImportJob, Purchase
from customers.tests.test_import_browser import EXPECTED, PURCHASES_FILE, counts
from customers.tests.factories import ContactFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_import_runs_on_a_worker_with_the_command_counts(real_worker, client, manager,
                                                         settings, tmp_path):
    settings.CRM_IMPORT_DIR = tmp_path / "imports"
    settings.CRM_IMPORT_SYNC_PREVIEW_BYTES = 0  # the dry run as a task too
    ContactFactory(email="ann@example.com", first_name="Ann")
    ContactFactory(email="bob@example.com")
    client.force_login(manager)
    client.post(reverse("customers:import_list"), {
        "kind": "purchases", "source": "csv", "skip_invalid": "on",
        "file": SimpleUploadedFile("orders.csv", PURCHASES_FILE)})
    job = ImportJob.objects.get()
    assert wait_until(lambda: ImportJob.objects.filter(
        pk=job.pk, status=ImportJob.Status.PREVIEWED).exists())

    client.post(reverse("customers:import_start", args=[job.pk]))

    assert wait_until(lambda: ImportJob.objects.get(pk=job.pk).is_finished)
    job.refresh_from_db()
    # bob's purchase B-1 is new here: one more created, none already recorded.
    assert counts(job) == {**EXPECTED, "count_created": 3, "count_unchanged": 0}
    assert job.status == ImportJob.Status.DONE
    assert Purchase.objects.count() == 3

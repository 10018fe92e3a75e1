"""CSV import from the dashboard: upload, preview (dry run), start, progress, report."""
import csv
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from customers.imports import jobs as import_jobs
from customers.imports import reading, retention
from customers.imports.purchases import purchases_import_csv
from customers.models import Contact, ImportJob, Purchase
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

HEADER = "email,purchased_at,amount,currency,external_id,first_name\n"
ROWS = (
    "ann@example.com,2025-03-01,10.00,USD,A-1,Ann\n"            # 2: new purchase, known contact
    "bob@example.com,2025-02-01,7,USD,B-1,\n"                   # 3: already recorded
    'cem@example.com,2025-03-02,12.50,USD,C-1,"Çelik, Cem"\n'   # 4: new purchase, new contact
    "not-an-email,2025-03-01,5,USD,D-1,\n"                      # 5: bad email
    "dan@example.com,2025-03-01,-5,USD,D-2,\n"                  # 6: negative amount
    "eve@example.com,2025-03-01,5,XYZ,E-1,\n"                   # 7: unknown currency
    "fay@example.com,2025-13-01,5,USD,F-1,\n"                   # 8: bad date
)
PURCHASES_FILE = b"\xef\xbb\xbf" + (HEADER + ROWS).encode()
EXPECTED = {"count_created": 2, "count_updated": 0, "count_unchanged": 1, "count_duplicates": 0,
            "count_rejected": 4, "contacts_created": 1, "rows_read": 7}


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.CRM_IMPORT_DIR = tmp_path / "imports"
    return settings.CRM_IMPORT_DIR


@pytest.fixture
def known_data():
    ContactFactory(email="ann@example.com", first_name="Ann")
    purchases_import_csv(file=io.BytesIO(
        (HEADER + "bob@example.com,2025-02-01,7,USD,B-1,Bob\n").encode()))


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def upload(client, data: bytes = PURCHASES_FILE, *, name="orders.csv", kind="purchases",
           **fields):
    return client.post(reverse("customers:import_list"), {
        "kind": kind, "file": SimpleUploadedFile(name, data, content_type="text/csv"),
        "source": "csv", "skip_invalid": "on", **fields})


def counts(job: ImportJob) -> dict:
    return {name: getattr(job, name) for name in EXPECTED}


def run_import(client, job: ImportJob, capture) -> ImportJob:
    with capture(execute=True):
        response = client.post(reverse("customers:import_start", args=[job.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:import_progress", args=[job.pk])
    job.refresh_from_db()
    return job


# --- Upload and preview ---------------------------------------------------------------------

def test_upload_shows_a_preview_with_exact_dry_run_counts(manager_client, known_data):
    response = upload(manager_client)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:import_preview", args=[job.pk])
    assert job.status == ImportJob.Status.PREVIEWED
    assert job.preview["counts"] == EXPECTED
    assert [error[0] for error in job.preview["errors"]] == [5, 6, 7, 8]
    assert job.preview["errors"][0] == [5, "not-an-email",
                                        ["not-an-email is not a valid email address."]]
    assert job.preview["mapping"][0] == ["email", "email"]  # the BOM is not part of the name
    assert job.preview["absent"] == ["last_name", "channel", "quantity", "code"]
    assert job.preview["rows"][2] == ["cem@example.com", "2025-03-02", "12.50", "USD", "C-1",
                                      "Çelik, Cem"]
    # A dry run: nothing was written.
    assert (Contact.objects.count(), Purchase.objects.count()) == (2, 1)


def test_preview_page_shows_rows_mapping_counts_and_errors(manager_client, known_data):
    upload(manager_client)
    job = ImportJob.objects.get()

    page = manager_client.get(reverse("customers:import_preview", args=[job.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Çelik, Cem" in html
    assert '<dd class="col-sm-8" data-count="created">2</dd>' in html
    assert '<dd class="col-sm-8" data-count="rejected">4</dd>' in html
    assert "not-an-email is not a valid email address." in html
    assert reverse("customers:import_start", args=[job.pk]) in html


def test_latin1_file_is_refused_and_nothing_is_stored(manager_client, import_dir):
    data = (HEADER + "ayse@example.com,2025-03-01,1,USD,X,Ayşe\n").encode("cp1254")

    response = upload(manager_client, data)

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "Line 2 is not valid UTF-8: the file was probably saved in another encoding (such as "
        "Latin-1 or Windows-1254). Save it as UTF-8 (CSV UTF-8) and import it again. Nothing "
        "was imported."]
    assert ImportJob.objects.count() == 0
    assert list(import_dir.iterdir()) == []


def test_missing_required_column_is_refused(manager_client, import_dir):
    response = upload(manager_client, b"email,amount\nann@example.com,1\n")

    assert response.status_code == 200
    assert response.context["form"].errors["file"][0].startswith(
        "The header line is not right (missing required columns: purchased_at, currency).")
    assert (ImportJob.objects.count(), list(import_dir.iterdir())) == (0, [])


def test_non_csv_file_is_refused(manager_client, import_dir):
    response = upload(manager_client, b"\x89PNG\r\n\x1a\n", name="photo.png")

    assert response.context["form"].errors["file"] == [
        "Only CSV files (.csv) can be imported. Nothing was stored."]
    assert ImportJob.objects.count() == 0


def test_file_over_the_size_limit_is_refused(manager_client, settings):
    settings.CRM_IMPORT_MAX_BYTES = 1024 * 1024

    response = upload(manager_client, HEADER.encode() + b"x" * (1024 * 1024))

    assert response.context["form"].errors["file"] == [
        "The file is larger than 1 MB. Nothing was stored."]
    assert ImportJob.objects.count() == 0


def test_big_file_is_previewed_by_a_task(manager_client, known_data, settings,
                                         django_capture_on_commit_callbacks):
    settings.CRM_IMPORT_SYNC_PREVIEW_BYTES = 0

    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client)

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.PREVIEWED
    assert job.preview["counts"] == EXPECTED


def test_big_file_with_bad_bytes_later_fails_in_the_task(
        manager_client, settings, monkeypatch, django_capture_on_commit_callbacks):
    """The upload checks the first rows only; the dry run finds the rest, and says so."""
    settings.CRM_IMPORT_SYNC_PREVIEW_BYTES = 0
    monkeypatch.setattr(reading, "_READ_BYTES", 64)  # as if the bad line were megabytes in
    data = (HEADER + ROWS + ROWS).encode() + "zoë@example.com,2025-03-01,1,USD,Z,Zoë\n".encode(
        "latin-1")

    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, data)

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith("Line 16 is not valid UTF-8")
    assert job.upload_path == ""


# --- The import -----------------------------------------------------------------------------

def test_import_gives_the_dry_run_counts_and_writes(manager_client, known_data,
                                                    django_capture_on_commit_callbacks):
    upload(manager_client)
    job = ImportJob.objects.get()
    stored = job.upload_path

    job = run_import(manager_client, job, django_capture_on_commit_callbacks)

    assert job.status == ImportJob.Status.DONE
    assert counts(job) == EXPECTED
    assert (job.bytes_read, job.size_bytes) == (len(PURCHASES_FILE), len(PURCHASES_FILE))
    assert sorted(Purchase.objects.values_list("external_id", "amount")) == [
        ("A-1", Decimal("10.000")), ("B-1", Decimal("7.000")), ("C-1", Decimal("12.500"))]
    assert Contact.objects.get(email="cem@example.com").first_name == "Çelik, Cem"
    assert job.upload_path == "" and not import_jobs.Path(stored).exists()
    assert job.started_at is not None and job.finished_at is not None


def test_command_gives_the_same_counts(known_data, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(PURCHASES_FILE)
    out = io.StringIO()

    call_command("import_purchases", str(path), "--skip-invalid", stdout=out, stderr=io.StringIO())

    assert (f"Imported: {EXPECTED['count_created']} new purchases, "
            f"{EXPECTED['count_unchanged']} already recorded, 0 duplicate rows; "
            f"{EXPECTED['contacts_created']} new contacts.") in out.getvalue()
    assert f"{EXPECTED['count_rejected']} rows with errors were skipped." in out.getvalue()


def test_importing_the_same_file_again_creates_nothing(manager_client, known_data,
                                                       django_capture_on_commit_callbacks):
    upload(manager_client)
    run_import(manager_client, ImportJob.objects.get(), django_capture_on_commit_callbacks)
    before = (Contact.objects.count(), Purchase.objects.count())

    upload(manager_client)
    again = ImportJob.objects.order_by("-id").first()
    assert again.preview["counts"]["count_created"] == 0
    again = run_import(manager_client, again, django_capture_on_commit_callbacks)

    assert (again.count_created, again.count_unchanged, again.contacts_created) == (0, 3, 0)
    assert (Contact.objects.count(), Purchase.objects.count()) == before


def test_starting_twice_imports_once(manager_client, known_data,
                                     django_capture_on_commit_callbacks):
    upload(manager_client)
    job = run_import(manager_client, ImportJob.objects.get(), django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        manager_client.post(reverse("customers:import_start", args=[job.pk]))
    import_jobs.import_job_run(job.pk)  # a redelivered task

    assert callbacks == []
    assert Purchase.objects.count() == 3
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE


def test_rejected_rows_report_has_lines_and_reasons(manager_client, known_data,
                                                    django_capture_on_commit_callbacks):
    upload(manager_client)
    job = run_import(manager_client, ImportJob.objects.get(), django_capture_on_commit_callbacks)

    response = manager_client.get(reverse("customers:import_report", args=[job.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="orders-rejected-rows.csv"')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["line", "email", "reasons"]
    assert [row[:2] for row in rows[1:]] == [
        ["5", "not-an-email"], ["6", "dan@example.com"], ["7", "eve@example.com"],
        ["8", "fay@example.com"]]
    assert rows[1][2] == "not-an-email is not a valid email address."
    assert all(row[2] for row in rows[1:])


def test_progress_page_shows_counts_and_report_link(manager_client, known_data,
                                                    django_capture_on_commit_callbacks):
    upload(manager_client)
    job = run_import(manager_client, ImportJob.objects.get(), django_capture_on_commit_callbacks)

    html = manager_client.get(reverse("customers:import_progress", args=[job.pk])).content.decode()

    assert 'aria-valuenow="100"' in html
    assert reverse("customers:import_report", args=[job.pk]) in html
    assert '<dd class="col-sm-8" data-count="created">2</dd>' in html
    assert 'http-equiv="refresh"' not in html  # finished: no more refreshing


def test_status_endpoint_reports_live_bytes_and_rows(manager_client, known_data):
    upload(manager_client)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    cache.set(import_jobs.progress_key(job.pk), {"rows": 4, "bytes": job.size_bytes // 2})

    state = manager_client.get(reverse("customers:import_status", args=[job.pk])).json()

    assert (state["status"], state["rows_read"], state["bytes_read"], state["size_bytes"]) == (
        "running", 4, job.size_bytes // 2, job.size_bytes)
    assert state["percent"] == (job.size_bytes // 2) * 100 // job.size_bytes
    assert state["finished"] is False


def test_status_endpoint_after_the_import(manager_client, known_data,
                                          django_capture_on_commit_callbacks):
    upload(manager_client)
    job = run_import(manager_client, ImportJob.objects.get(), django_capture_on_commit_callbacks)

    state = manager_client.get(reverse("customers:import_status", args=[job.pk])).json()

    assert (state["status"], state["percent"], state["rows_read"], state["finished"]) == (
        "done", 100, 7, True)
    assert state["counts"]["count_created"] == 2
    assert state["report_url"] == reverse("customers:import_report", args=[job.pk])


def test_without_skip_invalid_nothing_is_imported(manager_client, known_data,
                                                  django_capture_on_commit_callbacks):
    manager_client.post(reverse("customers:import_list"), {
        "kind": "purchases", "source": "csv",
        "file": SimpleUploadedFile("orders.csv", PURCHASES_FILE)})
    job = run_import(manager_client, ImportJob.objects.get(), django_capture_on_commit_callbacks)

    assert job.status == ImportJob.Status.FAILED
    assert job.error == "Nothing was imported: 4 rows have errors."
    assert Purchase.objects.count() == 1


# --- Contacts -------------------------------------------------------------------------------

def test_contacts_import_upserts_without_clearing(manager_client,
                                                  django_capture_on_commit_callbacks):
    ContactFactory(email="ann@example.com", first_name="Ann", last_name="Lee", phone="555 1234")
    data = b"email,first_name,last_name,phone\nann@example.com,,Smith,\nbob@example.com,Bob,,\n"

    upload(manager_client, data, kind="contacts")
    job = ImportJob.objects.get()
    assert job.preview["counts"]["count_created"] == 1
    assert job.preview["counts"]["count_updated"] == 1
    job = run_import(manager_client, job, django_capture_on_commit_callbacks)

    assert (job.count_created, job.count_updated, job.count_rejected) == (1, 1, 0)
    assert sorted(Contact.objects.values_list("email", "first_name", "last_name", "phone")) == [
        ("ann@example.com", "Ann", "Smith", "555 1234"), ("bob@example.com", "Bob", "", "")]


# --- Who may ----------------------------------------------------------------------------------

def job_urls(job: ImportJob) -> list[str]:
    return [reverse("customers:import_list")] + [
        reverse(f"customers:{name}", args=[job.pk])
        for name in ("import_preview", "import_progress", "import_status", "import_report")]


def test_sales_staff_are_refused(sales_client, manager):
    job = ImportJob.objects.create(kind="contacts", original_name="a.csv", uploaded_by=manager)

    for url in job_urls(job):
        assert sales_client.get(url).status_code == 403, url
    assert sales_client.post(reverse("customers:import_start", args=[job.pk])).status_code == 403
    assert upload(sales_client).status_code == 403
    assert ImportJob.objects.count() == 1


def test_anonymous_users_are_sent_to_log_in(client, manager):
    job = ImportJob.objects.create(kind="contacts", original_name="a.csv", uploaded_by=manager)

    for url in job_urls(job):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_navigation_links_to_imports_for_managers_only(client, manager, sales_user):
    link = f'href="{reverse("customers:import_list")}"'
    client.force_login(manager)
    assert link in client.get(reverse("dashboard:contact_list")).content.decode()
    client.force_login(sales_user)
    assert link not in client.get(reverse("dashboard:contact_list")).content.decode()


def test_old_jobs_files_are_purged(manager_client, known_data,
                                   django_capture_on_commit_callbacks):
    upload(manager_client)
    job = run_import(manager_client, ImportJob.objects.get(), django_capture_on_commit_callbacks)
    report = import_jobs.Path(job.report_path)

    assert job.preview["rows"] and job.preview["errors"]

    assert retention.import_jobs_purge(days=0) == 1

    job.refresh_from_db()
    assert (job.report_path, report.exists()) == ("", False)
    # The file's own rows go too; what was counted and how columns mapped stays.
    assert "rows" not in job.preview and "errors" not in job.preview
    assert job.preview["counts"] and job.preview["mapping"]
    assert job.count_rejected > 0
    assert retention.import_jobs_purge(days=0) == 0


def test_managers_see_the_imports_in_the_admin_read_only(client, manager):
    job = ImportJob.objects.create(kind=ImportJob.Kind.PURCHASES, original_name="orders.csv",
                                   uploaded_by=manager, status=ImportJob.Status.DONE,
                                   count_created=12)
    client.force_login(manager)

    listing = client.get(reverse("admin:customers_importjob_changelist"))
    detail = client.get(reverse("admin:customers_importjob_change", args=[job.pk]))
    add = client.get(reverse("admin:customers_importjob_add"))

    assert listing.status_code == 200
    assert "orders.csv" in listing.content.decode()
    assert reverse("customers:import_progress", args=[job.pk]) in listing.content.decode()
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert add.status_code == 403

"""Uploads cannot hold a worker: oversized headers and lines are refused at once, with a
reason, the header check is linear, and the preview is stored and shown cut to size."""
import csv
import io
import random
import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from customers.imports import purchases, reading
from customers.imports.contacts import contacts_import_csv
from customers.imports.purchases import purchases_import_csv
from customers.imports.reading import ImportRefused
from customers.imports.retention import import_jobs_forget
from customers.models import ImportJob, Purchase

pytestmark = pytest.mark.django_db

HEADER = "email,purchased_at,amount,currency"
ROW = "ann@example.com,2025-03-01,10.00,USD"
# 1M columns in 7.9 MB on one line: the shape that kept a worker busy without end.
MILLION_COLUMNS = ",".join(f"c{i}" for i in range(1_000_000)).encode()
# Measured on the shared 2-core test machine: the upload 0.2-0.4 s (mostly the multipart
# body), the importers 0.01 s; the old code never finished.
QUICK = 1.0


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.CRM_IMPORT_DIR = tmp_path / "imports"
    return settings.CRM_IMPORT_DIR


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def upload(client, data: bytes, *, kind="purchases"):
    return client.post(reverse("customers:import_list"), {
        "kind": kind, "file": SimpleUploadedFile("orders.csv", data, content_type="text/csv"),
        "source": "csv", "skip_invalid": "on"})


def refusal(**import_args) -> str:
    with pytest.raises(ImportRefused) as refused:
        purchases_import_csv(**import_args)
    return str(refused.value)


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    outcome = function(*args, **kwargs)
    return outcome, time.perf_counter() - started


# --- A huge header --------------------------------------------------------------------------

def test_million_column_header_is_refused_by_the_upload_at_once(manager_client, import_dir):
    assert len(MILLION_COLUMNS) > 7_800_000
    upload(manager_client, b"email\n")  # templates and translations loaded: time the file only

    response, elapsed = timed(upload, manager_client, MILLION_COLUMNS + b"\n" + ROW.encode())

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The header line is longer than 65536 bytes: it should only name the columns, at "
        "most 100 of them. Nothing was imported."]
    assert elapsed < QUICK
    assert (ImportJob.objects.count(), list(import_dir.iterdir())) == (0, [])


@pytest.mark.parametrize("command", ["import_purchases", "import_contacts"])
def test_million_column_header_is_refused_by_the_commands_at_once(tmp_path, command):
    path = tmp_path / "wide.csv"
    path.write_bytes(MILLION_COLUMNS)  # not even a line end

    started = time.perf_counter()
    with pytest.raises(CommandError) as refused:
        call_command(command, str(path), stdout=io.StringIO(), stderr=io.StringIO())
    elapsed = time.perf_counter() - started

    assert str(refused.value).startswith("The header line is longer than 65536 bytes")
    assert elapsed < QUICK
    assert Purchase.objects.count() == 0


def test_million_column_header_is_refused_by_the_service_at_once():
    message, elapsed = timed(refusal, file=io.BytesIO(MILLION_COLUMNS + b"\n"))

    assert message.startswith("The header line is longer than 65536 bytes")
    assert elapsed < QUICK


def test_million_column_header_in_a_text_stream_is_refused_at_once():
    text = io.StringIO(MILLION_COLUMNS.decode() + "\n" + ROW + "\n", newline="")

    started = time.perf_counter()
    with pytest.raises(ImportRefused, match="The header line is longer than 65536 bytes"):
        contacts_import_csv(file=text)

    assert time.perf_counter() - started < QUICK
    assert text.tell() < 70_000  # the line was not read to its end


def test_sixty_thousand_columns_are_refused_at_once():
    wide = ",".join(f"c{i}" for i in range(60_000)).encode()  # 400 KB: over the line limit

    message, elapsed = timed(refusal, file=io.BytesIO(wide + b"\n" + ROW.encode()))

    assert message.startswith("The header line is longer than 65536 bytes")
    assert elapsed < QUICK


def test_more_columns_than_the_limit_are_refused_with_their_number():
    unnamed = b"," * 59_999  # 60,000 columns in 59,999 bytes: under the line limit

    message, elapsed = timed(refusal, file=io.BytesIO(unnamed + b"\n"))

    assert message == ("The header line has 60000 columns; at most 100 are allowed, and this "
                       "import knows only email, purchased_at, amount, currency, external_id, "
                       "first_name, last_name, channel, quantity, code. Nothing was imported.")
    assert elapsed < QUICK


def test_rows_given_as_dicts_obey_the_column_limit_too():
    row = {f"c{i}": "x" for i in range(101)}

    with pytest.raises(ImportRefused, match="The header line has 101 columns; at most 100"):
        purchases.purchases_import_rows(rows=[row], source="api")


# --- The header check: linear, and its reason short -----------------------------------------

def test_repeated_columns_are_found_among_many_in_linear_time(settings):
    settings.CRM_IMPORT_MAX_COLUMNS = 100_000
    settings.CRM_IMPORT_MAX_LINE_BYTES = 1 << 20
    # 60,000 columns, all repeated: the old check counted each name over the whole header.
    header = ",".join(["email", "purchased_at", "amount", "currency"] * 15_000).encode()

    message, elapsed = timed(refusal, file=io.BytesIO(header + b"\n"))

    assert message == ("The header line is not right (repeated columns: amount, currency, "
                       "email, purchased_at). Allowed columns: email, purchased_at, amount, "
                       "currency, external_id, first_name, last_name, channel, quantity, code. "
                       "Nothing was imported.")
    assert elapsed < QUICK


def test_many_unknown_and_repeated_columns_are_named_briefly(settings):
    settings.CRM_IMPORT_MAX_COLUMNS = 100_000
    settings.CRM_IMPORT_MAX_LINE_BYTES = 1 << 20
    unknown = [f"extra_{i}" for i in range(30_000)]
    header = ",".join([HEADER, "x" * 500, *unknown, *unknown]).encode()

    message, elapsed = timed(refusal, file=io.BytesIO(header + b"\n"))

    assert message == (
        "The header line is not right (unknown columns: " + "x" * 40 + "…, "
        + ", ".join(unknown[:9]) + " and 59991 more; repeated columns: "
        + ", ".join(sorted(unknown)[:10]) + " and 29990 more). Allowed columns: email, "
        "purchased_at, amount, currency, external_id, first_name, last_name, channel, "
        "quantity, code. Nothing was imported.")
    assert elapsed < QUICK


def test_a_repeated_column_is_still_refused():
    message = refusal(file=io.BytesIO(f"{HEADER},Email\n{ROW},ann@example.com\n".encode()))

    assert message.startswith("The header line is not right (repeated columns: email).")


# --- Just under the limits ------------------------------------------------------------------

def test_header_with_as_many_columns_as_the_limit_imports(settings):
    settings.CRM_IMPORT_MAX_COLUMNS = 5

    result = purchases_import_csv(file=io.BytesIO(
        f"{HEADER},external_id\n{ROW},A-1\n".encode()))

    assert (result.imported, result.purchases_created) == (True, 1)


def test_header_with_one_column_more_than_the_limit_is_refused(settings):
    settings.CRM_IMPORT_MAX_COLUMNS = 4

    message = refusal(file=io.BytesIO(f"{HEADER},external_id\n{ROW},A-1\n".encode()))

    assert message.startswith("The header line has 5 columns; at most 4 are allowed")


@pytest.mark.parametrize("block", [16, 1 << 20])  # lines across read blocks, and within one
def test_line_as_long_as_the_limit_imports_and_one_byte_more_is_refused(
        settings, monkeypatch, block):
    monkeypatch.setattr(reading, "_READ_BYTES", block)
    settings.CRM_IMPORT_MAX_LINE_BYTES = 120
    header = f"{HEADER},first_name\r\n"
    padded = f"{ROW},{'n' * (120 - len(ROW) - 1)}\r\n"  # 120 bytes and CRLF
    assert len(padded) == 122

    result = purchases_import_csv(file=io.BytesIO((header + padded * 3).encode()))
    message = refusal(file=io.BytesIO((header + padded + padded.replace(",n", ",nn")).encode()))

    assert (result.imported, result.rows_read) == (True, 3)
    assert message.startswith("Line 3 is longer than 120 bytes")


def test_long_line_far_into_a_file_is_refused_naming_it(settings, monkeypatch):
    monkeypatch.setattr(reading, "_READ_BYTES", 4096)
    settings.CRM_IMPORT_MAX_LINE_BYTES = 1000
    rows = "".join(f"u{i}@example.com,2025-03-01,1,USD\n" for i in range(2000))  # 16 blocks

    message = refusal(file=io.BytesIO(
        f"{HEADER}\n{rows}{ROW},{'x' * 2000}\n{ROW}\n".encode()))

    assert message == ("Line 2002 is longer than 1000 bytes, far longer than any row of an "
                       "import: the file is probably damaged or not the one meant. Nothing was "
                       "imported.")


@pytest.mark.parametrize("limit", [1, 2, 7, 10, 33])
def test_line_length_check_agrees_with_measuring_every_line(limit):
    rng = random.Random(limit)
    for _attempt in range(400):
        chunk = b"".join(rng.choice([b"a", b"b", b"\n", b"\r\n", b"\r"]) if rng.random() < 0.3
                         else b"x" * rng.randrange(limit * 2) for _ in range(rng.randrange(12)))
        longest = max(map(len, re.split(rb"\r\n|\r|\n", chunk)))

        try:
            reading._check_line_lengths(chunk, 0, limit)
        except ImportRefused:
            assert longest > limit, chunk
        else:
            assert longest <= limit, chunk


def test_old_mac_line_ends_still_import(settings, monkeypatch):
    monkeypatch.setattr(reading, "_READ_BYTES", 64)
    settings.CRM_IMPORT_MAX_LINE_BYTES = 100
    rows = "".join(f"u{i}@example.com,2025-03-01,1,USD\r" for i in range(50))

    result = purchases_import_csv(file=io.BytesIO(f"{HEADER}\r{rows}".encode()))

    assert (result.imported, result.purchases_created) == (True, 50)


# --- The preview ----------------------------------------------------------------------------

def test_preview_stores_only_the_header_columns_and_short_cells(manager_client):
    wide_row = ROW + "," * 30_000  # 30,000 more empty cells, within the line limit
    data = f"{HEADER}\n{'x' * 5000},2025-03-01,{'1' * 3000},USD\n{wide_row}\n".encode()

    upload(manager_client, data)

    job = ImportJob.objects.get()
    assert job.preview["header"] == ["email", "purchased_at", "amount", "currency"]
    assert job.preview["rows"] == [
        ["x" * 80 + "…", "2025-03-01", "1" * 80 + "…", "USD"],
        ROW.split(","),
    ]
    assert job.preview["errors"][1] == [
        3, "ann@example.com", ["The row has 30004 fields; the header has 4."]]


def test_preview_page_shows_at_most_the_capped_preview(manager_client):
    # A preview stored before the limits existed: every cell of a 1000-cell row, 50 rows.
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.PURCHASES, original_name="old.csv", status=ImportJob.Status.PREVIEWED,
        preview={"header": HEADER.split(","), "mapping": [[n, n] for n in HEADER.split(",")],
                 "absent": [], "counts": {}, "errors": [],
                 "rows": [["<b>" + "y" * 100] * 1000] * 50})  # 5 MB of page before

    page = manager_client.get(reverse("customers:import_preview", args=[job.pk]))

    html = page.content.decode()
    assert html.count("&lt;b&gt;" + "y" * 77 + "…</td>") == 10 * 4
    assert "y" * 78 not in html
    assert len(page.content) < 40_000


# --- The rejected-rows report ---------------------------------------------------------------

FORMULAS = ('=HYPERLINK("http://x","y")', "@SUM(A1)")


def report_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def hostile_rows(tail: str) -> str:
    """One row per formula, the formula in the email column (quoted for CSV)."""
    return "".join(f'"{value.replace(chr(34), chr(34) * 2)}",{tail}\n' for value in FORMULAS)


def test_purchases_report_writes_formulas_as_text():
    report = io.StringIO()

    purchases_import_csv(file=io.BytesIO(f"{HEADER}\n{hostile_rows('2025-03-01,1,USD')}"
                                         .encode()), skip_invalid=True, errors_file=report)

    rows = report_rows(report.getvalue())
    assert [row[:2] for row in rows] == [
        ["line", "email"], ["2", "'" + FORMULAS[0]], ["3", "'" + FORMULAS[1]]]
    assert rows[1][2] == "'" + FORMULAS[0] + " is not a valid email address."


def test_contacts_report_writes_formulas_as_text():
    report = io.StringIO()

    contacts_import_csv(file=io.BytesIO(f"email,first_name\n{hostile_rows('Ann')}".encode()),
                        skip_invalid=True, errors_file=report)

    assert [row[1] for row in report_rows(report.getvalue())] == [
        "email", "'" + FORMULAS[0], "'" + FORMULAS[1]]


def test_report_rewritten_on_erasure_keeps_formulas_as_text(import_dir):
    import_dir.mkdir()
    path = import_dir / "job-rejected.csv"
    data = f"{HEADER}\nann@example.com,2025-13-01,1,USD\n{hostile_rows('2025-03-01,1,USD')}"
    with path.open("w", newline="", encoding="utf-8") as report:
        purchases_import_csv(file=io.BytesIO(data.encode()), skip_invalid=True,
                             errors_file=report)
    ImportJob.objects.create(kind=ImportJob.Kind.PURCHASES, original_name="a.csv",
                             report_path=str(path))

    assert import_jobs_forget("ann@example.com") == 1

    rows = report_rows(path.read_text(encoding="utf-8"))
    assert [row[:2] for row in rows] == [
        ["line", "email"], ["3", "'" + FORMULAS[0]], ["4", "'" + FORMULAS[1]]]

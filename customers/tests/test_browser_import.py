"""In real Chromium: a manager uploads a CSV, reads the preview, starts the import and gets
the report of rejected rows."""
import pytest

from crm.tests.browser import follow, log_in, screenshot
from customers.models import Purchase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = ("email,purchased_at,amount,currency,external_id\n"
       "ann@example.com,2025-03-01,10.00,USD,A-1\n"
       "bob@example.com,2025-03-02,-5,USD,B-1\n")


def test_manager_imports_a_file_and_downloads_the_rejected_rows(page, manager, settings,
                                                                tmp_path):
    settings.CRM_IMPORT_DIR = tmp_path / "imports"
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")

    log_in(page, "marta")
    follow(page, page.get_by_role("link", name="Imports"))
    page.get_by_label("What the file contains").select_option("purchases")
    page.get_by_label("CSV file (UTF-8)").set_input_files(str(path))
    follow(page, page.get_by_role("button", name="Upload and preview"))

    assert page.get_by_test_id("import-counts").locator("[data-count=created]").inner_text() == "1"
    assert page.get_by_test_id("import-counts").locator("[data-count=rejected]").inner_text() == "1"
    assert page.get_by_test_id("import-rows").locator("tbody tr").count() == 2
    screenshot(page, "import-preview")
    follow(page, page.get_by_test_id("import-start"))

    bar = page.get_by_role("progressbar")
    page.wait_for_function(
        "document.getElementById('import-progress').getAttribute('aria-valuenow') === '100'")
    assert bar.inner_text() == "100%"
    with page.expect_download() as download:
        page.get_by_test_id("import-report").click()
    report = download.value.path().read_text(encoding="utf-8")
    assert report.splitlines()[0] == "line,email,reasons"
    assert report.splitlines()[1].startswith("3,bob@example.com,")
    assert Purchase.objects.count() == 1
    screenshot(page, "import-done")

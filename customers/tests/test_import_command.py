"""`manage.py import_purchases`: exit codes, the summary people read, the errors file."""
import csv
import io

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line

from customers.models import Contact, Purchase

pytestmark = pytest.mark.django_db

HEADER = "email,purchased_at,amount,currency,external_id\n"
GOOD = "ann@example.com,2025-03-01,10.00,USD,A-1\nbob@example.com,2025-03-02,5,USD,B-1\n"
BAD = "bad,2025-03-01,10.00,USD,C-1\ncem@example.com,2025-03-01,-1,USD,C-2\n"


@pytest.fixture
def csv_file(tmp_path):
    def csv_file(body: str):
        path = tmp_path / "purchases.csv"
        path.write_text(HEADER + body, encoding="utf-8")
        return path
    return csv_file


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_purchases", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def exit_code(*args) -> int:
    try:
        execute_from_command_line(["manage.py", "import_purchases", *map(str, args)])
    except SystemExit as exit:
        return exit.code
    return 0


def test_clean_file_prints_a_summary(csv_file):
    out, err = run(csv_file(GOOD))

    assert out == ("Rows read: 2 (valid: 2, with errors: 0).\n"
                   "Imported: 2 new purchases, 0 already recorded, 0 duplicate rows; "
                   "2 new contacts.\n")
    assert err == ""


def test_rerun_reports_purchases_already_recorded(csv_file):
    path = csv_file(GOOD)
    run(path)

    out, _err = run(path)

    assert "Imported: 0 new purchases, 2 already recorded, 0 duplicate rows; 0 new contacts." in out


def test_file_with_errors_imports_nothing_and_says_why(csv_file):
    with pytest.raises(CommandError) as failed:
        run(csv_file(GOOD + BAD))

    assert str(failed.value) == ("Nothing was imported: 2 rows have errors. Fix them, or use "
                                 "--skip-invalid to import the 2 valid rows.")
    assert Purchase.objects.count() == 0


def test_errors_are_listed_with_line_and_email(csv_file):
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_purchases", str(csv_file(GOOD + BAD)), stdout=io.StringIO(),
                     stderr=err)

    assert err.getvalue() == (
        "Line 4 (bad): bad is not a valid email address.\n"
        "Line 5 (cem@example.com): Amount cannot be negative; record a refund instead.\n")


def test_skip_invalid_imports_the_good_rows_and_warns(csv_file):
    out, err = run(csv_file(GOOD + BAD), "--skip-invalid")

    assert out == ("Rows read: 4 (valid: 2, with errors: 2).\n"
                   "Imported: 2 new purchases, 0 already recorded, 0 duplicate rows; "
                   "2 new contacts.\n"
                   "2 rows with errors were skipped.\n")
    assert err.count("\n") == 2
    assert Purchase.objects.count() == 2


def test_source_option(csv_file):
    run(csv_file(GOOD), "--source", "shop")

    assert set(Purchase.objects.values_list("source", flat=True)) == {"shop"}


def test_errors_file_gets_every_error_as_csv(csv_file, tmp_path):
    report = tmp_path / "errors.csv"

    with pytest.raises(CommandError):
        run(csv_file(GOOD + BAD), "--errors-file", report)

    with report.open(newline="", encoding="utf-8") as opened:
        assert list(csv.reader(opened)) == [
            ["line", "email", "reasons"],
            ["4", "bad", "bad is not a valid email address."],
            ["5", "cem@example.com", "Amount cannot be negative; record a refund instead."],
        ]


def test_unwritable_errors_file_is_a_command_error(csv_file, tmp_path):
    with pytest.raises(CommandError, match="^Cannot write .*missing/errors.csv: No such file"):
        run(csv_file(GOOD), "--errors-file", tmp_path / "missing" / "errors.csv")
    assert Purchase.objects.count() == 0


def test_long_error_lists_are_cut_on_screen(csv_file):
    bad_rows = "".join(f"bad{i},2025-03-01,1,USD,X-{i}\n" for i in range(25))
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_purchases", str(csv_file(bad_rows)), stdout=io.StringIO(),
                     stderr=err)

    lines = err.getvalue().splitlines()
    assert len(lines) == 21
    assert lines[-1] == "… and 5 more rows with errors. Use --errors-file to see all."


def test_refused_file_is_a_command_error(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + "ayse@example.com,2025-03-01,1,USD,Ayşe\n").encode("iso8859_9"))

    with pytest.raises(CommandError, match="^Line 2 is not valid UTF-8"):
        run(path)
    assert Contact.objects.count() == 0


def test_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="^No such file: "):
        run(tmp_path / "nope.csv")


def test_progress_is_shown_at_verbosity_2(csv_file):
    _out, err = run(csv_file(GOOD), "--verbosity", "2")

    assert err == "2 rows read…\n"


def test_exit_code_is_0_when_imported(csv_file):
    assert exit_code(csv_file(GOOD)) == 0


def test_exit_code_is_0_when_invalid_rows_were_skipped(csv_file):
    assert exit_code(csv_file(GOOD + BAD), "--skip-invalid") == 0


def test_exit_code_is_1_when_rows_have_errors(csv_file):
    assert exit_code(csv_file(GOOD + BAD)) == 1


def test_exit_code_is_1_when_the_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    assert exit_code(path) == 1

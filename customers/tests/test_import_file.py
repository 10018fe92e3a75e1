"""Purchase import: what the file itself must be (UTF-8, CSV, the right header)."""
import io

import pytest

from customers.imports import reading
from customers.imports.purchases import purchases_import_csv
from customers.imports.reading import ImportRefused
from customers.models import Contact, Purchase

pytestmark = pytest.mark.django_db

HEADER = "email,purchased_at,amount,currency,first_name\n"
ROW = "ann@example.com,2025-03-01,10.00,USD,Ann\n"


def write_bytes(tmp_path, data: bytes):
    path = tmp_path / "purchases.csv"
    path.write_bytes(data)
    return path


def assert_nothing_imported():
    assert (Contact.objects.count(), Purchase.objects.count()) == (0, 0)


def test_utf8_with_bom_is_accepted(tmp_path):
    path = write_bytes(tmp_path, b"\xef\xbb\xbf" + (HEADER + "ayse@example.com,2025-03-01,1,USD,"
                                                    "Ayşe\n").encode())

    result = purchases_import_csv(file=path)

    assert result.purchases_created == 1
    assert Contact.objects.get().first_name == "Ayşe"


def test_latin_file_is_refused_naming_the_line(tmp_path):
    text = HEADER + ROW + "ayse@example.com,2025-03-02,1,USD,Ayşe Çelik\n"
    path = write_bytes(tmp_path, text.encode("cp1254"))

    with pytest.raises(ImportRefused) as refused:
        purchases_import_csv(file=path, skip_invalid=True)

    assert str(refused.value) == (
        "Line 3 is not valid UTF-8: the file was probably saved in another encoding (such as "
        "Latin-1 or Windows-1254). Save it as UTF-8 (CSV UTF-8) and import it again. Nothing "
        "was imported.")
    assert_nothing_imported()


def test_bad_byte_far_into_the_file_is_traced_to_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "_READ_BYTES", 64)  # many blocks, lines across blocks
    rows = "".join(f"c{i}@example.com,2025-03-01,1,USD,Name{i}\n" for i in range(40))
    path = write_bytes(tmp_path, (HEADER + rows).encode() + b"x@example.com,2025-03-01,1,USD,"
                       b"\xfe\n")

    with pytest.raises(ImportRefused, match="^Line 42 is not valid UTF-8"):
        purchases_import_csv(file=path, skip_invalid=True)
    assert_nothing_imported()


def test_small_blocks_read_the_same_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "_READ_BYTES", 7)
    rows = "".join(f"c{i}@example.com,2025-03-01,1,USD,Şule {i}\n" for i in range(30))

    result = purchases_import_csv(file=write_bytes(tmp_path, (HEADER + rows).encode()))

    assert result.purchases_created == 30
    assert Contact.objects.filter(first_name="Şule 7").exists()


def test_utf16_file_is_refused(tmp_path):
    path = write_bytes(tmp_path, (HEADER + ROW).encode("utf-16"))

    with pytest.raises(ImportRefused, match="^The file is UTF-16"):
        purchases_import_csv(file=path)


def test_windows_line_endings_and_quoted_newlines_are_read(tmp_path):
    data = (HEADER.replace("\n", "\r\n") + 'ann@example.com,2025-03-01,1,USD,"Ann\r\nMarie"\r\n'
            "bob@example.com,2025-03-01,2,USD,Bob\r\n")

    result = purchases_import_csv(file=write_bytes(tmp_path, data.encode()))

    assert result.purchases_created == 2
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == [
        "Ann\r\nMarie", "Bob"]


def test_error_lines_count_physical_lines(tmp_path):
    data = HEADER + 'ann@example.com,2025-03-01,1,USD,"two\nlines"\nbad,2025-03-01,1,USD,\n'

    result = purchases_import_csv(file=write_bytes(tmp_path, data.encode()))

    assert [line for line, _email, _reasons in result.errors] == [4]


def test_unclosed_quote_refuses_the_file_naming_the_line(tmp_path):
    data = HEADER + ROW + 'bob@example.com,2025-03-01,1,USD,"Bob\n' + ROW

    with pytest.raises(ImportRefused, match="^Line 3 is not valid CSV"):
        purchases_import_csv(file=write_bytes(tmp_path, data.encode()), skip_invalid=True)
    assert_nothing_imported()


def test_empty_file_is_refused(tmp_path):
    with pytest.raises(ImportRefused, match="^The file is empty"):
        purchases_import_csv(file=write_bytes(tmp_path, b""))


def test_bom_only_file_is_refused_as_empty(tmp_path):
    with pytest.raises(ImportRefused, match="^The file is empty"):
        purchases_import_csv(file=write_bytes(tmp_path, b"\xef\xbb\xbf"))


def test_missing_required_column_is_refused_before_anything(tmp_path):
    path = write_bytes(tmp_path, b"email,purchased_at,amount\nann@example.com,2025-03-01,1\n")

    with pytest.raises(ImportRefused) as refused:
        purchases_import_csv(file=path)

    assert str(refused.value) == (
        "The header line is not right (missing required columns: currency). Allowed columns: "
        "email, purchased_at, amount, currency, external_id, first_name, last_name, channel, "
        "quantity, code. Nothing was imported.")
    assert_nothing_imported()


def test_unknown_column_is_refused_so_no_data_is_silently_dropped(tmp_path):
    path = write_bytes(tmp_path, b"email,purchased_at,amount,currency,frist_name\n"
                                 b"ann@example.com,2025-03-01,1,USD,Ann\n")

    with pytest.raises(ImportRefused, match=r"\(unknown columns: frist_name\)"):
        purchases_import_csv(file=path)
    assert_nothing_imported()


def test_unnamed_and_repeated_columns_are_refused(tmp_path):
    path = write_bytes(tmp_path, b"email,purchased_at,amount,currency,email,\n")

    with pytest.raises(ImportRefused,
                       match=r"\(column 6 has no name; repeated columns: email\)"):
        purchases_import_csv(file=path)


def test_header_names_are_trimmed_and_case_insensitive(tmp_path):
    path = write_bytes(tmp_path, b" EMAIL ,Purchased_At,Amount ,CURRENCY\n"
                                 b"ann@example.com,2025-03-01,1,USD\n")

    assert purchases_import_csv(file=path).purchases_created == 1


def test_columns_may_come_in_any_order(tmp_path):
    path = write_bytes(tmp_path, b"currency,amount,last_name,email,purchased_at\n"
                                 b"TLX,2,Lee,ann@example.com,2025-03-01\n"
                                 b"USD,3,Lee,bob@example.com,2025-03-01\n")

    result = purchases_import_csv(file=path, skip_invalid=True)

    assert result.errors == [(2, "ann@example.com", [
        "Unknown currency TLX: use an ISO 4217 code such as USD, EUR or TRY."])]
    assert list(Purchase.objects.values_list("contact__email", "contact__last_name",
                                             "amount")) == [("bob@example.com", "Lee", 3)]


def test_binary_file_object_is_read_and_left_open(tmp_path):
    stream = io.BytesIO((HEADER + ROW).encode())

    result = purchases_import_csv(file=stream)

    assert (result.purchases_created, stream.closed) == (1, False)


def test_text_file_object_is_read(tmp_path):
    result = purchases_import_csv(file=io.StringIO("\ufeff" + HEADER + ROW, newline=""))

    assert result.purchases_created == 1

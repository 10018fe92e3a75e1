"""Orders and their lines as two files: `manage.py import_purchases --lines`, the importer's
lines_file, and the same rules as a file with products (customers.imports.purchase_lines)."""
import csv
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from customers.admin.lines import export_lines_csv
from customers.imports.purchases import purchases_import_csv
from customers.imports.reading import ImportRefused
from customers.models import Product, Purchase, PurchaseLine
from customers.services.lines import MAX_LINES

pytestmark = pytest.mark.django_db

ORDERS = ("external_id,email,purchased_at,currency,amount\n"
          "A-1,ann@example.com,2026-03-02T10:00:00Z,USD,45.00\n"
          "B-7,bob@example.com,2026-03-03T10:00:00Z,USD,\n"
          "C-3,cem@example.com,2026-03-04T10:00:00Z,USD,9.99\n")
LINES = ("order_id,sku,product,category,quantity,unit_price,discount\n"
         "A-1,TEA-1,Green tea,Tea,2,12.50,\n"
         "B-7,TEA-1,Green tea,Tea,1,12.50,\n"
         "A-1,CHEESE,Aged cheese,Deli,1.250,20.00,5.00\n")


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.CRM_BASE_CURRENCY = "USD"


def _import(orders: str, lines: str, **options):
    return purchases_import_csv(file=io.BytesIO(orders.encode()),
                                lines_file=io.BytesIO(lines.encode()),
                                lines_name="lines.csv", **options)


def _lines():
    return sorted((line.purchase.external_id, line.product.sku, line.quantity, line.total)
                  for line in PurchaseLine.objects.select_related("purchase", "product"))


def test_lines_join_their_orders_by_external_id():
    result = _import(ORDERS, LINES)

    assert result.imported, result.errors
    assert (result.rows_read, result.purchases_created) == (3, 3)
    assert _lines() == [("A-1", "CHEESE", Decimal("1.25"), Decimal("20")),
                        ("A-1", "TEA-1", Decimal(2), Decimal(25)),
                        ("B-7", "TEA-1", Decimal(1), Decimal("12.5"))]
    amounts = dict(Purchase.objects.values_list("external_id", "amount"))
    assert amounts == {"A-1": Decimal(45), "B-7": Decimal("12.5"), "C-3": Decimal("9.99")}
    assert Purchase.objects.get(external_id="A-1").quantity == 3
    assert Product.objects.count() == 2


def test_the_same_as_one_file_with_products():
    single = ("email,purchased_at,currency,external_id,amount,sku,product,category,quantity,"
              "unit_price,discount\n"
              "ann@example.com,2026-03-02T10:00:00Z,USD,A-1,45.00,TEA-1,Green tea,Tea,2,12.50,\n"
              "ann@example.com,2026-03-02T10:00:00Z,USD,A-1,,CHEESE,Aged cheese,Deli,1.250,"
              "20.00,5.00\n"
              "bob@example.com,2026-03-03T10:00:00Z,USD,B-7,,TEA-1,Green tea,Tea,1,12.50,\n")
    purchases_import_csv(file=io.BytesIO(single.encode()), source="one")
    _import(ORDERS.rsplit("C-3", 1)[0], LINES, source="two")

    def state(source):
        return sorted((p.external_id, p.amount, p.quantity, p.amount_base,
                       tuple(sorted(p.lines.values_list("product__sku", "quantity", "total"))))
                      for p in Purchase.objects.filter(source=source))
    assert state("one") == state("two")


def test_a_reimport_adds_nothing():
    _import(ORDERS, LINES)

    again = _import(ORDERS, LINES)

    assert again.imported and again.purchases_created == 0
    assert PurchaseLine.objects.count() == 3


def _reasons(result) -> list[tuple[int, str]]:
    return [(line, " ".join(reasons)) for line, _email, reasons in result.errors]


def test_bad_rows_are_named_by_file_and_line_and_nothing_is_imported():
    lines = LINES + ("Z-9,TEA-1,Green tea,Tea,1,12.50,\n"  # line 5: no such order
                     "C-3,MUG,Mug,Kitchen,1,5.00,\n"  # C-3 says 9.99: lines say 5.00
                     "B-7,SPOON,Spoon,,-1,2.00,\n")  # line 7: a bad quantity

    result = _import(ORDERS, lines)

    assert not result.imported and Purchase.objects.count() == 0
    reasons = dict(_reasons(result))
    assert reasons[5] == "lines.csv, line 5: order Z-9 is not in the orders file."
    assert reasons[7].startswith("lines.csv, line 7: Line 7: the quantity must be above zero")
    assert "The lines add up to 5.00 but the purchase's amount is 9.99" in reasons[4]
    assert (result.rows_read, result.rows_invalid) == (4, 3)


def test_skip_invalid_imports_the_good_orders_only():
    lines = LINES + "Z-9,TEA-1,Green tea,Tea,1,12.50,\nC-3,MUG,Mug,,1,5.00,\n"

    result = _import(ORDERS, lines, skip_invalid=True)

    assert result.imported
    assert sorted(Purchase.objects.values_list("external_id", flat=True)) == ["A-1", "B-7"]


def test_an_order_given_twice_and_an_order_without_id_are_refused():
    orders = ORDERS + ("A-1,ann@example.com,2026-03-02T10:00:00Z,USD,45.00\n"
                       ",dan@example.com,2026-03-02T10:00:00Z,USD,1.00\n")

    reasons = dict(_reasons(_import(orders, LINES)))

    assert reasons[5] == "Order A-1 is given twice in the orders file (first on line 2)."
    assert reasons[6].startswith("An order needs its external_id")


def test_an_order_with_too_many_lines_is_refused_on_the_first_line_past_it():
    lines = LINES + "".join(f"C-3,SKU-{n},Thing,,1,0.01,\n" for n in range(MAX_LINES + 1))

    result = _import(ORDERS, lines)

    reasons = _reasons(result)
    past = 5 + MAX_LINES  # the header, three lines, then the order's 501st line
    assert (past, f"lines.csv, line {past}: order C-3 has more than {MAX_LINES} lines.") \
        in reasons
    assert not result.imported


@pytest.mark.parametrize(("lines", "message"), [
    ("order_id,sku,colour\nA-1,TEA,red\n", "lines.csv: The header line is not right"),
    ("sku,product,unit_price\nTEA,Tea,1.00\n", "lines.csv: the lines file needs one column"),
    ("", "lines.csv: the lines file is empty"),
    ("order_id,sku,unit_price\n" + "A-1," + "x" * 70000 + ",1.00\n",
     "lines.csv: Line 2 is longer than"),
    ("order_id," + ",".join(f"c{n}" for n in range(300)) + "\n",
     "lines.csv: The header line has 301 columns"),
])
def test_a_lines_file_refused_as_a_whole_is_named(lines, message):
    with pytest.raises(ImportRefused) as refused:
        _import(ORDERS, lines)

    assert str(refused.value).startswith(message), str(refused.value)
    assert Purchase.objects.count() == 0


def test_turkish_spreadsheets_with_decimal_commas():
    orders = ("external_id;email;purchased_at;currency;amount\n"
              "A-1;ayse@example.com;02.03.2026 10:00;TRY;1.234,50\n")
    lines = ("external_id;sku;product;category;quantity;unit_price;discount\n"
             "A-1;ÇAY;Rize çayı;İçecek;2;600,25;\n"
             "A-1;LOKUM;Lokum;Tatlı;0,5;70;1,00\n")

    result = _import(orders, lines, date_order="day-first")

    assert result.imported, result.errors
    purchase = Purchase.objects.get()
    assert purchase.amount == Decimal("1234.50")
    assert _lines() == [("A-1", "LOKUM", Decimal("0.5"), Decimal("34")),
                        ("A-1", "ÇAY", Decimal(2), Decimal("1200.50"))]


def test_the_files_may_write_decimals_each_their_own_way():
    lines = ("order_id;sku;product;quantity;unit_price\n"
             "A-1;TEA-1;Green tea;2;12,50\nA-1;CHEESE;Aged cheese;1,25;16,00\n"
             "B-7;TEA-1;Green tea;1;12,50\n")

    result = _import(ORDERS.rsplit("C-3", 1)[0], lines)

    assert result.imported, result.errors
    assert Purchase.objects.get(external_id="A-1").amount == Decimal(45)


def test_hostile_cells_are_stored_as_text_and_exported_safely():
    lines = ("order_id,sku,product,category,quantity,unit_price\n"
             'A-1,"=HYPERLINK(""http://evil.example"")",<script>alert(1)</script>,'
             "@SUM(A1),2,12.50\n"
             "A-1,CHEESE,+cmd|' /C calc'!A0,-Deli,1,20.00\n")
    orders = "external_id,email,purchased_at,currency\nA-1,ann@example.com,2026-03-02,USD\n"

    result = _import(orders, lines)

    assert result.imported, result.errors
    products = dict(Product.objects.values_list("sku", "name"))
    assert products['=HYPERLINK("http://evil.example")'] == "<script>alert(1)</script>"
    assert products["CHEESE"] == "+cmd|' /C calc'!A0"
    response = export_lines_csv(None, None, Purchase.objects.all())
    exported = [cell for row in csv.reader(io.StringIO(
        b"".join(response.streaming_content).decode("utf-8-sig"))) for cell in row]
    assert "'=HYPERLINK(\"http://evil.example\")" in exported
    assert "'+cmd|' /C calc'!A0" in exported and "'@SUM(A1)" in exported
    assert "<script>alert(1)</script>" in exported and "'-Deli" in exported


def test_the_command_takes_a_lines_file(tmp_path, capsys):
    orders, lines = tmp_path / "orders.csv", tmp_path / "order-lines.csv"
    orders.write_text(ORDERS)
    lines.write_text(LINES + "Z-9,TEA-1,Green tea,Tea,1,12.50,\n")

    with pytest.raises(CommandError):
        call_command("import_purchases", str(orders), "--lines", str(lines))
    assert "order-lines.csv, line 5: order Z-9 is not in the orders file." in \
        capsys.readouterr().err

    call_command("import_purchases", str(orders), "--lines", str(lines), "--skip-invalid")
    assert Purchase.objects.count() == 3 and PurchaseLine.objects.count() == 3
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_purchases", str(orders), "--lines", str(tmp_path / "nope.csv"))


# --- The browser upload: a second, optional file --------------------------------------------

@pytest.fixture
def import_dir(settings, tmp_path):
    settings.CRM_IMPORT_DIR = tmp_path / "imports"
    return settings.CRM_IMPORT_DIR


def _upload(client, orders: str, lines: str | None, **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    files = {"file": SimpleUploadedFile("orders.csv", orders.encode(), content_type="text/csv")}
    if lines is not None:
        files["lines_file"] = SimpleUploadedFile("order-lines.csv", lines.encode(),
                                                 content_type="text/csv")
    return client.post(reverse("customers:import_list"), {
        "kind": "purchases", "source": "csv", "skip_invalid": "on", **files, **fields})


def test_the_upload_takes_a_lines_file_previews_and_imports(
        client, manager, import_dir, django_capture_on_commit_callbacks):
    from django.urls import reverse

    from customers.models import ImportJob

    client.force_login(manager)
    response = _upload(client, ORDERS, LINES + "Z-9,TEA-1,Green tea,Tea,1,12.50,\n")

    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.status, job.lines_name) == (ImportJob.Status.PREVIEWED, "order-lines.csv")
    assert job.preview["counts"]["count_created"] == 3
    assert job.preview["errors"] == [
        [5, "", ["order-lines.csv, line 5: order Z-9 is not in the orders file."]]]
    page = client.get(reverse("customers:import_preview", args=[job.pk]))
    assert b"order-lines.csv" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("customers:import_start", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.count_created == 3
    assert PurchaseLine.objects.count() == 3
    assert job.lines_path == "" and not any(import_dir.glob("*-lines.csv"))  # deleted


def test_a_bad_lines_header_refuses_the_upload_and_keeps_nothing(client, manager, import_dir):
    from customers.models import ImportJob

    client.force_login(manager)
    response = _upload(client, ORDERS, "order_id,sku,colour\nA-1,TEA,red\n")

    assert response.status_code == 200
    assert "order-lines.csv: The header line is not right" in response.content.decode()
    assert not ImportJob.objects.exists() and not any(import_dir.iterdir())


def test_contacts_take_no_lines_file(client, manager, import_dir):
    client.force_login(manager)
    response = _upload(client, "email\nann@example.com\n", LINES, kind="contacts")

    assert "A lines file goes with purchases only" in response.content.decode()

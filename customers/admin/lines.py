"""Order lines on the purchase's admin page (read-only: lines go in through the purchase
service) and the product catalogue kept from them (read-only: orders keep it).

The lines are a read-only table on the purchase's page, not an inline formset: a formset would
make every post of the purchase form carry its management fields, and there is nothing to
edit in it."""
from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy

from crm.admin_tools import CSVColumn, ReadOnlyAdminMixin, csv_response, csv_rows, local_datetime

from ..models import Product, Purchase, PurchaseLine
from ..templatetags.money import money


@admin.display(description=gettext_lazy("products bought"))
def purchase_lines_table(purchase: Purchase) -> str:
    lines = list(purchase.lines.select_related("product").order_by("id")) if purchase.pk else []
    if not lines:
        return "—"
    rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                            "<td>{}</td><td>{}</td></tr>", (
        (line.product.sku, line.product.name, f"{line.quantity.normalize():f}",
         money(line.unit_price, purchase.currency), money(line.discount, purchase.currency),
         money(line.total, purchase.currency), f"{line.refunded_quantity.normalize():f}")
        for line in lines))
    return format_html(
        '<table data-testid="purchase-lines"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
        "<th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
        gettext_lazy("SKU"), gettext_lazy("Product"), gettext_lazy("Quantity"),
        gettext_lazy("Unit price"), gettext_lazy("discount"), gettext_lazy("line total"),
        gettext_lazy("quantity refunded"), rows)


class LineRefundsWidget(forms.Widget):
    """One quantity box per line of the purchase (`lines`, set by the form): its value is
    {line id: the quantity typed}, boxes left empty left out."""

    lines: list[PurchaseLine] = []
    currency = ""

    def value_from_datadict(self, data, files, name) -> dict[int, str]:
        typed = {line.pk: str(data.get(f"{name}_{line.pk}") or "").strip() for line in self.lines}
        return {pk: quantity for pk, quantity in typed.items() if quantity}

    def value_omitted_from_data(self, data, files, name) -> bool:
        return not any(f"{name}_{line.pk}" in data for line in self.lines)

    def render(self, name, value, attrs=None, renderer=None) -> str:
        value = value if isinstance(value, dict) else {}
        rows = format_html_join("", (
            '<tr><td>{}</td><td>{}</td><td>{}</td><td><input type="text" inputmode="decimal" '
            'name="{}" id="id_{}" value="{}" size="8" aria-label="{}" '
            'data-testid="refund-line-{}"{}></td></tr>'), (
            (line.product, f"{line.quantity.normalize():f}",
             f"{line.refunded_quantity.normalize():f}", f"{name}_{line.pk}", f"{name}_{line.pk}",
             value.get(line.pk, ""), line.product, line.product.sku,
             " disabled" if line.refunded_quantity >= line.quantity else "")
            for line in self.lines))
        return format_html(
            '<table data-testid="refund-lines"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext_lazy("Product"), gettext_lazy("Quantity"), gettext_lazy("quantity refunded"),
            gettext_lazy("Refund now"), rows)


class LineRefundsField(forms.Field):
    widget = LineRefundsWidget

    def to_python(self, value) -> dict[int, str]:
        return value if isinstance(value, dict) else {}


LINE_CSV_COLUMNS = (
    CSVColumn(gettext_lazy("purchase id"), "purchase_id"),
    CSVColumn(gettext_lazy("external id"), "purchase__external_id"),
    CSVColumn(gettext_lazy("contact email"), "purchase__contact__email"),
    CSVColumn(gettext_lazy("purchased at"), "purchase__purchased_at", local_datetime),
    CSVColumn(gettext_lazy("currency"), "purchase__currency"),
    CSVColumn(gettext_lazy("SKU"), "product__sku"),
    CSVColumn(gettext_lazy("product"), "product__name"),
    CSVColumn(gettext_lazy("category"), "product__category"),
    CSVColumn(gettext_lazy("quantity"), "quantity"),
    CSVColumn(gettext_lazy("unit price"), "unit_price"),
    CSVColumn(gettext_lazy("discount"), "discount"),
    CSVColumn(gettext_lazy("line total"), "total"),
    CSVColumn(gettext_lazy("line total in base currency"), "total_base"),
    CSVColumn(gettext_lazy("quantity refunded"), "refunded_quantity"),
)


@admin.action(description=gettext_lazy("Export the selected purchases' products to CSV"),
              permissions=["view"])
def export_lines_csv(modeladmin, request: HttpRequest,
                     queryset: QuerySet) -> StreamingHttpResponse:
    """One row per line of the selected purchases (the purchases' own export has one row per
    purchase)."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    lines = PurchaseLine.objects.filter(purchase__in=queryset.values("pk")).order_by(
        "purchase_id", "id")
    return csv_response(filename=f"purchase-lines-{stamp}.csv",
                        header=[str(column.header) for column in LINE_CSV_COLUMNS],
                        rows=csv_rows(lines, LINE_CSV_COLUMNS))


@admin.register(Product)
class ProductAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    deletable = False
    list_display = ("sku", "name", "category", "store", "updated_at")
    list_filter = ("store",)
    search_fields = ("sku", "name", "category")
    search_help_text = gettext_lazy("SKU, product name or category.")
    readonly_fields = ("store", "sku", "name", "category", "created_at", "updated_at")

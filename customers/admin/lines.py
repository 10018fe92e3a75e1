"""Order lines on the purchase's admin page (read-only: lines go in through the purchase
service) and the product catalogue kept from them (read-only: orders keep it).

The lines are a read-only table on the purchase's page, not an inline formset: a formset would
make every post of the purchase form carry its management fields, and there is nothing to
edit in it."""
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy

from crm.admin_tools import ReadOnlyAdminMixin

from ..models import Product, Purchase
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


@admin.register(Product)
class ProductAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    deletable = False
    list_display = ("sku", "name", "category", "store", "updated_at")
    list_filter = ("store",)
    search_fields = ("sku", "name", "category")
    search_help_text = gettext_lazy("SKU, product name or category.")
    readonly_fields = ("store", "sku", "name", "category", "created_at", "updated_at")

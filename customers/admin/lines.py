"""Order lines on the purchase's admin page (read-only: lines go in through the purchase
service) and the product catalogue kept from them (read-only: orders keep it)."""
from django.contrib import admin
from django.utils.translation import gettext_lazy

from crm.admin_tools import ReadOnlyAdminMixin

from ..models import Product, PurchaseLine


class PurchaseLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    deletable = False
    model = PurchaseLine
    fields = ("product", "quantity", "unit_price", "discount", "total", "total_base",
              "refunded_quantity")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = gettext_lazy("products bought")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(Product)
class ProductAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    deletable = False
    list_display = ("sku", "name", "category", "store", "updated_at")
    list_filter = ("store",)
    search_fields = ("sku", "name", "category")
    search_help_text = gettext_lazy("SKU, product name or category.")
    readonly_fields = ("store", "sku", "name", "category", "created_at", "updated_at")

"""Purchases in the admin: filters, the form (the services' rules, refunds), the list and its
refund action."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext

from crm.admin_tools import (
    CSVColumn,
    CSVExportMixin,
    FastCountAdminMixin,
    FastDateHierarchyMixin,
    cached_values_filter,
    local_datetime,
)

from .. import hooks
from ..channels import channel_label_clean
from ..forms import ChannelLabelInput
from ..models import CurrencyRate, Purchase
from ..money import base_currency
from ..scoring.freshness import scores_refresh_batch
from ..services.purchases import (
    purchase_clean,
    purchase_delete,
    purchase_record,
    purchase_update,
    purchases_delete,
)
from ..services.refunds import purchase_refund, refund_amount_check, refund_lines_check
from .common import add_service_errors, adopt, search_terms
from .lines import LineRefundsField, export_lines_csv, purchase_lines_table

PURCHASE_UPDATABLE_FIELDS = frozenset(
    {"contact", "purchased_at", "amount", "currency", "quantity", "channel_label", "code"}
)


class CurrencyFilter(admin.SimpleListFilter):
    # Offered from the rates table and the purchases waiting for a rate (a partial index):
    # a few rows, where SELECT DISTINCT over all purchases would read the whole table on every
    # page.
    title = gettext_lazy("currency")
    parameter_name = "currency"

    def lookups(self, request, model_admin):
        codes = {base_currency(), *CurrencyRate.objects.values_list("currency", flat=True),
                 *Purchase.objects.filter(amount_base__isnull=True).values_list(
                     "currency", flat=True).distinct()}
        return [(code, code) for code in sorted(codes)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(currency=self.value().upper())
        return queryset


class RefundedFilter(admin.SimpleListFilter):
    title = gettext_lazy("refunded")
    parameter_name = "refunded"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(refunded_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(refunded_at__isnull=True)
        return queryset


class PurchaseAdminForm(forms.ModelForm):
    refund_amount = forms.DecimalField(
        label=gettext_lazy("Refund now"), required=False, max_digits=14, decimal_places=3,
        help_text=gettext_lazy("An amount in the purchase's currency, refunded when you save. "
                               "Refunds add up; refunding the whole amount refunds the "
                               "purchase in full (it then stops counting)."))

    refund_lines = LineRefundsField(
        label=gettext_lazy("Refund products"), required=False,
        help_text=gettext_lazy("Quantities of the products bought, refunded when you save. "
                               "Without an amount above, the refund is worth what those "
                               "quantities cost; refunding every product in full refunds the "
                               "purchase in full."))

    class Meta:
        model = Purchase
        fields = ("contact", "purchased_at", "amount", "currency", "quantity", "channel_label",
                  "code", "source", "external_id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["refund_lines"].widget.lines = list(
                self.instance.lines.select_related("product").order_by("id"))

    # The shop's own label, any text (customers.channels maps it to the reporting channel).
    channel_label = forms.CharField(
        label=gettext_lazy("channel label"), required=False, widget=ChannelLabelInput(),
        help_text=gettext_lazy("The shop's own name for the channel (such as web, app or "
                               "Trendyol): it counts in the reporting channel the channel "
                               "mappings give it, or as other."))

    def clean_channel_label(self) -> str:
        return channel_label_clean(self.cleaned_data.get("channel_label"))

    def clean_refund_amount(self):
        amount = self.cleaned_data.get("refund_amount")
        if amount is None or not self.instance.pk:
            return None
        stored = Purchase.objects.get(pk=self.instance.pk)
        if stored.is_refunded:
            raise ValidationError(_("This purchase is refunded in full already."))
        try:
            return refund_amount_check(stored, amount)
        except ValidationError as error:
            raise ValidationError(error.messages) from None

    def clean_refund_lines(self) -> dict:
        lines = self.cleaned_data.get("refund_lines") or {}
        if not lines or not self.instance.pk:
            return {}
        stored = Purchase.objects.get(pk=self.instance.pk)
        if stored.is_refunded:
            raise ValidationError(_("This purchase is refunded in full already."))
        try:
            refund_lines_check(stored, lines)
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        return lines

    def clean(self) -> dict:
        cleaned = super().clean()
        if {"purchased_at", "amount", "currency"} <= cleaned.keys():
            # The service's own rules, so the admin shows the errors any other writer would get;
            # fields with errors are then left out of the model's constraint checks.
            try:
                values = purchase_clean(
                    purchased_at=cleaned["purchased_at"], amount=cleaned["amount"],
                    currency=cleaned["currency"],
                )
            except ValidationError as error:
                add_service_errors(self, error)
            else:
                cleaned["currency"] = values["currency"]
        self._check_external_id(cleaned)
        return cleaned

    def _check_external_id(self, cleaned: dict) -> None:
        if "external_id" not in self.fields:
            return
        external_id = (cleaned.get("external_id") or "").strip() or None
        cleaned["external_id"] = external_id
        source = cleaned.get("source")
        if external_id and source and Purchase.objects.filter(
            source=source, external_id=external_id
        ).exclude(pk=self.instance.pk).exists():
            self.add_error("external_id", _(
                "A purchase with this external id from this source is already recorded."))


@admin.register(Purchase)
class PurchaseAdmin(
    FastCountAdminMixin, FastDateHierarchyMixin, CSVExportMixin, admin.ModelAdmin
):
    form = PurchaseAdminForm
    list_display = ("purchased_at", "contact", "amount", "currency", "amount_base", "quantity",
                    "channel", "channel_label", "source", "refunded")
    list_filter = ("channel", CurrencyFilter,
                   cached_values_filter("source", gettext_lazy("source")), RefundedFilter)
    list_select_related = ("contact",)
    date_hierarchy = "purchased_at"
    autocomplete_fields = ("contact",)
    search_fields = ("external_id", "code", "contact__email")
    search_help_text = gettext_lazy("Exact external id or code, or the start of an email.")
    readonly_fields = ("channel", "purchased_on", "amount_base", "refunded_at", "refunded_amount",
                       "recorded_by", "created_at", "lines_table")
    fieldsets = (
        (None, {"fields": ("contact", "purchased_at", "amount", "currency", "quantity",
                           "channel_label", "channel", "code")}),
        (gettext_lazy("Origin"), {"fields": ("source", "external_id", "recorded_by")}),
        (gettext_lazy("Derived"),
         {"fields": ("purchased_on", "amount_base", "refunded_at", "created_at")}),
    )
    refund_fieldset = (gettext_lazy("Refund"), {"fields": ("refunded_amount", "refund_amount")})
    refund_lines_fieldset = (gettext_lazy("Refund"),
                             {"fields": ("refunded_amount", "refund_amount", "refund_lines")})
    lines_fieldset = (gettext_lazy("products bought"), {"fields": ("lines_table",)})
    actions = ("refund", "delete_selected", "export_csv", export_lines_csv)

    csv_filename_prefix = "purchases"
    csv_columns = (
        CSVColumn(gettext_lazy("id"), "pk"),
        CSVColumn(gettext_lazy("contact email"), "contact__email"),
        CSVColumn(gettext_lazy("purchased at"), "purchased_at", local_datetime),
        CSVColumn(gettext_lazy("amount"), "amount"),
        CSVColumn(gettext_lazy("currency"), "currency"),
        CSVColumn(gettext_lazy("amount in base currency"), "amount_base"),
        CSVColumn(gettext_lazy("items"), "quantity"),
        CSVColumn(gettext_lazy("channel"), "channel"),
        CSVColumn(gettext_lazy("channel label"), "channel_label"),
        CSVColumn(gettext_lazy("source"), "source"),
        CSVColumn(gettext_lazy("external id"), "external_id"),
        CSVColumn(gettext_lazy("code"), "code"),
        CSVColumn(gettext_lazy("refunded at"), "refunded_at", local_datetime),
        CSVColumn(gettext_lazy("amount refunded"), "refunded_amount"),
    )

    @admin.display(description=gettext_lazy("refunded"), boolean=True, ordering="refunded_at")
    def refunded(self, obj: Purchase) -> bool:
        return obj.is_refunded

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj and obj.lines.exists():
            return (*fieldsets, self.lines_fieldset, self.refund_lines_fieldset)
        return (*fieldsets, self.lines_fieldset, self.refund_fieldset) if obj else fieldsets

    def lines_table(self, obj: Purchase) -> str:
        return purchase_lines_table(obj)
    lines_table.short_description = purchase_lines_table.short_description  # type: ignore[attr-defined]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        # Where an order came from is its identity; a wrong one is deleted and recorded anew.
        return (*readonly, "source", "external_id") if obj else readonly

    def get_search_results(self, request, queryset, search_term):
        for term in search_terms(search_term):
            queryset = queryset.filter(
                Q(external_id=term) | Q(code=term) | Q(contact__email__startswith=term.lower())
            )
        return queryset, False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            # A fresh copy: purchase_update must see the old contact to refresh its figures.
            purchase = Purchase.objects.get(pk=obj.pk)
            changes = {f: data[f] for f in form.changed_data if f in PURCHASE_UPDATABLE_FIELDS}
            if changes:
                purchase = purchase_update(purchase=purchase, **changes)
                message = hooks.code_outcome_message(purchase.code_outcome)
                if message is not None:  # campaigns words what the changed code did
                    self.message_user(request, message.text)
            if data.get("refund_amount") or data.get("refund_lines"):
                purchase = purchase_refund(purchase=purchase,
                                                    amount=data.get("refund_amount"),
                                                    lines=data.get("refund_lines") or None)
        else:
            result = purchase_record(
                contact=data["contact"], purchased_at=data["purchased_at"], amount=data["amount"],
                currency=data["currency"], channel=data["channel_label"], quantity=data["quantity"],
                source=data["source"], external_id=data["external_id"], code=data["code"],
                recorded_by=request.user,
            )
            purchase = result.purchase
            if not result.created:
                self.message_user(request, _(
                    "This order was recorded meanwhile by someone else; nothing was added."),
                    messages.WARNING)
        adopt(obj, purchase.pk)

    def delete_model(self, request, obj):
        purchase_delete(purchase=obj)

    def delete_queryset(self, request, queryset):
        purchases_delete(purchases=queryset)

    @admin.action(description=gettext_lazy("Refund selected purchases"), permissions=["change"])
    def refund(self, request: HttpRequest, queryset: QuerySet) -> None:
        selected = queryset.count()
        to_refund = list(queryset.filter(refunded_at__isnull=True).order_by("pk"))
        with scores_refresh_batch():  # their contacts re-scored in chunks, not one by one
            for purchase in to_refund:
                purchase_refund(purchase=purchase)
        if to_refund:
            self.message_user(request, ngettext(
                "%(count)d purchase refunded.", "%(count)d purchases refunded.", len(to_refund),
            ) % {"count": len(to_refund)}, messages.SUCCESS)
        if selected > len(to_refund):
            skipped = selected - len(to_refund)
            self.message_user(request, ngettext(
                "%(count)d was refunded already and is unchanged.",
                "%(count)d were refunded already and are unchanged.", skipped,
            ) % {"count": skipped}, messages.INFO)

"""The managers' admin for contacts, purchases and currency rates.

Every write goes through customers.services, exactly as the dashboard's do, so a purchase
added, corrected, refunded or deleted here leaves the contact's derived figures (count, dates,
total, stage) right, and consent changes keep their timestamp.
"""
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext

from crm.admin_tools import (
    CSVColumn,
    CSVExportMixin,
    FastCountAdminMixin,
    FastDateHierarchyMixin,
    ReadOnlyAdminMixin,
    cached_values_filter,
    local_datetime,
)


from . import hooks, services
from .models import Contact, CurrencyRate, ImportJob, Purchase, Stage
from .money import base_currency, normalise_currency
from .normalise import normalise_email
from .owners import OWNER_REFUSED, eligible_owners, owner_choices
from .phones import normalise_phone
from .search import SearchFold, fold

# Recorded as the consent source when a manager changes consent here.
ADMIN_CONSENT_SOURCE = "admin"
INLINE_PURCHASES = 20
PURCHASE_UPDATABLE_FIELDS = frozenset(
    {"contact", "purchased_at", "amount", "currency", "quantity", "channel", "code"}
)


def _adopt(obj: Model, pk: int) -> None:
    """Make the admin's unsaved form object the row a service saved, for the admin's log."""
    obj.pk = pk
    obj._state.adding = False
    obj.refresh_from_db()


def _add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    for field, field_messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, field_messages)


# --- Search ---------------------------------------------------------------------------------

def _search_terms(search_term: str) -> list[str]:
    terms = []
    for term in smart_split(search_term):
        if term[:1] in "\"'" and term[-1:] == term[:1] and len(term) > 1:
            term = unescape_string_literal(term)
        if term.strip():
            terms.append(term.strip())
    return terms


def _contact_term(term: str) -> Q:
    # Emails are stored lower-case, so a lower-cased prefix LIKE can use the email index
    # (PostgreSQL adds a pattern-ops index for the unique column); names are matched anywhere.
    lowered = term.lower()
    if lowered.startswith("@"):
        return Q(email__endswith=lowered)
    if "@" in lowered:
        return Q(email__startswith=lowered)
    folded = fold(term)
    return (
        Q(email__startswith=lowered)
        | Q(first_folded__contains=folded)
        | Q(last_folded__contains=folded)
    )


def contact_search(queryset: QuerySet, search_term: str) -> QuerySet:
    """Every word must match: an email prefix, "@domain" for an email ending, or part of a name."""
    terms = _search_terms(search_term)
    if terms:
        queryset = queryset.alias(first_folded=SearchFold("first_name"),
                                  last_folded=SearchFold("last_name"))
    for term in terms:
        queryset = queryset.filter(_contact_term(term))
    return queryset


# --- Filters --------------------------------------------------------------------------------

class StageFilter(admin.SimpleListFilter):
    # The stage is a generated column, so Django cannot see its choices by itself.
    title = gettext_lazy("stage")
    parameter_name = "stage"

    def lookups(self, request, model_admin):
        return Stage.choices

    def queryset(self, request, queryset):
        if self.value() in Stage.values:
            return queryset.filter(stage=self.value())
        return queryset


class CurrencyFilter(admin.SimpleListFilter):
    # Offered from the rates table (a purchase needs a rate or the base currency): a few rows,
    # where SELECT DISTINCT over all purchases would read the whole table on every page.
    title = gettext_lazy("currency")
    parameter_name = "currency"

    def lookups(self, request, model_admin):
        codes = {base_currency(), *CurrencyRate.objects.values_list("currency", flat=True)}
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


# --- Contacts -------------------------------------------------------------------------------

class ContactAdminForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ("email", "first_name", "last_name", "phone", "language", "owner",
                  "marketing_consent")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            # customers.owners' rule; a current owner who has left the roles stays selectable.
            self.fields["owner"].queryset = owner_choices(current=self.instance.owner_id)
            self.fields["owner"].error_messages["invalid_choice"] = OWNER_REFUSED

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data["email"])

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data["phone"])


class LatestPurchasesFormSet(BaseInlineFormSet):
    """Only the newest purchases: a loyal customer's full history would make a huge page."""

    def get_queryset(self) -> QuerySet:
        if not hasattr(self, "_latest"):
            self._latest = super().get_queryset().order_by("-purchased_at", "-id")[
                :INLINE_PURCHASES
            ]
        return self._latest


class PurchaseInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Read-only rows; purchases are added and corrected on their own admin page."""

    deletable = False
    model = Purchase
    formset = LatestPurchasesFormSet
    fields = ("purchased_at", "amount", "currency", "amount_base", "quantity", "channel",
              "source", "refunded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = gettext_lazy("latest purchases (newest first)")


class AssignOwnerForm(forms.Form):
    owner = forms.ModelChoiceField(label=gettext_lazy("New owner"), queryset=eligible_owners(),
                                   error_messages={"invalid_choice": OWNER_REFUSED})


@admin.register(Contact)
class ContactAdmin(FastCountAdminMixin, CSVExportMixin, admin.ModelAdmin):
    form = ContactAdminForm
    list_display = ("email", "name", "stage_label", "purchase_count", "total_spent",
                    "last_purchase_at", "owner")
    list_filter = (StageFilter, "marketing_consent", "owner")
    list_select_related = ("owner",)
    # Needed for the purchase form's contact autocomplete; matching is get_search_results'.
    search_fields = ("email", "first_name", "last_name")
    search_help_text = gettext_lazy(
        "Start of an email, “@domain.com” for an email ending, or part of a name."
    )
    fieldsets = (
        (None, {"fields": ("email", "first_name", "last_name", "phone", "language", "owner")}),
        (gettext_lazy("Marketing consent"),
         {"fields": ("marketing_consent", "consent_changed_at", "consent_source")}),
        (gettext_lazy("Purchases"),
         {"fields": ("stage_label", "purchase_count", "first_purchase_at", "last_purchase_at",
                     "total_spent", "all_purchases")}),
        (gettext_lazy("Record"), {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = ("consent_changed_at", "consent_source", "stage_label", "purchase_count",
                       "first_purchase_at", "last_purchase_at", "total_spent", "all_purchases",
                       "created_at", "updated_at")
    inlines = (PurchaseInline,)
    # privacy adds export and erasure (hooks.contact_admin_actions; its ready() ran before the
    # admin modules are loaded).
    actions = ("assign_owner", "export_csv", *hooks.contact_admin_actions_all())

    csv_filename_prefix = "contacts"
    csv_columns = (
        CSVColumn(gettext_lazy("id"), "pk"),
        CSVColumn(gettext_lazy("email"), "email"),
        CSVColumn(gettext_lazy("first name"), "first_name"),
        CSVColumn(gettext_lazy("last name"), "last_name"),
        CSVColumn(gettext_lazy("phone"), "phone"),
        CSVColumn(gettext_lazy("stage"), "stage"),
        CSVColumn(gettext_lazy("purchases"), "purchase_count"),
        CSVColumn(gettext_lazy("total spent"), "total_spent"),
        CSVColumn(gettext_lazy("first purchase"), "first_purchase_at", local_datetime),
        CSVColumn(gettext_lazy("last purchase"), "last_purchase_at", local_datetime),
        CSVColumn(gettext_lazy("marketing consent"), "marketing_consent", int),
        CSVColumn(gettext_lazy("owner"), "owner__username"),
        CSVColumn(gettext_lazy("created at"), "created_at", local_datetime),
    )

    @admin.display(description=gettext_lazy("name"), ordering="last_name")
    def name(self, obj: Contact) -> str:
        return obj.full_name

    @admin.display(description=gettext_lazy("stage"), ordering="stage")
    def stage_label(self, obj: Contact) -> str:
        return Stage(obj.stage).label if obj.stage else "-"

    @admin.display(description=gettext_lazy("all purchases"))
    def all_purchases(self, obj: Contact) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:customers_purchase_changelist")
        return format_html('<a href="{}?contact__id__exact={}">{}</a>', url, obj.pk,
                           _("All purchases of this contact"))

    def get_search_results(self, request, queryset, search_term):
        return contact_search(queryset, search_term), False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            # A fresh copy: the form has already written the new values onto `obj`, and the
            # consent service must see the old value to stamp a change.
            contact = Contact.objects.get(pk=obj.pk)
            editable = services.CONTACT_EDITABLE_FIELDS
            changes = {f: data[f] for f in form.changed_data if f in editable}
            if changes:
                services.contact_update(contact=contact, **changes)
            if "marketing_consent" in form.changed_data:
                services.contact_set_consent(
                    contact=contact, consent=data["marketing_consent"],
                    source=ADMIN_CONSENT_SOURCE, recorded_by=request.user)
        else:
            contact = services.contact_create(
                email=data["email"], first_name=data["first_name"], last_name=data["last_name"],
                phone=data["phone"], owner=data["owner"], language=data["language"],
                marketing_consent=data["marketing_consent"], consent_source=ADMIN_CONSENT_SOURCE,
                recorded_by=request.user,
            )
        _adopt(obj, contact.pk)

    @admin.action(description=gettext_lazy("Assign an owner to the selected contacts"),
                  permissions=["change"])
    def assign_owner(self, request: HttpRequest, queryset: QuerySet):
        form = AssignOwnerForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            owner = form.cleaned_data["owner"]
            count = services.contacts_assign_owner(contacts=queryset, owner=owner)
            self.message_user(request, ngettext(
                "%(count)d contact assigned to %(owner)s.",
                "%(count)d contacts assigned to %(owner)s.", count,
            ) % {"count": count, "owner": owner.display_name}, messages.SUCCESS)
            return None
        return self._assign_owner_page(request, queryset, form)

    def _assign_owner_page(self, request, queryset, form) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": _("Assign an owner"),
            "opts": self.model._meta,
            "form": form,
            "count": queryset.count(),
            "sample": list(queryset[:20]),
            # Echoed back so the confirmation POST reaches this action again: the ids the
            # manager ticked and, for "select all", the flag (the filters ride on the URL).
            "selected_ids": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across") == "1",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/customers/contact/assign_owner.html", context)


# --- Purchases ------------------------------------------------------------------------------

class PurchaseAdminForm(forms.ModelForm):
    refund_amount = forms.DecimalField(
        label=gettext_lazy("Refund now"), required=False, max_digits=14, decimal_places=3,
        help_text=gettext_lazy("An amount in the purchase's currency, refunded when you save. "
                               "Refunds add up; refunding the whole amount refunds the "
                               "purchase in full (it then stops counting)."))

    class Meta:
        model = Purchase
        fields = ("contact", "purchased_at", "amount", "currency", "quantity", "channel", "code",
                  "source", "external_id")

    def clean_refund_amount(self):
        amount = self.cleaned_data.get("refund_amount")
        if amount is None or not self.instance.pk:
            return None
        stored = Purchase.objects.get(pk=self.instance.pk)
        if stored.is_refunded:
            raise ValidationError(_("This purchase is refunded in full already."))
        try:
            return services.refund_amount_check(stored, amount)
        except ValidationError as error:
            raise ValidationError(error.messages) from None

    def clean(self) -> dict:
        cleaned = super().clean()
        if {"purchased_at", "amount", "currency"} <= cleaned.keys():
            # The service's own rules, so the admin shows the errors any other writer would get;
            # fields with errors are then left out of the model's constraint checks.
            try:
                values = services.purchase_clean(
                    purchased_at=cleaned["purchased_at"], amount=cleaned["amount"],
                    currency=cleaned["currency"],
                )
            except ValidationError as error:
                _add_service_errors(self, error)
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
                    "channel", "source", "refunded")
    list_filter = ("channel", CurrencyFilter,
                   cached_values_filter("source", gettext_lazy("source")), RefundedFilter)
    list_select_related = ("contact",)
    date_hierarchy = "purchased_at"
    autocomplete_fields = ("contact",)
    search_fields = ("external_id", "code", "contact__email")
    search_help_text = gettext_lazy("Exact external id or code, or the start of an email.")
    readonly_fields = ("purchased_on", "amount_base", "refunded_at", "refunded_amount",
                       "recorded_by", "created_at")
    fieldsets = (
        (None, {"fields": ("contact", "purchased_at", "amount", "currency", "quantity",
                           "channel", "code")}),
        (gettext_lazy("Origin"), {"fields": ("source", "external_id", "recorded_by")}),
        (gettext_lazy("Derived"),
         {"fields": ("purchased_on", "amount_base", "refunded_at", "created_at")}),
    )
    refund_fieldset = (gettext_lazy("Refund"), {"fields": ("refunded_amount", "refund_amount")})
    actions = ("refund", "delete_selected", "export_csv")

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
        return (*fieldsets, self.refund_fieldset) if obj else fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        # Where an order came from is its identity; a wrong one is deleted and recorded anew.
        return (*readonly, "source", "external_id") if obj else readonly

    def get_search_results(self, request, queryset, search_term):
        for term in _search_terms(search_term):
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
                purchase = services.purchase_update(purchase=purchase, **changes)
                message = hooks.code_outcome_message(purchase.code_outcome)
                if message is not None:  # campaigns words what the changed code did
                    self.message_user(request, message.text)
            if data.get("refund_amount"):
                purchase = services.purchase_refund(purchase=purchase,
                                                    amount=data["refund_amount"])
        else:
            result = services.purchase_record(
                contact=data["contact"], purchased_at=data["purchased_at"], amount=data["amount"],
                currency=data["currency"], channel=data["channel"], quantity=data["quantity"],
                source=data["source"], external_id=data["external_id"], code=data["code"],
                recorded_by=request.user,
            )
            purchase = result.purchase
            if not result.created:
                self.message_user(request, _(
                    "This order was recorded meanwhile by someone else; nothing was added."),
                    messages.WARNING)
        _adopt(obj, purchase.pk)

    def delete_model(self, request, obj):
        services.purchase_delete(purchase=obj)

    def delete_queryset(self, request, queryset):
        services.purchases_delete(purchases=queryset)

    @admin.action(description=gettext_lazy("Refund selected purchases"), permissions=["change"])
    def refund(self, request: HttpRequest, queryset: QuerySet) -> None:
        selected = queryset.count()
        to_refund = list(queryset.filter(refunded_at__isnull=True).order_by("pk"))
        for purchase in to_refund:
            services.purchase_refund(purchase=purchase)
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


# --- Currency rates -------------------------------------------------------------------------

class CurrencyRateAdminForm(forms.ModelForm):
    class Meta:
        model = CurrencyRate
        fields = ("currency", "rate")

    def clean_currency(self) -> str:
        code = normalise_currency(self.cleaned_data["currency"])
        if code == base_currency():
            raise ValidationError(
                _("%(code)s is the base currency: its rate is always 1 and needs no row."),
                params={"code": code},
            )
        return code

    def clean_rate(self):
        rate = self.cleaned_data["rate"]
        if rate is not None and rate <= 0:
            raise ValidationError(_("The rate must be greater than zero."))
        return rate


@admin.register(CurrencyRate)
class CurrencyRateAdmin(admin.ModelAdmin):
    form = CurrencyRateAdminForm
    list_display = ("currency", "rate", "updated_at")
    search_fields = ("currency",)
    readonly_fields = ("updated_at",)
@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who imported what, and how it went: a record, read-only (imports start in the dashboard,
    where the preview and the progress are)."""

    list_display = ("created_at", "kind", "original_name", "uploaded_by", "status",
                    "count_created", "count_updated", "count_rejected", "dashboard_link")
    list_filter = ("kind", "status")
    list_select_related = ("uploaded_by",)
    date_hierarchy = "created_at"
    exclude = ("upload_path", "report_path", "preview")

    @admin.display(description=gettext_lazy("details"))
    def dashboard_link(self, job: ImportJob) -> str:
        return format_html('<a href="{}">{}</a>',
                           reverse("customers:import_progress", args=[job.pk]), _("Open"))


from customers.scoring import admin as scoring_admin  # noqa: E402,F401 - registers the scoring admin

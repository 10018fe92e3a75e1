"""Contacts in the admin: search, the stage filter, the edit form, the latest purchases inline
and the bulk owner change."""
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext

from crm.admin_tools import (
    CSVColumn,
    CSVExportMixin,
    FastCountAdminMixin,
    ReadOnlyAdminMixin,
    local_datetime,
)
from crm.numbers import percent

from .. import hooks
from ..models import Contact, ContactScore, Purchase, Stage
from ..normalise import normalise_email
from ..owners import OWNER_REFUSED, eligible_owners, owner_choices, owner_label
from ..phones import normalise_phone
from ..search import SearchFold, fold
from ..services.contacts import (
    CONTACT_EDITABLE_FIELDS,
    contact_create,
    contact_set_consent,
    contact_update,
    contacts_assign_owner,
)
from ..services.rates import has_provisional
from .common import adopt, search_terms

# Recorded as the consent source when a manager changes consent here.
ADMIN_CONSENT_SOURCE = "admin"
INLINE_PURCHASES = 20


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
    terms = search_terms(search_term)
    if terms:
        queryset = queryset.alias(first_folded=SearchFold("first_name"),
                                  last_folded=SearchFold("last_name"))
    for term in terms:
        queryset = queryset.filter(_contact_term(term))
    return queryset


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
            self.fields["owner"].label_from_instance = owner_label
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].label_from_instance = owner_label


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
                     "total_spent_state", "all_purchases", "current_scores")}),
        (gettext_lazy("Record"), {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = ("consent_changed_at", "consent_source", "stage_label", "purchase_count",
                       "first_purchase_at", "last_purchase_at", "total_spent_state", "all_purchases",
                       "current_scores", "created_at", "updated_at")
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

    @admin.display(description=gettext_lazy("total spent"))
    def total_spent_state(self, obj: Contact) -> str:
        """The total, marked provisional while some purchases wait for an exchange rate."""
        if obj.pk is None or not has_provisional(obj):
            return str(obj.total_spent)
        return _("%(total)s (provisional: some purchases wait for an exchange rate)") % {
            "total": obj.total_spent}

    @admin.display(description=gettext_lazy("all purchases"))
    def all_purchases(self, obj: Contact) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:customers_purchase_changelist")
        return format_html('<a href="{}?contact__id__exact={}">{}</a>', url, obj.pk,
                           _("All purchases of this contact"))

    @admin.display(description=gettext_lazy("current scores"))
    def current_scores(self, obj: Contact) -> str:
        """The published run's numbers, as the contact page, the API and the export show them."""
        from ..scoring.runs import current_run  # numpy and scipy: loaded on use

        run = current_run() if obj.pk else None
        score = ContactScore.objects.filter(run=run, contact=obj).first() if run else None
        if score is None:
            return "-"
        buy = _("%(percent)s likely to buy again") % {"percent": percent(score.p_buy_again)}
        if score.p_alive is None:
            return f"{buy}, {_('Still an active customer')}: {_('unknown')}"
        return f"{buy}, " + _("%(percent)s likely still active") % {
            "percent": percent(score.p_alive)}

    def get_search_results(self, request, queryset, search_term):
        return contact_search(queryset, search_term), False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            # A fresh copy: the form has already written the new values onto `obj`, and the
            # consent service must see the old value to stamp a change.
            contact = Contact.objects.get(pk=obj.pk)
            editable = CONTACT_EDITABLE_FIELDS
            changes = {f: data[f] for f in form.changed_data if f in editable}
            if changes:
                contact_update(contact=contact, **changes)
            if "marketing_consent" in form.changed_data:
                contact_set_consent(
                    contact=contact, consent=data["marketing_consent"],
                    source=ADMIN_CONSENT_SOURCE, recorded_by=request.user)
        else:
            contact = contact_create(
                email=data["email"], first_name=data["first_name"], last_name=data["last_name"],
                phone=data["phone"], owner=data["owner"], language=data["language"],
                marketing_consent=data["marketing_consent"], consent_source=ADMIN_CONSENT_SOURCE,
                recorded_by=request.user,
            )
        adopt(obj, contact.pk)

    @admin.action(description=gettext_lazy("Assign an owner to the selected contacts"),
                  permissions=["change"])
    def assign_owner(self, request: HttpRequest, queryset: QuerySet):
        form = AssignOwnerForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            owner = form.cleaned_data["owner"]
            count = contacts_assign_owner(contacts=queryset, owner=owner)
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

"""Subject and content tests in the admin (campaigns.variants): the campaign page's inlines
for variants and the test (managers only), its figures and decision in plain words, and
"Decide now" (a button on the campaign page, an action in the list of tests)."""
import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import is_manager
from crm import numbers
from crm.admin_tools import ReadOnlyAdminMixin

from .models import Campaign, ContentVariant, JourneyStep, VariantTest
from .variant_decision import result_text, variant_test_decide, variant_test_report
from .variants import (
    variant_delete, variant_delete_problems, variant_problems, variant_save, variant_test_delete,
    variant_test_save,
)


class ContentVariantForm(forms.ModelForm):
    class Meta:
        model = ContentVariant
        fields = ("step", "label", "template")

    def clean(self):
        cleaned = super().clean()
        if self.instance.campaign_id and cleaned.get("template") and not self.errors:
            self.instance.template = cleaned["template"]
            self.instance.step = cleaned.get("step")
            if problems := variant_problems(self.instance):
                raise ValidationError(problems)
        return cleaned


class _ManagersOnly:
    """The test inlines are for managers (sales staff may see campaigns, not their tests)."""

    def has_view_permission(self, request, obj=None) -> bool:
        return is_manager(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return is_manager(request.user) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_manager(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_manager(request.user) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "step":  # only this campaign's journey steps
            object_id = (request.resolver_match.kwargs.get("object_id")
                         if request.resolver_match else None)
            kwargs["queryset"] = JourneyStep.objects.filter(campaign_id=object_id or None,
                                                            kind=JourneyStep.Kind.EMAIL)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _kept(formset) -> list[dict]:
    return [form.cleaned_data for form in formset.forms
            if form.cleaned_data and form not in formset.deleted_forms]


class ContentVariantFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            if problems := variant_delete_problems(form.instance):
                raise ValidationError(problems)
        keys = [(row.get("step"), row.get("label")) for row in _kept(self)]
        if len(keys) != len(set(keys)):  # the database would refuse the second
            raise ValidationError(_("Give each variant of an email its own label."))


class VariantTestForm(forms.ModelForm):
    class Meta:
        model = VariantTest
        fields = ("step", "test_percent", "metric", "decide_after_hours")

    def has_changed(self) -> bool:
        # A test row added with "Add another" (there are no blank extra rows) is meant, even
        # with every default kept: Django would otherwise skip it as unchanged.
        return self.instance.pk is None or super().has_changed()


class VariantTestFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        steps = [row.get("step") for row in _kept(self)]
        if len(steps) != len(set(steps)):
            raise ValidationError(_("An email has one test: the campaign's own email once, "
                                    "each journey step once."))


class ContentVariantInline(_ManagersOnly, admin.TabularInline):
    model = ContentVariant
    form = ContentVariantForm
    formset = ContentVariantFormSet
    extra = 0
    verbose_name = gettext_lazy("test variant")
    verbose_name_plural = gettext_lazy(
        "Subject and content test: variants (two or more; leave the journey step empty for "
        "the campaign's own email)")


class VariantTestInline(_ManagersOnly, admin.TabularInline):
    model = VariantTest
    form = VariantTestForm
    formset = VariantTestFormSet
    extra = 0
    fields = ("step", "test_percent", "metric", "decide_after_hours", "started_at",
              "decided_at", "winner")
    readonly_fields = ("started_at", "decided_at", "winner")
    verbose_name = gettext_lazy("test")
    verbose_name_plural = gettext_lazy("Subject and content test: how it is run and decided")


VARIANT_INLINES = [ContentVariantInline, VariantTestInline]


def inlines_posted(request: HttpRequest, inlines: list, obj=None) -> list:
    """The test inlines on a saved campaign's page only (their checks need the campaign); on
    a POST, only those the form carried: a form built without them (a script's, an older
    page's) leaves the variants and the test as they are instead of failing."""
    kept = []
    for inline in inlines:
        if isinstance(inline, tuple(VARIANT_INLINES)):
            if obj is None:
                continue
            prefix = inline.get_formset(request, obj).get_default_prefix()
            if request.method == "POST" and f"{prefix}-TOTAL_FORMS" not in request.POST:
                continue
        kept.append(inline)
    return kept


def variant_formset_save(formset) -> bool:
    """Save a test inline's rows through campaigns.variants (as CampaignAdmin.save_formset);
    False for another inline. Sets what the admin's change message reads."""
    saving = {ContentVariant: (variant_save, variant_delete),
              VariantTest: (variant_test_save, variant_test_delete)}.get(formset.model)
    if saving is None:
        return False
    save, delete = saving
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.deleted_forms:
        if form.instance.pk:
            delete(form.instance)
            formset.deleted_objects.append(form.instance)
    for form in formset.forms:
        if form in formset.deleted_forms or not form.has_changed():
            continue
        row, new = form.instance, form.instance.pk is None
        setattr(row, formset.fk.name, formset.instance)
        save(row)
        if new:
            formset.new_objects.append(row)
        else:
            formset.changed_objects.append((row, form.changed_data))
    return True


# --- The campaign page's figures ---------------------------------------------------------------

def _signed(share: float) -> str:
    return ("+" if share > 0 else "") + numbers.number(share * 100, 1)


def _points(difference: dict | None) -> str:
    """An uplift in percentage points with its 95% interval: "+12.5 points (+3.1 … +21.9)"."""
    if not difference:
        return "–"
    return _("%(estimate)s points (%(low)s … %(high)s)") % {
        "estimate": _signed(difference["estimate"]), "low": _signed(difference["low"]),
        "high": _signed(difference["high"])}


def _rate(value: float | None) -> str:
    return "–" if value is None else numbers.percent(value, 1)


def _state(test: VariantTest, has_report: bool) -> str:
    if test.decided_at:
        return _("Decided on %(when)s: “%(winner)s” won and was sent to the rest.") % {
            "when": test.decided_at.strftime("%Y-%m-%d %H:%M"),
            "winner": test.winner.label if test.winner else "–"}
    if not has_report:
        return _("Add two or more variants to run the test; until then the campaign's own "
                 "email is sent.")
    if test.started_at is None:
        return _("Not started: the test starts with the next run or email.")
    due = test.started_at + dt.timedelta(hours=test.decide_after_hours)
    return _("Running since %(start)s; decided after %(due)s. The figures so far:") % {
        "start": test.started_at.strftime("%Y-%m-%d %H:%M"),
        "due": due.strftime("%Y-%m-%d %H:%M")}


def campaign_test_figures(campaign: Campaign) -> list[dict]:
    """Per test of the campaign: its state, figures per variant and, once decided, why."""
    shown = []
    for test in (VariantTest.objects.filter(campaign=campaign)
                 .select_related("step", "winner").order_by("step__position", "pk")):
        report = variant_test_report(test)
        clicks = test.metric == VariantTest.Metric.CLICKS
        rows = [{"label": row["label"], "sent": row["sent"], "responders": row["responders"],
                 "rate": _rate(row["rate"]), "uplift": _points(row["uplift"]),
                 "winner": test.decided_at and row["id"] == (report or {}).get("winner")}
                for row in (report or {}).get("variants", [])]
        control = (report or {}).get("control")
        shown.append({
            "test": test, "scope": str(test.step) if test.step else _("The campaign's email"),
            "state": _state(test, report is not None), "rows": rows, "clicks": clicks,
            "control": control and {**control, "rate": _rate(control["rate"])},
            "why": result_text(report) if test.decided_at and report else "",
            "hours": test.decide_after_hours,
        })
    return shown


# --- Deciding now -----------------------------------------------------------------------------

def _decide(request: HttpRequest, test: VariantTest) -> None:
    decided = variant_test_decide(test.pk, by_manager=True)
    if decided is None:
        messages.warning(request, _("“%(test)s” was not decided: it was decided already, or "
                                    "it has fewer than two variants.") % {"test": test})
    else:
        messages.success(request, _("“%(test)s” decided: “%(winner)s” won. %(why)s") % {
            "test": test, "winner": decided.winner.label, "why": result_text(decided.result)})


def _may_decide(request: HttpRequest) -> bool:
    return request.user.has_perm("campaigns.change_varianttest")


@admin.register(VariantTest)
class VariantTestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every campaign's tests at a glance; they are set up (and removed) on the campaign's
    page, through campaigns.variants."""

    deletable = False

    list_display = ("campaign", "step", "metric", "test_percent", "started_at", "decided_at",
                    "winner")
    list_filter = ("metric", "campaign")
    list_select_related = ("campaign", "step", "winner")
    readonly_fields = ("campaign", "step", "started_at", "decided_at", "winner", "result")
    fields = ("campaign", "step", "test_percent", "metric", "decide_after_hours", "started_at",
              "decided_at", "winner", "result")
    actions = ["decide_now"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/decide/", view(self.decide_view),
                     name="campaigns_varianttest_decide"), *super().get_urls()]

    @admin.action(description=gettext_lazy("Decide now (the rest is sent the winner)"),
                  permissions=["view"])
    def decide_now(self, request: HttpRequest, queryset) -> None:
        if not _may_decide(request):
            self.message_user(request, _("You may not decide tests."), messages.ERROR)
            return
        for test in queryset.select_related("campaign", "step"):
            _decide(request, test)

    def decide_view(self, request: HttpRequest, pk: int):
        """The campaign page's "Decide now" button (a POST; the admin checks its CSRF token)."""
        test = get_object_or_404(VariantTest.objects.select_related("campaign", "step"), pk=pk)
        back = reverse("admin:campaigns_campaign_change", args=[test.campaign_id])
        if request.method == "POST" and _may_decide(request):
            _decide(request, test)
        return HttpResponseRedirect(back)


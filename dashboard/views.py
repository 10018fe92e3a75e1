from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, FormView, ListView, TemplateView, View

from accounts.roles import is_manager

from crm.admin_tools import csv_response
from crm.numbers import percent
from crm.http import redirect_back
from customers import followups, hooks
from customers.consent.models import ConsentMethod
from customers.forms import (
    CallLogForm, ContactEditForm, ContactForm, FollowUpForm, NoteForm, OwnerForm, PurchaseForm,
    PurchaseLineFormSet,
)
from customers.models import CallOutcome, Contact, FollowUp
from customers.scoring.report import explanation, slipping_text
from customers.services.calls import call_log
from customers.services.contacts import (
    contact_create, contact_set_consent, contact_update, contacts_assign_owner,
)
from customers.services.purchases import purchase_record
from customers.services.rates import has_provisional

from . import contact_list, export, selectors
from .bulk import bulk_context
from .contact_list import ContactFilterForm
from .customer_base_view import cohort_rows, rfm_table, value_chart
from .kpi_charts import kpi_charts
from .kpis import kpis_refresh
from .models import CustomerBaseSnapshot, KpiSnapshot
from .timeline import contact_timeline, contact_timeline_more, timeline_page


class ContactListView(PermissionRequiredMixin, TemplateView):
    """Search, filter, sort; keyset pages (fast deep into a million rows)."""

    permission_required = "customers.view_contact"
    template_name = "dashboard/contact_list.html"

    def get_template_names(self):
        # Search as you type asks for the results only.
        if self.request.GET.get("partial"):
            return ["dashboard/_contact_results.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        form = ContactFilterForm(self.request.GET or None)
        values = form.values()
        page = contact_list.contact_page(values, user=self.request.user)
        query = self.request.GET.copy()
        for name in ("after", "partial"):
            query.pop(name, None)
        return super().get_context_data(form=form, page=page, contacts=page.contacts,
                                        query=query.urlencode(), filtered=bool(query),
                                        **bulk_context(self.request.user), **kwargs)


class ContactExportView(PermissionRequiredMixin, View):
    """The filtered list as CSV (formula-safe), streamed."""

    permission_required = "customers.view_contact"

    def get(self, request):
        values = ContactFilterForm(request.GET or None).values()
        return contacts_csv(contact_list.export_rows(values, user=request.user))


def contacts_csv(contacts):
    """The readable export (dashboard.export) of these contacts, as a download."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_response(filename=f"contacts-{stamp}.csv", header=export.export_header(),
                        rows=export.export_rows(contacts))


class ContactDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "customers.view_contact"
    template_name = "dashboard/contact_detail.html"
    context_object_name = "contact"

    def get_queryset(self):
        return selectors.contact_page_contacts()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["purchases"] = selectors.contact_purchases(contact=self.object)[:200]
        context["provisional"] = has_provisional(self.object)  # purchases waiting for a rate
        context["score"] = score = selectors.contact_current_score(contact=self.object)
        if score is not None:
            context["score_explanation"] = explanation(
                score, first_spend=selectors.contact_first_day_spend(contact=self.object),
                drivers=True)
        context["can_record_purchase"] = self.request.user.has_perm("customers.add_purchase")
        if self.request.user.has_perm("customers.view_calllog"):
            context["calls"] = selectors.contact_calls(contact=self.object)[:50]
        if self.request.user.has_perm("customers.add_calllog"):
            context["call_outcomes"] = CallOutcome.choices
        context["notes"] = selectors.contact_notes(contact=self.object)[:50]
        # Emails and coupons, survey answers, website actions, cases, consent history: the
        # sections the user may see, so the timeline too.
        context.update(selectors.contact_sections(user=self.request.user, contact=self.object))
        context["follow_ups"] = selectors.contact_follow_ups(contact=self.object)[:50]
        if self.request.user.has_perm("customers.add_note"):
            context["note_form"] = NoteForm()
        if self.request.user.has_perm("customers.change_contact"):
            context["owner_form"] = OwnerForm(initial={"owner": self.object.owner_id})
        if self.request.user.has_perm("customers.add_followup"):
            context["follow_up_form"] = FollowUpForm(user=self.request.user)
        context["timeline"] = contact_timeline(context)
        context["timeline_more"] = contact_timeline_more(context)
        return context


class ContactTimelineView(PermissionRequiredMixin, TemplateView):
    """The contact's older timeline entries, a page at a time below `?before=` (a keyset
    cursor from the page before): the contact page's "Older" link, no JavaScript needed."""

    permission_required = "customers.view_contact"
    template_name = "dashboard/contact_timeline.html"

    def get_context_data(self, **kwargs):
        contact = get_object_or_404(Contact, pk=kwargs["pk"])
        timeline, more = timeline_page(user=self.request.user, contact=contact,
                                       before=self.request.GET.get("before", ""))
        return super().get_context_data(contact=contact, timeline=timeline, timeline_more=more,
                                        **kwargs)


class ContactCreateView(PermissionRequiredMixin, FormView):
    permission_required = "customers.add_contact"
    template_name = "dashboard/contact_form.html"
    form_class = ContactForm

    def form_valid(self, form):
        try:
            contact = contact_create(
                **{f: form.cleaned_data[f]
                   for f in ("email", "first_name", "last_name", "phone", "language")},
                owner=self.request.user,
                marketing_consent=form.cleaned_data["marketing_consent"],
                consent_source="staff",
                consent_method=form.cleaned_data["consent_method"] or ConsentMethod.STAFF_FORM,
                consent_evidence=form.cleaned_data["consent_evidence"],
                recorded_by=self.request.user,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        messages.success(self.request, _("Contact %(contact)s created.") % {"contact": contact})
        return HttpResponseRedirect(reverse("dashboard:contact_detail", args=[contact.pk]))


class ContactEditView(PermissionRequiredMixin, FormView):
    """Fix a contact's name, email, phone, language, owner or consent: the same services as
    the admin and the API (consent through the ledger)."""

    permission_required = "customers.change_contact"
    template_name = "dashboard/contact_form.html"
    form_class = ContactEditForm

    def dispatch(self, request, *args, **kwargs):
        self.contact = get_object_or_404(Contact, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.contact}

    def get_context_data(self, **kwargs):
        return super().get_context_data(contact=self.contact, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            with transaction.atomic():
                contact_update(contact=self.contact, owner=data["owner"], **{
                    field: data[field]
                    for field in ("email", "first_name", "last_name", "phone", "language")})
                if data["marketing_consent"] != self.contact.marketing_consent:
                    contact_set_consent(
                        contact=self.contact, consent=data["marketing_consent"], source="staff",
                        method=data["consent_method"] or ConsentMethod.STAFF_FORM,
                        evidence=data["consent_evidence"], recorded_by=self.request.user)
        except ValidationError as error:
            self.contact.refresh_from_db()
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        messages.success(self.request, _("Contact %(contact)s saved.") % {
            "contact": self.contact})
        return HttpResponseRedirect(reverse("dashboard:contact_detail", args=[self.contact.pk]))


class PurchaseCreateView(PermissionRequiredMixin, FormView):
    permission_required = "customers.add_purchase"
    template_name = "dashboard/purchase_form.html"
    form_class = PurchaseForm

    def dispatch(self, request, *args, **kwargs):
        self.contact = get_object_or_404(Contact, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("lines", getattr(self, "lines", None) or PurchaseLineFormSet(
            prefix="lines"))
        return super().get_context_data(contact=self.contact, **kwargs)

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        # One <form> for the purchase and its products (the page renders both and the button).
        form.helper.form_tag, form.helper.inputs = False, []
        return form

    def post(self, request, *args, **kwargs):
        # The products are optional: a post without the formset (an older page) has none.
        if "lines-TOTAL_FORMS" in request.POST:
            self.lines = PurchaseLineFormSet(request.POST, prefix="lines")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        stage_before = self.contact.get_stage_display()
        formset = getattr(self, "lines", None)
        if formset is not None and not formset.is_valid():
            return self.form_invalid(form)
        lines = [line for line in (row.line() for row in formset or ()) if line is not None]
        values = dict(form.cleaned_data)
        if lines and "quantity" not in form.changed_data:
            values["quantity"] = None  # the products' quantities
        try:
            result = purchase_record(
                contact=self.contact, recorded_by=self.request.user, source="manual",
                lines=lines, **values,
            )
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        messages.success(self.request, _("Purchase recorded."))
        self._report_code(result.code_outcome)
        if self.contact.get_stage_display() != stage_before:
            messages.info(
                self.request,
                _("%(contact)s is now: %(stage)s.")
                % {"contact": self.contact, "stage": self.contact.get_stage_display()},
            )
        return HttpResponseRedirect(reverse("dashboard:contact_detail", args=[self.contact.pk]))

    def _report_code(self, outcome: str) -> None:
        """Say what happened to the code: the sale is recorded either way."""
        message = hooks.code_outcome_message(outcome)  # campaigns words its outcomes
        if message is not None and not message.no_code:
            (messages.info if message.good else messages.warning)(self.request, message.text)


class _ContactActionView(PermissionRequiredMixin, FormView):
    """A small form posted from the contact page; errors are shown back there."""

    http_method_names = ["post"]

    def dispatch(self, request, *args, **kwargs):
        self.contact = get_object_or_404(Contact, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def back(self) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("dashboard:contact_detail", args=[self.contact.pk]))

    def form_invalid(self, form):
        for errors in form.errors.values():
            for error in errors:
                messages.error(self.request, error)
        return self.back()


class NoteCreateView(_ContactActionView):
    permission_required = "customers.add_note"
    form_class = NoteForm

    def form_valid(self, form):
        try:
            followups.note_add(contact=self.contact, author=self.request.user,
                               body=form.cleaned_data["body"])
        except ValidationError as error:
            messages.error(self.request, " ".join(error.messages))
            return self.back()
        messages.success(self.request, _("Note added."))
        return self.back()


class OwnerChangeView(_ContactActionView):
    permission_required = "customers.change_contact"
    form_class = OwnerForm

    def form_valid(self, form):
        owner = form.cleaned_data["owner"]
        try:  # the form offered eligible owners; one may have lost the role since
            contacts_assign_owner(contacts=Contact.objects.filter(pk=self.contact.pk),
                                           owner=owner)
        except ValidationError as error:
            messages.error(self.request, " ".join(error.messages))
            return self.back()
        messages.success(self.request, _("Owner changed to %(owner)s.") % {
            "owner": owner.display_name if owner else _("nobody")})
        return self.back()


class FollowUpCreateView(_ContactActionView):
    permission_required = "customers.add_followup"
    form_class = FollowUpForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            followups.follow_up_add(contact=self.contact, created_by=self.request.user,
                                    assigned_to=data["assigned_to"] or self.request.user,
                                    title=data["title"], due_on=data["due_on"],
                                    due_time=data["due_time"])
        except ValidationError as error:
            messages.error(self.request, " ".join(error.messages))
            return self.back()
        messages.success(self.request, _("Follow-up scheduled."))
        return self.back()


class CallLogCreateView(_ContactActionView):
    """Log a call from the call list or the contact page; back to the page it came from."""

    permission_required = "customers.add_calllog"
    form_class = CallLogForm

    def back(self) -> HttpResponseRedirect:
        return redirect_back(self.request, field="next", fallback=reverse(
            "dashboard:contact_detail", args=[self.contact.pk]))

    def form_valid(self, form):
        try:
            call = call_log(contact=self.contact, user=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(self.request, " ".join(error.messages))
            return self.back()
        messages.success(self.request, _("Call with %(contact)s logged: %(outcome)s.") % {
            "contact": self.contact, "outcome": call.get_outcome_display()})
        return self.back()


@require_POST
@permission_required("customers.change_followup", raise_exception=True)
def follow_up_toggle(request, pk: int):
    follow_up = get_object_or_404(FollowUp, pk=pk)
    if follow_up.assigned_to_id != request.user.pk and not is_manager(request.user):
        raise PermissionDenied
    done = request.POST.get("done") == "1"
    followups.follow_up_set_done(follow_up=follow_up, done=done)
    messages.success(request, _("Marked done.") if done else _("Marked not done."))
    return redirect_back(request, field="next", fallback=reverse(
        "dashboard:contact_detail", args=[follow_up.contact_id]))


class MyFollowUpsView(PermissionRequiredMixin, ListView):
    permission_required = "customers.view_followup"
    template_name = "dashboard/follow_up_list.html"
    context_object_name = "follow_ups"
    paginate_by = 50

    def get_queryset(self):
        return selectors.my_follow_ups(user=self.request.user,
                                       include_done=bool(self.request.GET.get("done")))


class TodayView(PermissionRequiredMixin, TemplateView):
    """The sales home page: who to call today and why."""

    permission_required = "customers.view_contact"
    template_name = "dashboard/today.html"

    def get_context_data(self, **kwargs):
        mine = self.request.GET.get("mine", "1" if not is_manager(self.request.user) else "") == "1"
        lists = selectors.call_list(user=self.request.user, mine=mine)
        # Overdue support cases.
        lists["overdue_cases"] = selectors.today_overdue_cases(
            owner=self.request.user if mine or not is_manager(self.request.user) else None)
        # The cards' reasons name the first order's value, as the contact page does.
        first_spend = selectors.contacts_first_day_spend(
            [score.contact_id for key in ("convert", "slipping") for score in lists[key]])

        def why(score) -> str:
            return explanation(score, first_spend=first_spend.get(score.contact_id, 0.0))

        lists["convert"] = [(score, why(score)) for score in lists["convert"]]
        lists["slipping"] = [(score, f"{slipping_text(score)} {why(score)}".strip())
                             for score in lists["slipping"]]
        return super().get_context_data(
            mine=mine, today=timezone.localdate(),
            calls_this_week=selectors.calls_this_week(user=self.request.user),
            call_outcomes=(CallOutcome.choices
                           if self.request.user.has_perm("customers.add_calllog") else None),
            slipping_floor=percent(settings.CRM_SLIPPING_MIN_P_ALIVE), **lists, **kwargs)


RANGES = {"6": 6, "12": 12, "24": 24, "36": 36}


class KpiView(PermissionRequiredMixin, TemplateView):
    """KPIs and charts from the latest snapshot (computed by customers.refresh_kpis)."""

    permission_required = "customers.view_contact"
    template_name = "dashboard/kpis.html"

    def get_context_data(self, **kwargs):
        chosen = self.request.GET.get("months", "12")
        months = RANGES.get(chosen, 12)
        snapshot = KpiSnapshot.objects.first() or kpis_refresh()
        return super().get_context_data(
            snapshot=snapshot, charts=kpi_charts(snapshot.data, months=months),
            months=months, ranges=list(RANGES),
            **selectors.kpi_listening(),  # feedback: NPS and latest comments, live
            **kwargs)


class CustomerBaseView(PermissionRequiredMixin, TemplateView):
    """Managers: cohort retention, RFM cells and predicted value from the latest stored
    snapshot (dashboard.customer_base, after the nightly scoring run). Reads that one row: no
    purchase is read here, and with no snapshot yet the page says so."""

    permission_required = "dashboard.view_customerbasesnapshot"
    template_name = "dashboard/customer_base.html"

    def get_context_data(self, **kwargs):
        snapshot = CustomerBaseSnapshot.objects.first()
        data = snapshot.data if snapshot else {}
        return super().get_context_data(
            snapshot=snapshot, cohorts=cohort_rows(data), rfm=rfm_table(data),
            value=value_chart(data), month_numbers=range(len(data.get("cohorts", [])) or 0),
            **kwargs)

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView, FormView, ListView

from . import selectors, services
from .forms import ContactForm, PurchaseForm
from .models import Contact, Stage
from .scoring_report import explanation


class ContactListView(PermissionRequiredMixin, ListView):
    permission_required = "customers.view_contact"
    template_name = "customers/contact_list.html"
    context_object_name = "contacts"
    paginate_by = 50

    def get_queryset(self):
        return selectors.contact_list(
            search=self.request.GET.get("q", "").strip()[:100],
            stage=self.request.GET.get("stage", "") if self.request.GET.get("stage") in Stage.values else "",
            owner=self.request.user if self.request.GET.get("mine") else None,
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            q=self.request.GET.get("q", ""), stage=self.request.GET.get("stage", ""),
            mine=bool(self.request.GET.get("mine")), stages=Stage.choices,
        )
        return context


class ContactDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "customers.view_contact"
    template_name = "customers/contact_detail.html"
    context_object_name = "contact"

    def get_queryset(self):
        return Contact.objects.select_related("owner")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["purchases"] = selectors.contact_purchases(contact=self.object)[:200]
        context["score"] = score = selectors.contact_current_score(contact=self.object)
        if score is not None:
            context["score_explanation"] = explanation(
                score, first_spend=selectors.contact_first_day_spend(contact=self.object))
        if self.request.user.has_perm("customers.add_purchase"):
            context["purchase_form"] = PurchaseForm()
        return context


class ContactCreateView(PermissionRequiredMixin, FormView):
    permission_required = "customers.add_contact"
    template_name = "customers/contact_form.html"
    form_class = ContactForm

    def form_valid(self, form):
        try:
            contact = services.contact_create(
                **{f: form.cleaned_data[f] for f in ("email", "first_name", "last_name", "phone")},
                owner=self.request.user,
                marketing_consent=form.cleaned_data["marketing_consent"],
                consent_source="staff",
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        messages.success(self.request, _("Contact %(contact)s created.") % {"contact": contact})
        return HttpResponseRedirect(reverse("customers:contact_detail", args=[contact.pk]))


class PurchaseCreateView(PermissionRequiredMixin, FormView):
    permission_required = "customers.add_purchase"
    template_name = "customers/purchase_form.html"
    form_class = PurchaseForm

    def dispatch(self, request, *args, **kwargs):
        self.contact = get_object_or_404(Contact, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(contact=self.contact, **kwargs)

    def form_valid(self, form):
        stage_before = self.contact.get_stage_display()
        try:
            services.purchase_record(
                contact=self.contact, recorded_by=self.request.user, source="manual",
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        messages.success(self.request, _("Purchase recorded."))
        if self.contact.get_stage_display() != stage_before:
            messages.info(
                self.request,
                _("%(contact)s is now: %(stage)s.")
                % {"contact": self.contact, "stage": self.contact.get_stage_display()},
            )
        return HttpResponseRedirect(reverse("customers:contact_detail", args=[self.contact.pk]))

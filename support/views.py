from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from accounts.roles import is_manager
from crm.http import redirect_back
from customers.language import supported_language
from customers.models import Contact
from customers.services import contact_get_or_create

from . import selectors, services
from .forms import CaseForm
from .models import Case
from .public import PublicCaseForm, rate_limited


def _contact_page(contact_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("customers:contact_detail", args=[contact_id]))


@require_POST
@permission_required("support.add_case", raise_exception=True)
def case_create(request, contact_id: int):
    contact = get_object_or_404(Contact, pk=contact_id)
    form = CaseForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _contact_page(contact.pk)
    try:
        services.case_open(contact=contact, owner=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Case opened."))
    return _contact_page(contact.pk)


@require_POST
@permission_required("support.change_case", raise_exception=True)
def case_status(request, pk: int):
    case = get_object_or_404(Case, pk=pk)
    try:
        services.case_set_status(case=case, status=request.POST.get("status", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Case is now: %(status)s.") % {
            "status": case.get_status_display()})
    return redirect_back(request, field="back", fallback=reverse("support:my_cases"))


class MyCasesView(PermissionRequiredMixin, ListView):
    """My open cases, overdue first (managers may see everyone's)."""

    permission_required = "support.view_case"
    template_name = "support/case_list.html"
    context_object_name = "cases"
    paginate_by = 50

    def get_queryset(self):
        everyone = self.request.GET.get("all") == "1" and is_manager(self.request.user)
        return selectors.open_cases(owner=None if everyone else self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(now=timezone.now(), statuses=Case.Status.choices,
                                        **kwargs)


@login_not_required
def public_case(request):
    """Customers write to us without an account; the case lands on their contact."""
    form = PublicCaseForm(request.POST or None)
    if request.method == "POST":
        if rate_limited(request.META.get("REMOTE_ADDR", "")):
            return render(request, "support/public_form.html", {"form": form, "limited": True},
                          status=429)
        if form.is_valid():
            data = form.cleaned_data
            first, _space, last = data["name"].strip().partition(" ")
            # A new contact keeps the language the form was shown in (Accept-Language).
            contact = contact_get_or_create(
                email=data["email"], first_name=first, last_name=last,
                language=supported_language(getattr(request, "LANGUAGE_CODE", "")))
            services.case_open(contact=contact, subject=data["subject"],
                               description=data["message"], channel=Case.Channel.WEB,
                               owner=contact.owner)
            return render(request, "support/public_thanks.html")
    return render(request, "support/public_form.html", {"form": form},
                  status=400 if form.is_bound else 200)

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import ListView

from accounts.roles import is_manager
from crm.client_ip import client_key
from crm.http import redirect_back
from customers.language import activate_contact_language, supported_language
from customers.models import Contact

from . import selectors, services
from .forms import CaseForm, ReplyForm
from .models import Case
from .public import PublicCaseForm, rate_limited
from .tokens import case_confirm_token_read


def _contact_page(contact_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("dashboard:contact_detail", args=[contact_id]))


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


@permission_required("support.view_case", raise_exception=True)
def case_detail(request, pk: int, reply_form: ReplyForm | None = None, status: int = 200):
    """One case: what the customer wrote, the thread of replies and answers, and a reply box."""
    case = get_object_or_404(Case.objects.select_related("contact", "owner"), pk=pk)
    return render(request, "support/case_detail.html", {
        "case": case, "thread": selectors.case_thread(case), "now": timezone.now(),
        "reply_form": reply_form or ReplyForm()}, status=status)


@require_POST
@permission_required("support.change_case", raise_exception=True)
def case_reply(request, pk: int):
    case = get_object_or_404(Case.objects.select_related("contact"), pk=pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.case_reply(case=case, author=request.user, body=form.cleaned_data["body"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Reply sent to %(email)s.") % {
                "email": case.contact.email})
            return HttpResponseRedirect(reverse("support:case_detail", args=[case.pk]))
    # The typed reply stays in the box with the reason it was not sent.
    return case_detail(request, pk, reply_form=form, status=400)


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
    """Customers write to us without an account; the case lands on the contact with that
    email, marked unconfirmed until they follow the link we email them."""
    form = PublicCaseForm(request.POST or None)
    if request.method == "POST":
        # Every refusal shows its reason on the page and keeps what was typed.
        if rate_limited(client_key(request)):
            form.restart_clock()
            return render(request, "support/public_form.html", {"form": form, "limited": True},
                          status=429)
        if form.is_valid():
            data = form.cleaned_data
            # Unconfirmed until the address owner follows the link emailed to them.
            services.public_case_open(
                email=data["email"], name=data["name"], subject=data["subject"],
                message=data["message"],
                language=supported_language(getattr(request, "LANGUAGE_CODE", "")))
            return render(request, "support/public_thanks.html")
        form.restart_clock()
    return render(request, "support/public_form.html", {"form": form},
                  status=400 if form.is_bound else 200)


# The confirmation link from the email. As for survey answers and unsubscribing: GET only shows
# a button and POST confirms, because mail security scanners fetch every link in an email
# before the reader sees it; CSRF protection is off for this view only, since there is no
# session to abuse and the signed token is the whole authorisation.
@csrf_exempt
@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def public_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        case_id, digest = case_confirm_token_read(token)
    except signing.SignatureExpired:
        return render(request, "support/public_confirm_closed.html", status=410)
    except signing.BadSignature:
        return render(request, "support/public_confirm_invalid.html", status=400)
    case = selectors.case_to_confirm(case_id=case_id, address_digest=digest)
    if case is None:  # erased since, or the contact's address is no longer the one mailed
        return render(request, "support/public_confirm_closed.html", status=410)
    activate_contact_language(request, case.contact)
    if request.method == "POST":
        services.case_confirm(case=case)
        return render(request, "support/public_confirm_done.html")
    return render(request, "support/public_confirm.html", {"case": case})

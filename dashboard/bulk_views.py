"""The contact list's bulk actions (dashboard.bulk): the form's POST, the confirmation page
above CONFIRM_ABOVE contacts, and a background owner change's progress page and JSON."""
from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import TemplateView, View

from accounts.roles import is_manager

from . import bulk
from .models import BulkAssignJob
from .views import contacts_csv


class ContactBulkView(PermissionRequiredMixin, View):
    """POST only (CSRF-checked by the middleware); each action checks its own permission."""

    permission_required = "customers.view_contact"
    http_method_names = ["post"]

    def post(self, request):
        form = bulk.BulkForm(request.POST, user=request.user)
        if request.POST.get("action") not in dict(bulk.allowed_actions(request.user)):
            raise PermissionDenied  # an action the user's role does not have, or none
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return self._back(form)
        selection = bulk.selection_resolve(form)
        if form.cleaned_data["action"] == "export":
            return contacts_csv(selection.contacts.order_by("-last_purchase_at", "-id"))
        if not selection.count:
            messages.warning(request, _("No contact matches: nothing was changed."))
            return self._back(form)
        if bulk.needs_confirmation(form, selection):
            return TemplateResponse(request, "dashboard/bulk_confirm.html", {
                "selection": selection, "summary": _summary(form, selection.count),
                "back": self._back_url(form),
                "posted": [(name, values) for name, values in request.POST.lists()
                           if name not in ("csrfmiddlewaretoken", "confirmed")]})
        try:
            outcome = bulk.bulk_apply(form, selection)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return self._back(form)
        if outcome.job is not None:
            return HttpResponseRedirect(reverse("dashboard:bulk_job", args=[outcome.job.pk]))
        messages.success(request, _done_message(form, outcome.count))
        return self._back(form)

    def _back_url(self, form) -> str:
        query = form.data.get("query", "")
        return reverse("dashboard:contact_list") + (f"?{query}" if query else "")

    def _back(self, form) -> HttpResponseRedirect:
        return HttpResponseRedirect(self._back_url(form))


def _summary(form, count: int) -> str:
    data = form.cleaned_data
    action = data["action"]
    if action == "assign":
        owner = data["user"].display_name if data["user"] else _("nobody")
        return ngettext("Give %(count)s contact to %(owner)s?",
                        "Give %(count)s contacts to %(owner)s?", count) % {
            "count": intcomma(count), "owner": owner}
    if action == "follow_up":
        return ngettext("Add the follow-up “%(title)s” for %(user)s to %(count)s contact?",
                        "Add the follow-up “%(title)s” for %(user)s to %(count)s contacts?",
                        count) % {"title": data["title"], "user": data["user"].display_name,
                                  "count": intcomma(count)}
    return ngettext("Add %(count)s contact to the audience of “%(campaign)s”?",
                    "Add %(count)s contacts to the audience of “%(campaign)s”?", count) % {
        "count": intcomma(count), "campaign": data["campaign"]}


def _done_message(form, count: int) -> str:
    data = form.cleaned_data
    action = data["action"]
    if action == "assign":
        owner = data["user"].display_name if data["user"] else _("nobody")
        return ngettext("%(count)d contact given to %(owner)s.",
                        "%(count)d contacts given to %(owner)s.", count) % {
            "count": count, "owner": owner}
    if action == "follow_up":
        return ngettext("Follow-up added to %(count)d contact.",
                        "Follow-up added to %(count)d contacts.", count) % {"count": count}
    return ngettext("%(count)d contact added to the audience of “%(campaign)s”.",
                    "%(count)d contacts added to the audience of “%(campaign)s”.", count) % {
        "count": count, "campaign": data["campaign"]}


class _JobMixin(LoginRequiredMixin):
    def job(self) -> BulkAssignJob:
        job = get_object_or_404(BulkAssignJob, pk=self.kwargs["pk"])
        if job.created_by_id != self.request.user.pk and not is_manager(self.request.user):
            raise PermissionDenied
        return job


class BulkJobView(_JobMixin, TemplateView):
    """A background owner change: a progress bar that polls BulkJobProgressView."""

    template_name = "dashboard/bulk_job.html"

    def get_context_data(self, **kwargs):
        job = self.job()
        query = job.query
        return super().get_context_data(
            job=job, progress=bulk.job_progress(job),
            back=reverse("dashboard:contact_list") + (f"?{query}" if query else ""), **kwargs)


class BulkJobProgressView(_JobMixin, View):
    def get(self, request, pk: int):
        return JsonResponse(bulk.job_progress(self.job()))

"""Change a follow-up (what, when, for whom) from its own small page: the assignee or a
manager; a new assignee or due moment is reminded again (customers.followups)."""
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import FormView

from accounts.roles import is_manager
from customers import followups
from customers.forms import FollowUpForm
from customers.models import FollowUp


class FollowUpEditView(PermissionRequiredMixin, FormView):
    permission_required = "customers.change_followup"
    template_name = "dashboard/follow_up_form.html"
    form_class = FollowUpForm

    def dispatch(self, request, *args, **kwargs):
        self.follow_up = get_object_or_404(FollowUp.objects.select_related("contact"),
                                           pk=kwargs["pk"])
        if not request.user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)  # to the login page
        if (self.follow_up.assigned_to_id != request.user.pk
                and not is_manager(request.user)):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        task = self.follow_up
        kwargs = super().get_form_kwargs()
        kwargs["initial"] = {"title": task.title, "due_on": task.due_on,
                             "due_time": task.due_time}
        return {**kwargs, "user": task.assigned_to}

    def get_context_data(self, **kwargs):
        return super().get_context_data(follow_up=self.follow_up,
                                        contact=self.follow_up.contact, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            followups.follow_up_update(
                follow_up=self.follow_up, changed_by=self.request.user,
                assigned_to=data["assigned_to"] or self.follow_up.assigned_to,
                title=data["title"], due_on=data["due_on"], due_time=data["due_time"])
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        messages.success(self.request, _("Follow-up changed."))
        return HttpResponseRedirect(reverse("dashboard:contact_detail",
                                            args=[self.follow_up.contact_id]))

"""Cases in the admin go through support.services like every other door: opening fixes the due
times, a status change stamps the first answer and the solution, an owner change is an
assignment. The fields those services own are read-only here."""
from django.contrib import admin
from django.http import HttpRequest

from . import services
from .models import Case, ServiceTarget

# What the admin's add page asks for; everything else is set by case_open.
ADD_FIELDS = ("contact", "subject", "description", "channel", "priority", "owner")
# What a manager may change afterwards, each through its service (see CaseAdmin.save_model).
EDIT_FIELDS = ("subject", "description", "channel")
# Set by the services only: the due times at opening, the stamps on status changes, and the
# confirmation of a public-form case (only the owner of the address confirms it, through the
# emailed link).
SERVICE_FIELDS = ("created_at", "first_response_due", "resolution_due", "first_response_at",
                  "solved_at", "verified", "confirmation_sent_at", "verified_at")
# Fixed once the case is open: the due times were measured from them.
FIXED_AFTER_OPENING = ("contact", "priority")


@admin.register(ServiceTarget)
class ServiceTargetAdmin(admin.ModelAdmin):
    list_display = ("priority", "first_response_hours", "resolution_hours")


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("subject", "contact", "verified", "priority", "status", "owner",
                    "created_at", "first_response_at", "solved_at")
    list_filter = ("status", "priority", "channel", "verified")
    search_fields = ("subject", "contact__email")
    raw_id_fields = ("contact",)
    list_select_related = ("contact", "owner")

    def get_fields(self, request: HttpRequest, obj: Case | None = None):
        if obj is None:
            return ADD_FIELDS
        return (*FIXED_AFTER_OPENING, *EDIT_FIELDS, "status", "owner", *SERVICE_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Case | None = None):
        return () if obj is None else (*FIXED_AFTER_OPENING, *SERVICE_FIELDS)

    def save_model(self, request: HttpRequest, obj: Case, form, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            case = services.case_open(
                contact=data["contact"], subject=data["subject"],
                description=data["description"], channel=data["channel"],
                priority=data["priority"], owner=data["owner"])
        else:
            # A fresh copy: the form has already written the new values onto `obj`.
            case = Case.objects.get(pk=obj.pk)
            changed = set(form.changed_data)
            if changed & set(EDIT_FIELDS):
                services.case_edit(case=case, subject=data["subject"],
                                   description=data["description"], channel=data["channel"])
            if "owner" in changed:
                services.case_assign(case=case, owner=data["owner"])
            if "status" in changed:
                services.case_set_status(case=case, status=data["status"])
        _adopt(obj, case)


def _adopt(obj: Case, case: Case) -> None:
    """Make the admin's form object the row the services saved, for its log and redirect."""
    for field in Case._meta.concrete_fields:
        setattr(obj, field.attname, getattr(case, field.attname))
    obj._state.adding = False

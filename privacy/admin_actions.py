"""Admin actions for the Contact admin: export and erase the selected contacts.

customers/admin.py adds them through customers.hooks.contact_admin_actions (registered in
privacy/customer_hooks.py), so customers never imports privacy for them.
They call the same services as the privacy pages, so the audit log is the same.
"""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, ngettext

from .models import PrivacyLog
from .services import EXPORT_FORMAT, contact_erase, contact_export_logged
from .views import ERASE_PERMISSION, EXPORT_PERMISSION, json_response


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


@admin.action(description=_("Export personal data (JSON)"))
def export_contacts_json(modeladmin, request, queryset):
    """One JSON file with one export per selected contact; each export is logged."""
    _require(request, EXPORT_PERMISSION)
    exports = [contact_export_logged(contact=contact, by=request.user,
                                     action=PrivacyLog.Action.EXPORT_JSON)
               for contact in queryset.select_related("owner").order_by("pk")]
    data = {"format": EXPORT_FORMAT, "exported_at": timezone.now().isoformat(),
            "contacts": exports}
    return json_response(data, f"contacts-personal-data-{timezone.now():%Y%m%d-%H%M}.json")


@admin.action(description=_("Erase personal data"))
def erase_contacts(modeladmin, request, queryset):
    """Asks for confirmation first (like delete_selected), then erases each contact."""
    _require(request, ERASE_PERMISSION)
    if request.POST.get("confirm_erase") != "yes":
        context = {**modeladmin.admin_site.each_context(request),
                   "title": _("Erase personal data"), "contacts": queryset.order_by("pk"),
                   "opts": modeladmin.model._meta,
                   "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
        return TemplateResponse(request, "admin/privacy/erase_confirmation.html", context)
    contacts = list(queryset.order_by("pk"))
    for contact in contacts:
        contact_erase(contact, by=request.user)
    modeladmin.message_user(request, ngettext(
        "Erased the personal data of %(count)d contact.",
        "Erased the personal data of %(count)d contacts.", len(contacts)) % {"count": len(contacts)},
        messages.SUCCESS)
    return None


def privacy_contact_actions() -> list:
    return [export_contacts_json, erase_contacts]

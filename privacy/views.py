"""Manager-only pages for data-subject requests: one page per contact with export and erase.

Exports are POST too: each one writes an audit entry, so a link prefetcher or a crawler must
not be able to create one.
"""
import json

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from customers.models import Contact

from .forms import EraseConfirmForm
from .models import PrivacyLog
from .services import (
    contact_erase,
    contact_export_logged,
    export_as_csv_zip,
    is_erased,
    list_section_names,
)

EXPORT_PERMISSION = "privacy.export_contact"
ERASE_PERMISSION = "privacy.erase_contact"


def export_filename(contact: Contact, extension: str) -> str:
    # The id only: the file name shows up in download lists and browser history.
    return f"contact-{contact.pk}-personal-data.{extension}"


def json_response(data, filename: str) -> HttpResponse:
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def zip_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class _PrivacyView(PermissionRequiredMixin, View):
    raise_exception = True  # signed-in staff without the right get 403, not a login loop

    def contact(self) -> Contact:
        return get_object_or_404(Contact.objects.select_related("owner"), pk=self.kwargs["pk"])


def _page(request, contact: Contact, form: EraseConfirmForm | None = None, status: int = 200):
    context = {
        "contact": contact,
        "erased": is_erased(contact),
        "can_erase": request.user.has_perm(ERASE_PERMISSION),
        "form": form or EraseConfirmForm(expected_email=contact.email),
        "sections": list_section_names(),
        "log": PrivacyLog.objects.filter(contact_ref=contact.pk).select_related("actor")[:20],
    }
    return render(request, "privacy/contact_privacy.html", context, status=status)


class PrivacyContactView(_PrivacyView):
    permission_required = EXPORT_PERMISSION

    def get(self, request, pk: int):
        return _page(request, self.contact())


class ExportJsonView(_PrivacyView):
    permission_required = EXPORT_PERMISSION

    def post(self, request, pk: int):
        contact = self.contact()
        data = contact_export_logged(contact=contact, by=request.user,
                                     action=PrivacyLog.Action.EXPORT_JSON)
        return json_response(data, export_filename(contact, "json"))


class ExportCsvView(_PrivacyView):
    permission_required = EXPORT_PERMISSION

    def post(self, request, pk: int):
        contact = self.contact()
        data = contact_export_logged(contact=contact, by=request.user,
                                     action=PrivacyLog.Action.EXPORT_CSV)
        return zip_response(export_as_csv_zip(data), export_filename(contact, "zip"))


class EraseView(_PrivacyView):
    permission_required = (EXPORT_PERMISSION, ERASE_PERMISSION)

    def post(self, request, pk: int):
        contact = self.contact()
        form = EraseConfirmForm(request.POST, expected_email=contact.email)
        if not form.is_valid():
            return _page(request, contact, form, status=400)
        contact_erase(contact, by=request.user)
        messages.success(request, _("The contact's personal data was erased."))
        return redirect("privacy:contact", pk=contact.pk)

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from customers.models import Contact
from privacy.admin_actions import erase_contacts, export_contacts_json
from privacy.models import PrivacyLog

from .conftest import EMAIL

pytestmark = pytest.mark.django_db


def _request(user, data=None):
    request = RequestFactory().post("/admin/customers/contact/", data or {})
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _modeladmin():
    return admin.site._registry[Contact]


def test_export_action_logs_each_contact(rich_contact, privacy_manager):
    response = export_contacts_json(_modeladmin(), _request(privacy_manager),
                                    Contact.objects.filter(pk=rich_contact.pk))

    assert response.status_code == 200
    assert list(PrivacyLog.objects.values_list("action", "contact_ref")) == [
        ("export_json", rich_contact.pk)]


def test_erase_action_asks_first(rich_contact, privacy_manager):
    response = erase_contacts(_modeladmin(), _request(privacy_manager),
                              Contact.objects.filter(pk=rich_contact.pk))

    assert response.template_name == "admin/privacy/erase_confirmation.html"
    assert Contact.objects.get(pk=rich_contact.pk).email == EMAIL


def test_erase_action_erases_once_confirmed(rich_contact, privacy_manager):
    erase_contacts(_modeladmin(), _request(privacy_manager, {"confirm_erase": "yes"}),
                   Contact.objects.filter(pk=rich_contact.pk))

    assert Contact.objects.get(pk=rich_contact.pk).email == f"erased-{rich_contact.pk}@erased.invalid"


def test_actions_refuse_users_without_the_permission(rich_contact, sales_user):
    with pytest.raises(PermissionDenied):
        erase_contacts(_modeladmin(), _request(sales_user, {"confirm_erase": "yes"}),
                       Contact.objects.all())

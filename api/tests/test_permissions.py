"""The API grants what the role grants in the web UI (accounts.roles.ROLE_PERMISSIONS)."""

import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import SalesStaffFactory, UserFactory
from api.tests.helpers import token_client
from customers.models import Contact, Purchase
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

PURCHASE = {"email": "new@example.com", "purchased_at": "2024-05-31T14:30:00+03:00",
            "amount": "19.90", "currency": "USD"}


def test_sales_staff_reads_contacts_and_scores(sales_api):
    contact = ContactFactory()

    assert sales_api.get("/api/contacts/").status_code == 200
    assert sales_api.get(f"/api/contacts/{contact.pk}/").status_code == 200
    assert sales_api.get(f"/api/contacts/{contact.pk}/score/").status_code == 404  # not scored
    assert sales_api.get("/api/purchases/").status_code == 200


def test_sales_staff_creates_contacts_and_purchases(sales_api):
    assert sales_api.post("/api/contacts/", {"email": "a@example.com"},
                          format="json").status_code == 201
    assert sales_api.post("/api/purchases/", PURCHASE, format="json").status_code == 201


def test_user_without_a_role_is_refused_everything(no_role_api):
    contact = ContactFactory()

    assert no_role_api.get("/api/contacts/").status_code == 403
    assert no_role_api.get(f"/api/contacts/{contact.pk}/").status_code == 403
    assert no_role_api.get(f"/api/contacts/{contact.pk}/score/").status_code == 403
    assert no_role_api.get("/api/purchases/").status_code == 403
    assert no_role_api.post("/api/contacts/", {"email": "a@example.com"},
                            format="json").status_code == 403
    assert no_role_api.patch(f"/api/contacts/{contact.pk}/", {"first_name": "X"},
                             format="json").status_code == 403
    assert no_role_api.post("/api/purchases/", PURCHASE, format="json").status_code == 403
    assert Purchase.objects.count() == 0
    assert Contact.objects.count() == 1


def test_read_only_permission_cannot_change_a_contact(db):
    reader = UserFactory(username="reader")
    reader.user_permissions.add(Permission.objects.get(codename="view_contact"))
    client = token_client(reader)
    contact = ContactFactory(first_name="Ann")

    assert client.get(f"/api/contacts/{contact.pk}/").status_code == 200
    response = client.patch(f"/api/contacts/{contact.pk}/", {"first_name": "Bo"}, format="json")

    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.first_name == "Ann"


def test_manager_changes_a_contacts_owner(manager_api):
    seller = SalesStaffFactory(username="seller")
    contact = ContactFactory()

    response = manager_api.patch(f"/api/contacts/{contact.pk}/", {"owner": seller.pk},
                                 format="json")

    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.owner == seller


def test_sales_staff_changes_owner_as_in_the_web_ui(sales_api, sales_user):
    """Sales staff hold customers.change_contact (the contact page's owner form)."""
    contact = ContactFactory()

    response = sales_api.patch(f"/api/contacts/{contact.pk}/", {"owner": sales_user.pk},
                               format="json")

    assert response.status_code == 200
    assert response.json()["owner"] == sales_user.pk


def test_unused_method_is_not_allowed(manager_api):
    contact = ContactFactory()

    assert manager_api.delete(f"/api/contacts/{contact.pk}/").status_code == 405
    assert manager_api.put(f"/api/contacts/{contact.pk}/", {}, format="json").status_code == 405
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_purchase_records_the_api_user(sales_api, sales_user):
    sales_api.post("/api/purchases/", PURCHASE, format="json")

    assert Purchase.objects.get().recorded_by == sales_user


def test_purchase_by_new_email_needs_add_contact(db):
    recorder = UserFactory(username="recorder")
    recorder.user_permissions.add(Permission.objects.get(codename="add_purchase"))
    client = token_client(recorder)
    ContactFactory(email="known@example.com")

    refused = client.post("/api/purchases/", PURCHASE, format="json")
    accepted = client.post("/api/purchases/", {**PURCHASE, "email": "known@example.com"},
                           format="json")

    assert refused.status_code == 403
    assert accepted.status_code == 201
    assert list(Contact.objects.values_list("email", flat=True)) == ["known@example.com"]
    assert Purchase.objects.count() == 1


def test_permissions_load_in_one_query_and_match_the_model_backend(
        sales_user, django_assert_num_queries):
    from django.contrib.auth.models import Permission

    from accounts.models import User
    from accounts.backends import load_permissions

    sales_user.user_permissions.add(Permission.objects.get(codename="delete_note"))
    fresh = User.objects.get(pk=sales_user.pk)
    with django_assert_num_queries(1):
        load_permissions(fresh)
    reference = User.objects.get(pk=sales_user.pk)
    assert fresh.get_all_permissions() == reference.get_all_permissions()
    assert "customers.delete_note" in fresh.get_all_permissions()
    assert "customers.add_purchase" in fresh.get_all_permissions()

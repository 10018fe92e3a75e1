"""The two role groups exist after migrations, with exactly the intended permissions."""
import pytest
from django.contrib.auth.models import Group, Permission

from accounts.roles import MANAGERS, SALES_STAFF, is_manager, is_sales_staff
from accounts.tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def codes(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")}


def test_both_groups_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= {MANAGERS, SALES_STAFF}


def test_sales_staff_have_exactly_the_dashboard_permissions():
    assert codes(SALES_STAFF) == {
        "customers.view_contact", "customers.add_contact", "customers.change_contact",
        "customers.view_purchase", "customers.add_purchase", "customers.view_currencyrate",
        "customers.view_contactscore", "customers.view_note", "customers.add_note",
        "customers.view_followup", "customers.add_followup", "customers.change_followup",
        "customers.view_calllog", "customers.add_calllog",
        "campaigns.view_message", "campaigns.view_coupon", "campaigns.view_campaign",
        "support.view_case", "support.add_case", "support.change_case",
        "feedback.view_surveyresponse", "activity.view_websiteevent",
        "customers.view_consentrecord", "customers.view_consentwording",
    }


def test_sales_staff_cannot_delete_anything():
    assert not any(code.split(".")[1].startswith("delete_") for code in codes(SALES_STAFF))


def test_sales_staff_cannot_change_purchases_or_rates():
    assert {"customers.change_purchase", "customers.add_currencyrate",
            "customers.change_currencyrate"}.isdisjoint(codes(SALES_STAFF))


def test_managers_have_every_customers_permission():
    every = {f"customers.{p.codename}"
             for p in Permission.objects.filter(content_type__app_label="customers")}
    assert every >= {"customers.delete_contact", "customers.delete_purchase",
                     "customers.change_currencyrate"}
    assert every <= codes(MANAGERS)


def test_managers_can_manage_users_and_schedules():
    assert {"accounts.change_user", "django_celery_beat.change_periodictask",
            "auth.view_group"} <= codes(MANAGERS)


def test_managers_cannot_edit_groups():
    # Changing what a role may do is a code change (accounts.roles), not an admin click.
    assert "auth.change_group" not in codes(MANAGERS)


def test_sales_user_has_role_permissions(sales_user):
    assert sales_user.has_perm("customers.add_purchase")
    assert not sales_user.has_perm("customers.delete_contact")


def test_is_manager_for_the_managers_group(manager, sales_user):
    assert (is_manager(manager), is_manager(sales_user)) == (True, False)


def test_is_sales_staff_for_the_sales_group(manager, sales_user):
    assert (is_sales_staff(sales_user), is_sales_staff(manager)) == (True, False)


def test_active_superuser_is_a_manager_without_the_group():
    assert is_manager(UserFactory(username="root", is_superuser=True))


def test_inactive_manager_is_no_manager():
    assert not is_manager(ManagerFactory(username="left", is_active=False))

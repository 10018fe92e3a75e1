"""Who may own a contact, one rule (customers.owners) for every door: an active user with the
sales staff or manager role. The services refuse anyone else; the admin, the dashboard and the
API offer the same choices and refuse with the same words."""
import pytest
from django.contrib import messages as django_messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.tests.factories import ManagerFactory, SalesStaffFactory, UserFactory
from api.serializers import ContactSerializer
from api.tests.helpers import token_client
from customers.services.contacts import contact_create, contact_update, contacts_assign_owner
from customers.admin.contacts import AssignOwnerForm, ContactAdminForm
from customers.forms import OwnerForm
from customers.models import Contact
from customers.owners import OWNER_REFUSED, eligible_owners, owner_choices
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

CONTACTS = reverse("admin:customers_contact_changelist")
REFUSED = str(OWNER_REFUSED)
INELIGIBLE = {
    "inactive sales staff": lambda: SalesStaffFactory(username="gone", is_active=False),
    "inactive manager": lambda: ManagerFactory(username="retired", is_active=False),
    "no role": lambda: UserFactory(username="norole"),
    "staff flag but no role": lambda: UserFactory(username="flagged", is_staff=True),
}
ELIGIBLE = {
    "sales staff": lambda: SalesStaffFactory(username="seller"),
    "manager": lambda: ManagerFactory(username="boss"),
}


@pytest.fixture
def doors(client, manager):
    """Each door that changes an existing contact's owner: (contact, owner) -> the refusal
    the door showed, or None when it accepted."""
    client.force_login(manager)
    api = token_client(manager)

    def admin_form(contact, owner):
        response = client.post(reverse("admin:customers_contact_change", args=[contact.pk]), {
            "email": contact.email, "first_name": contact.first_name,
            "last_name": contact.last_name, "phone": "", "language": "", "owner": owner.pk,
            "purchases-TOTAL_FORMS": "0", "purchases-INITIAL_FORMS": "0",
            "purchases-MIN_NUM_FORMS": "0", "purchases-MAX_NUM_FORMS": "0"})
        if response.status_code == 302:
            return None
        return " ".join(response.context["adminform"].form.errors["owner"])

    def admin_action(contact, owner):
        response = client.post(CONTACTS, {
            "action": "assign_owner", "index": "0", "apply": "1", "owner": owner.pk,
            helpers.ACTION_CHECKBOX_NAME: [str(contact.pk)]})
        if response.status_code == 302:
            return None
        return " ".join(response.context["form"].errors["owner"])

    def dashboard(contact, owner):
        response = client.post(reverse("dashboard:owner_change", args=[contact.pk]),
                               {"owner": owner.pk})
        errors = [str(m) for m in response.wsgi_request._messages
                  if m.level == django_messages.ERROR]
        return " ".join(errors) or None

    def api_patch(contact, owner):
        response = api.patch(f"/api/contacts/{contact.pk}/", {"owner": owner.pk}, format="json")
        if response.status_code == 200:
            return None
        assert response.status_code == 400
        assert list(response.json()) == ["owner"]
        return " ".join(response.json()["owner"])

    def service(contact, owner):
        try:
            contact_update(contact=contact, owner=owner)
        except ValidationError as error:
            assert list(error.message_dict) == ["owner"]
            return " ".join(error.message_dict["owner"])
        return None

    return {"admin form": admin_form, "admin action": admin_action, "dashboard": dashboard,
            "api": api_patch, "service": service}


DOORS = ["admin form", "admin action", "dashboard", "api", "service"]


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("who", list(INELIGIBLE))
def test_an_ineligible_owner_is_refused_the_same_way_through_every_door(doors, door, who,
                                                                         sales_user):
    contact = ContactFactory(owner=sales_user)
    owner = INELIGIBLE[who]()

    refusal = doors[door](contact, owner)

    assert refusal == REFUSED
    contact.refresh_from_db()
    assert contact.owner == sales_user


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("who", list(ELIGIBLE))
def test_an_eligible_owner_is_stored_the_same_way_through_every_door(doors, door, who):
    contact = ContactFactory()
    owner = ELIGIBLE[who]()

    assert doors[door](contact, owner) is None

    contact.refresh_from_db()
    assert contact.owner == owner


# --- New contacts and bulk assignment ---------------------------------------------------------

@pytest.mark.parametrize("who", list(INELIGIBLE))
def test_no_contact_is_created_for_an_ineligible_owner(client, manager, who):
    owner = INELIGIBLE[who]()
    client.force_login(manager)

    admin = client.post(reverse("admin:customers_contact_add"), {
        "email": "ann@example.com", "first_name": "Ann", "last_name": "", "phone": "",
        "language": "", "owner": owner.pk, "purchases-TOTAL_FORMS": "0",
        "purchases-INITIAL_FORMS": "0", "purchases-MIN_NUM_FORMS": "0",
        "purchases-MAX_NUM_FORMS": "0"})
    api = token_client(manager).post("/api/contacts/", {
        "email": "ann@example.com", "owner": owner.pk}, format="json")
    with pytest.raises(ValidationError) as service:
        contact_create(email="ann@example.com", owner=owner)

    assert admin.context["adminform"].form.errors["owner"] == [REFUSED]
    assert api.status_code == 400 and api.json() == {"owner": [REFUSED]}
    assert service.value.message_dict == {"owner": [REFUSED]}
    assert not Contact.objects.exists()


def test_bulk_assignment_refuses_an_ineligible_owner_and_allows_nobody(sales_user):
    contacts = [ContactFactory(owner=sales_user), ContactFactory(owner=sales_user)]

    with pytest.raises(ValidationError):
        contacts_assign_owner(contacts=Contact.objects.all(),
                                       owner=UserFactory(username="norole"))
    assert set(Contact.objects.values_list("owner_id", flat=True)) == {sales_user.pk}

    assert contacts_assign_owner(contacts=Contact.objects.all(), owner=None) == 2
    assert not Contact.objects.filter(owner__isnull=False).exists()
    assert len(contacts) == 2


# --- The current owner who has since left ---------------------------------------------------

def test_a_former_owner_stays_while_other_fields_change_but_cannot_be_given_again(
        client, manager):
    leaver = SalesStaffFactory(username="leaver")
    contact = ContactFactory(owner=leaver, first_name="Ann")
    leaver.is_active = False
    leaver.save(update_fields=["is_active"])
    client.force_login(manager)
    api = token_client(manager)

    # The admin form and the API (sending the owner back unchanged) keep them ...
    client.post(reverse("admin:customers_contact_change", args=[contact.pk]), {
        "email": contact.email, "first_name": "Anna", "last_name": contact.last_name,
        "phone": "", "language": "", "owner": leaver.pk, "purchases-TOTAL_FORMS": "0",
        "purchases-INITIAL_FORMS": "0", "purchases-MIN_NUM_FORMS": "0",
        "purchases-MAX_NUM_FORMS": "0"})
    kept = api.patch(f"/api/contacts/{contact.pk}/", {"last_name": "Smith", "owner": leaver.pk},
                     format="json")
    contact.refresh_from_db()
    contact_update(contact=contact, owner=leaver, phone="")
    contact.refresh_from_db()
    assert kept.status_code == 200
    assert (contact.first_name, contact.last_name, contact.owner) == ("Anna", "Smith", leaver)

    # ... but nobody can make them the owner of another contact.
    other = ContactFactory()
    with pytest.raises(ValidationError):
        contact_update(contact=other, owner=leaver)
    refused = api.patch(f"/api/contacts/{other.pk}/", {"owner": leaver.pk}, format="json")
    assert refused.json() == {"owner": [REFUSED]}


def test_every_door_offers_the_same_choices(sales_user, manager):
    SalesStaffFactory(username="gone", is_active=False)
    UserFactory(username="norole")
    contact = ContactFactory()
    expected = [manager, sales_user]  # by username: marta, sally
    assert list(eligible_owners()) == expected
    assert list(OwnerForm().fields["owner"].queryset) == expected
    assert list(AssignOwnerForm().fields["owner"].queryset) == expected
    assert list(ContactAdminForm(instance=contact).fields["owner"].queryset) == expected
    assert list(ContactSerializer(contact).fields["owner"].queryset) == expected
    assert list(owner_choices(current=None)) == expected


def test_an_owner_who_lost_the_role_after_the_form_was_checked_is_a_message_not_an_error(
        sales_client, sales_user, monkeypatch):
    # The form offers eligible owners; the service checks again when it saves (a race).
    contact = ContactFactory()
    colleague = SalesStaffFactory()

    def lost_the_role(**_kwargs):
        raise ValidationError(OWNER_REFUSED)

    monkeypatch.setattr("dashboard.views.contacts_assign_owner", lost_the_role)
    response = sales_client.post(reverse("dashboard:owner_change", args=[contact.pk]),
                                 {"owner": colleague.pk}, follow=True)

    assert response.status_code == 200
    assert [str(m) for m in django_messages.get_messages(response.wsgi_request)] == [
        str(OWNER_REFUSED)]
    contact.refresh_from_db()
    assert contact.owner is None

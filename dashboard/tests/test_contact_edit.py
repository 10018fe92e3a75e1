"""Sales staff fix a contact from the dashboard (#19 point 3): name, email, phone, language,
owner and consent, through the same services as the admin and the API; consent goes to the
ledger with its method, evidence and wording."""
import pytest
from django.urls import reverse

from accounts.tests.factories import SalesStaffFactory
from customers.consent.models import ConsentRecord
from customers.models import Contact
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _form(contact: Contact, **changes) -> dict:
    data = {"email": contact.email, "first_name": contact.first_name,
            "last_name": contact.last_name, "phone": contact.phone, "language": contact.language,
            "owner": contact.owner_id or "", "consent_method": "", "consent_evidence": ""}
    if contact.marketing_consent:
        data["marketing_consent"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_contact_page_links_to_the_edit_page(sales_client):
    contact = ContactFactory()
    page = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))
    assert reverse("dashboard:contact_edit", args=[contact.pk]) in page.content.decode()


def test_sales_staff_fix_name_phone_language_and_owner(sales_client, sales_user):
    colleague = SalesStaffFactory(first_name="Sam", last_name="Seller")
    contact = ContactFactory(first_name="Ayse", last_name="Yilmz", owner=sales_user)
    url = reverse("dashboard:contact_edit", args=[contact.pk])

    form = sales_client.get(url).content.decode()
    assert ">Sam Seller</option>" in form

    response = sales_client.post(url, _form(contact, first_name="Ayşe", last_name="Yılmaz",
                                            phone="0532 123 45 67", language="tr",
                                            owner=colleague.pk))

    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name, contact.language, contact.owner) == (
        "Ayşe", "Yılmaz", "tr", colleague)
    assert contact.phone.startswith("+90532")  # E.164, as every door stores it


@pytest.mark.parametrize(("field", "value", "error"), [
    ("phone", "not a phone", "phone"),
    ("email", "taken@example.com", "email"),
    ("email", "no-at-sign", "email"),
])
def test_a_bad_change_is_refused_on_the_form_and_nothing_is_saved(
        sales_client, field, value, error):
    ContactFactory(email="taken@example.com")
    contact = ContactFactory(first_name="Can")
    url = reverse("dashboard:contact_edit", args=[contact.pk])

    response = sales_client.post(url, _form(contact, first_name="Changed", **{field: value}))

    assert response.status_code == 200
    assert error in response.context["form"].errors
    contact.refresh_from_db()
    assert contact.first_name == "Can"


def test_consent_given_on_the_edit_page_goes_to_the_ledger_with_its_evidence(
        sales_client, sales_user):
    contact = ContactFactory(marketing_consent=False)
    url = reverse("dashboard:contact_edit", args=[contact.pk])

    refused = sales_client.post(url, _form(contact, marketing_consent="on"))
    assert "consent_method" in refused.context["form"].errors
    assert not ConsentRecord.objects.filter(contact=contact).exists()

    sales_client.post(url, _form(contact, marketing_consent="on", consent_method="request",
                                 consent_evidence="asked on the phone, order 1234"))

    contact.refresh_from_db()
    record = ConsentRecord.objects.get(contact=contact)
    assert contact.marketing_consent is True
    assert (record.given, record.method, record.evidence, record.recorded_by) == (
        True, "request", "asked on the phone, order 1234", sales_user)

    sales_client.post(url, _form(contact, marketing_consent=None))  # unticked: withdrawn

    contact.refresh_from_db()
    assert contact.marketing_consent is False
    assert list(ConsentRecord.objects.filter(contact=contact).order_by("id")
                .values_list("given", flat=True)) == [True, False]


def test_saving_without_changing_consent_adds_nothing_to_the_ledger(sales_client):
    contact = ContactFactory()
    url = reverse("dashboard:contact_edit", args=[contact.pk])
    sales_client.post(url, _form(contact, first_name="Other"))
    assert not ConsentRecord.objects.filter(contact=contact).exists()


def test_users_without_the_change_permission_are_refused(client, db):
    from accounts.tests.factories import UserFactory

    contact = ContactFactory()
    client.force_login(UserFactory())
    assert client.get(reverse("dashboard:contact_edit", args=[contact.pk])).status_code == 403


HOSTILE = '<script>alert("x")</script>=HYPERLINK("http://evil")'


def test_hostile_text_saved_on_the_edit_page_is_shown_as_text_everywhere(sales_client,
                                                                        admin_client):
    contact = ContactFactory()
    url = reverse("dashboard:contact_edit", args=[contact.pk])

    sales_client.post(url, _form(contact, first_name=HOSTILE[:150]))

    contact.refresh_from_db()
    assert contact.first_name == HOSTILE[:150]  # kept as typed, never altered
    pages = [sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk])),
             sales_client.get(url),
             sales_client.get(reverse("dashboard:contact_list")),
             admin_client.get(reverse("admin:customers_contact_change", args=[contact.pk]))]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert "<script>alert" not in html and "&lt;script&gt;" in html

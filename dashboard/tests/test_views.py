"""The first sales pages: contact list with search, contact detail, recording a purchase."""
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Contact, Purchase, Stage
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


def test_contact_list_searches_names_and_emails(sales_client):
    ContactFactory(email="ayse@example.com", first_name="Ayşe", last_name="Kaya")
    ContactFactory(email="bob@example.com", first_name="Bob", last_name="Stone")

    by_name = sales_client.get(reverse("dashboard:contact_list"), {"q": "kaya"})
    by_email = sales_client.get(reverse("dashboard:contact_list"), {"q": "BOB@EXAMPLE"})

    assert [c.email for c in by_name.context["contacts"]] == ["ayse@example.com"]
    assert [c.email for c in by_email.context["contacts"]] == ["bob@example.com"]


def test_contact_list_filters_by_stage_and_mine(sales_client, sales_user):
    mine = ContactFactory(owner=sales_user)
    record_purchase(mine)
    ContactFactory()

    response = sales_client.get(reverse("dashboard:contact_list"),
                                {"stage": Stage.ONE_TIME, "mine": "1"})

    assert list(response.context["contacts"]) == [mine]


def test_unknown_stage_filter_is_ignored(sales_client):
    ContactFactory()

    response = sales_client.get(reverse("dashboard:contact_list"), {"stage": "'; DROP TABLE"})

    assert response.status_code == 200
    assert len(response.context["contacts"]) == 1


def test_contact_list_query_count_does_not_grow_with_rows(sales_client,
                                                         django_assert_max_num_queries,
                                                         sales_user):
    for _ in range(30):
        ContactFactory(owner=sales_user)

    # session, user, user and group permissions, manager check, current scoring run, (on
    # PostgreSQL the planner's estimate,) count, one page with owners and scores, which of
    # them wait for an exchange rate, the staff menu (owner and follow-up bulk actions), the
    # navigation bar's count of follow-ups due
    with django_assert_max_num_queries(11):
        response = sales_client.get(reverse("dashboard:contact_list"))

    assert len(response.context["contacts"]) == 25  # a full page


def test_empty_list_says_so(sales_client):
    response = sales_client.get(reverse("dashboard:contact_list"), {"q": "nobody"})

    assert "No contact matches this search." in response.content.decode()


def test_contact_detail_shows_purchase_history(sales_client):
    contact = ContactFactory()
    record_purchase(contact, amount="12.34")

    response = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))

    assert response.status_code == 200
    assert "$12.34" in response.content.decode()
    assert "One-time buyer" in response.content.decode()


def test_recording_a_purchase_from_the_short_form(sales_client, sales_user):
    contact = ContactFactory()
    record_purchase(contact, days_ago=20)

    response = sales_client.post(
        reverse("dashboard:purchase_create", args=[contact.pk]),
        {"amount": "25.50", "currency": "usd", "purchased_at": "2026-01-05T10:30",
         "channel": "store", "quantity": "1", "code": ""},
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.stage == Stage.REPEAT
    purchase = contact.purchases.latest("created_at")
    assert (purchase.amount, purchase.currency, purchase.recorded_by) == (Decimal("25.50"), "USD", sales_user)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("amount", "-5", "greater than or equal to 0"),
        ("amount", "abc", "Enter a number"),
        ("amount", "1.999", "at most 2 decimal places"),
        ("currency", "ZZZ", "Unknown currency ZZZ"),
        ("currency", "TLX", "Unknown currency TLX"),
        ("purchased_at", "2099-01-01T10:00", "in the future"),
        ("purchased_at", "yesterday", "Enter a valid date/time"),
    ],
)
def test_bad_purchase_input_shows_the_error_and_saves_nothing(sales_client, field, value, error):
    contact = ContactFactory()
    data = {"amount": "10", "currency": "USD", "purchased_at": "2026-01-05T10:30",
            "channel": "store", "quantity": "1", field: value}

    response = sales_client.post(reverse("dashboard:purchase_create", args=[contact.pk]), data)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert Purchase.objects.count() == 0


def test_creating_a_contact_makes_the_user_its_owner(sales_client, sales_user):
    response = sales_client.post(reverse("dashboard:contact_create"), {
        "email": " New.Person@Example.com ", "first_name": "New", "last_name": "Person",
        "phone": "", "marketing_consent": "on", "consent_method": "staff_form"})

    contact = Contact.objects.get()
    assert response.status_code == 302
    assert (contact.email, contact.owner, contact.marketing_consent, contact.consent_source) == (
        "new.person@example.com", sales_user, True, "staff")


def test_duplicate_contact_email_is_refused_on_the_form(sales_client):
    ContactFactory(email="taken@example.com")

    response = sales_client.post(reverse("dashboard:contact_create"), {"email": "TAKEN@example.com"})

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Contact.objects.count() == 1


def test_contact_page_query_count_does_not_grow_with_its_history(sales_client,
                                                                django_assert_max_num_queries):
    contact = ContactFactory()
    for days_ago in range(20):
        record_purchase(contact, days_ago=days_ago + 1)
    url = reverse("dashboard:contact_detail", args=[contact.pk])
    sales_client.get(url)

    # session, user, permissions, the contact, purchases, scores, notes, follow-ups, emails,
    # coupons, survey answers and promotion pause, cases, owners for the owner form, website
    # activity, consent history, whether a purchase waits for its exchange rate, the channel
    # labels the purchase form suggests, the follow-up form's assignees, the nav bar's count
    # of follow-ups due, the purchases' products (#20), ...: fixed, whatever the history length
    with django_assert_max_num_queries(24):
        response = sales_client.get(url)

    assert len(response.context["purchases"]) == 20


def test_the_owner_menu_names_people_as_the_lists_do(sales_client, sales_user, admin_client):
    from accounts.tests.factories import SalesStaffFactory

    SalesStaffFactory(username="sam", first_name="Sam", last_name="Seller")
    nameless = SalesStaffFactory(username="nameless", first_name="", last_name="")
    contact = ContactFactory(owner=sales_user)

    page = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))
    menu = page.content.decode().split('id="id_owner"')[1].split("</select>")[0]
    admin = admin_client.get(reverse("admin:customers_contact_change", args=[contact.pk]))
    admin_menu = admin.content.decode().split('name="owner"')[1].split("</select>")[0]

    for shown in (menu, admin_menu):
        assert ">Sam Seller</option>" in shown and ">sam</option>" not in shown
        assert f">{sales_user.display_name}</option>" in shown
        assert f">{nameless.username}</option>" in shown  # no name: the login name

"""The managers' admin: search, filters, export, actions, and writes that keep figures right."""
import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.admin import helpers
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.roles import MANAGERS
from accounts.tests.factories import SalesStaffFactory, UserFactory
from customers.admin.contacts import contact_search
from customers.models import Contact, CurrencyRate, Purchase
from customers.services.purchases import purchase_record
from customers.services.refunds import purchase_refund
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

CONTACTS = reverse("admin:customers_contact_changelist")
PURCHASES = reverse("admin:customers_purchase_changelist")
PURCHASE_ADD = reverse("admin:customers_purchase_add")
CONTACT_ADD = reverse("admin:customers_contact_add")
RATE_ADD = reverse("admin:customers_currencyrate_add")
MAY_1 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def admin_client(client, manager):
    client.force_login(manager)
    return client


def buy(contact, when=MAY_1, amount="10.00", currency="USD", **kwargs):
    return purchase_record(
        contact=contact, purchased_at=when, amount=Decimal(amount), currency=currency, **kwargs
    ).purchase


def run_action(client, url, action, objects, **extra):
    data = {"action": action, "index": "0",
            helpers.ACTION_CHECKBOX_NAME: [str(obj.pk) for obj in objects], **extra}
    return client.post(url, data)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def csv_text(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def purchase_form(contact, **overrides) -> dict:
    data = {
        "contact": str(contact.pk), "purchased_at_0": "2024-05-01", "purchased_at_1": "10:00:00",
        "amount": "25.50", "currency": "usd", "quantity": "1", "channel_label": "store", "code": "",
        "source": "manual", "external_id": "",
    }
    data.update(overrides)
    return data


def contact_form(contact=None, purchases=0, **overrides) -> dict:
    data = {
        "email": contact.email if contact else "",
        "first_name": contact.first_name if contact else "",
        "last_name": contact.last_name if contact else "", "phone": "", "owner": "",
        "purchases-TOTAL_FORMS": str(purchases), "purchases-INITIAL_FORMS": str(purchases),
        "purchases-MIN_NUM_FORMS": "0", "purchases-MAX_NUM_FORMS": "0",
    }
    if contact and contact.marketing_consent:
        data["marketing_consent"] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- Search ---------------------------------------------------------------------------------

class TestSearch:
    @pytest.fixture
    def people(self):
        return {
            "ada": ContactFactory(email="ada@example.com", first_name="Ada", last_name="Lovelace"),
            "alan": ContactFactory(email="alan@turing.org", first_name="Alan", last_name="Turing"),
            "grace": ContactFactory(email="grace@navy.mil", first_name="Grace", last_name="Hopper"),
        }

    def found(self, text) -> set[str]:
        return set(contact_search(Contact.objects.all(), text).values_list("email", flat=True))

    def test_part_of_a_name_is_found(self, people):
        assert self.found("ovela") == {"ada@example.com"}

    def test_name_search_ignores_case(self, people):
        assert self.found("HOPPER") == {"grace@navy.mil"}

    def test_email_prefix_is_found(self, people):
        assert self.found("ala") == {"alan@turing.org"}

    def test_full_email_in_any_case_is_found(self, people):
        assert self.found("  ADA@Example.com ") == {"ada@example.com"}

    def test_at_domain_finds_the_email_ending(self, people):
        assert self.found("@navy.mil") == {"grace@navy.mil"}

    def test_every_word_must_match(self, people):
        assert self.found("alan turing") == {"alan@turing.org"}
        assert self.found("alan hopper") == set()

    def test_middle_of_an_email_is_not_matched(self, people):
        # Prefix only, so the lookup can use the email index on a big table.
        assert self.found("xample") == set()

    def test_changelist_search_shows_only_matches(self, admin_client, people):
        response = admin_client.get(CONTACTS, {"q": "lovelace"})
        assert [c.email for c in response.context["cl"].result_list] == ["ada@example.com"]

    def test_changelist_search_by_email(self, admin_client, people):
        response = admin_client.get(CONTACTS, {"q": "Grace@Navy.mil"})
        assert [c.email for c in response.context["cl"].result_list] == ["grace@navy.mil"]


# --- Filters and list -----------------------------------------------------------------------

class TestContactList:
    def emails(self, response) -> list[str]:
        return sorted(c.email for c in response.context["cl"].result_list)

    def test_stage_filter(self, admin_client):
        buy(ContactFactory(email="buyer@example.com"))
        ContactFactory(email="prospect@example.com")
        response = admin_client.get(CONTACTS, {"stage": "one_time"})
        assert self.emails(response) == ["buyer@example.com"]

    def test_consent_filter(self, admin_client):
        ContactFactory(email="yes@example.com", marketing_consent=True)
        ContactFactory(email="no@example.com", marketing_consent=False)
        response = admin_client.get(CONTACTS, {"marketing_consent__exact": "1"})
        assert self.emails(response) == ["yes@example.com"]

    def test_owner_filter(self, admin_client, sales_user):
        ContactFactory(email="mine@example.com", owner=sales_user)
        ContactFactory(email="other@example.com")
        response = admin_client.get(CONTACTS, {"owner__id__exact": str(sales_user.pk)})
        assert self.emails(response) == ["mine@example.com"]

    def test_columns_show_stage_label_and_figures(self, admin_client):
        buy(ContactFactory(email="buyer@example.com"), amount="12.50")
        content = admin_client.get(CONTACTS).content.decode()
        assert "One-time buyer" in content
        assert "12.500" in content

    def test_changelist_queries_do_not_grow_with_rows(
        self, admin_client, django_assert_num_queries
    ):
        owners = [SalesStaffFactory() for _ in range(3)]
        for number in range(30):
            buy(ContactFactory(owner=owners[number % 3]))
        # user, manager group, permissions (one query), owner filter, count, rows; the session
        # (unless read from the cache, as with Redis); PostgreSQL first asks the planner's
        # estimate (too small here, so it counts).
        expected = (6 + (settings.SESSION_ENGINE == "django.contrib.sessions.backends.db")
                    + (connection.vendor == "postgresql"))
        with django_assert_num_queries(expected):
            response = admin_client.get(CONTACTS)
        assert len(response.context["cl"].result_list) == 30

    def test_purchase_filters_by_refunded_and_currency(self, admin_client):
        CurrencyRate.objects.create(currency="EUR", rate=Decimal("1.1"))
        contact = ContactFactory()
        kept = buy(contact, currency="EUR")
        refunded = buy(contact)
        admin_client.post(PURCHASES, {"action": "refund", "index": "0",
                                      helpers.ACTION_CHECKBOX_NAME: [str(refunded.pk)]})
        not_refunded = admin_client.get(PURCHASES, {"refunded": "no"})
        in_euro = admin_client.get(PURCHASES, {"currency": "EUR"})
        assert [p.pk for p in not_refunded.context["cl"].result_list] == [kept.pk]
        assert [p.pk for p in in_euro.context["cl"].result_list] == [kept.pk]

    def test_purchase_filters_by_source_and_channel(self, admin_client):
        contact = ContactFactory()
        from_csv = buy(contact, source="csv", channel="phone")
        buy(contact, source="manual", channel="store")
        by_source = admin_client.get(PURCHASES, {"source": "csv"})
        by_channel = admin_client.get(PURCHASES, {"channel__exact": "phone"})
        assert [p.pk for p in by_source.context["cl"].result_list] == [from_csv.pk]
        assert [p.pk for p in by_channel.context["cl"].result_list] == [from_csv.pk]

    def test_purchase_date_hierarchy_lists_the_years(self, admin_client):
        contact = ContactFactory()
        buy(contact, when=MAY_1.replace(year=2021))
        buy(contact, when=MAY_1)
        content = admin_client.get(PURCHASES).content.decode()
        assert "?purchased_at__year=2021" in content
        assert "?purchased_at__year=2022" not in content
        assert "?purchased_at__year=2024" in content

    def test_purchase_list_links_from_contact_page(self, admin_client):
        contact = ContactFactory()
        mine = buy(contact)
        buy(ContactFactory())
        response = admin_client.get(PURCHASES, {"contact__id__exact": str(contact.pk)})
        assert [p.pk for p in response.context["cl"].result_list] == [mine.pk]


# --- CSV export -----------------------------------------------------------------------------

class TestCsvExport:
    @pytest.fixture
    def contacts(self, sales_user):
        created = dt.datetime(2024, 4, 1, 9, 30, tzinfo=dt.timezone.utc)
        evil = ContactFactory(email="evil@example.com", first_name='=HYPERLINK("http://x")',
                              last_name="+1", phone="-2+3", created_at=created, owner=sales_user)
        buy(evil, amount="12.50")
        plain = ContactFactory(email="plain@example.com", first_name="@SUM(A1)", last_name="Smith",
                               marketing_consent=True, created_at=created)
        return evil, plain

    def test_contacts_export_is_exact_and_safe(self, admin_client, contacts):
        response = run_action(admin_client, CONTACTS, "export_csv", contacts)
        assert csv_text(response) == (
            "\ufeffid,email,first name,last name,phone,stage,purchases,total spent,"
            "first purchase,last purchase,marketing consent,owner,created at\r\n"
            f"{contacts[1].pk},plain@example.com,'@SUM(A1),Smith,,prospect,0,0.000,,,1,,"
            "2024-04-01 09:30:00\r\n"
            f'{contacts[0].pk},evil@example.com,"\'=HYPERLINK(""http://x"")",\'+1,\'-2+3,'
            "one_time,1,12.500,2024-05-01 10:00:00,2024-05-01 10:00:00,0,sally,"
            "2024-04-01 09:30:00\r\n"
        )

    def test_export_is_a_streamed_utf8_attachment(self, admin_client, contacts):
        response = run_action(admin_client, CONTACTS, "export_csv", contacts)
        assert response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"].startswith('attachment; filename="contacts-')

    def test_export_of_all_filtered_rows(self, admin_client, contacts):
        ContactFactory(email="other@example.com")
        response = admin_client.post(
            CONTACTS + "?stage=one_time",
            {"action": "export_csv", "index": "0", "select_across": "1",
             helpers.ACTION_CHECKBOX_NAME: [str(contacts[0].pk)]},
        )
        lines = csv_text(response).splitlines()
        assert len(lines) == 2
        assert lines[1].startswith(f"{contacts[0].pk},evil@example.com,")

    def test_purchases_export_is_exact(self, admin_client, contacts):
        purchase = Purchase.objects.get()
        response = run_action(admin_client, PURCHASES, "export_csv", [purchase])
        assert csv_text(response) == (
            "\ufeffid,contact email,purchased at,amount,currency,amount in base currency,items,"
            "channel,channel label,source,external id,code,refunded at,amount refunded\r\n"
            f"{purchase.pk},evil@example.com,2024-05-01 10:00:00,12.500,USD,12.500,1,online,"
            "online,manual,,,,0.000\r\n"
        )

    def test_export_needs_the_view_permission(self, client, contacts):
        # A manager whose group lost the contact permissions cannot export contacts.
        managers = Group.objects.get(name=MANAGERS)
        managers.permissions.remove(*Permission.objects.filter(
            codename__in=["view_contact", "change_contact"]))
        user = UserFactory(username="limited", is_staff=True)
        user.groups.add(managers)
        client.force_login(user)
        response = run_action(client, CONTACTS, "export_csv", contacts)
        assert response.status_code == 403

    def test_export_writes_nothing(self, admin_client, contacts):
        from django.contrib.admin.models import LogEntry

        csv_text(run_action(admin_client, CONTACTS, "export_csv", contacts))
        assert LogEntry.objects.count() == 0


# --- Assign owner ---------------------------------------------------------------------------

class TestAssignOwner:
    def confirm(self, client, contacts, owner, url=CONTACTS, select_across="0"):
        return client.post(url, {
            "action": "assign_owner", "apply": "Assign owner", "owner": str(owner.pk),
            "select_across": select_across,
            helpers.ACTION_CHECKBOX_NAME: [str(c.pk) for c in contacts],
        })

    def test_first_step_shows_the_confirmation_page(self, admin_client, sales_user):
        contacts = [ContactFactory(), ContactFactory()]
        response = run_action(admin_client, CONTACTS, "assign_owner", contacts)
        assert response.status_code == 200
        assert response.templates[0].name == "admin/customers/contact/assign_owner.html"
        assert response.context["count"] == 2

    def test_owner_choices_are_active_role_members(self, admin_client, manager, sales_user):
        SalesStaffFactory(username="gone", is_active=False)
        UserFactory(username="norole")
        response = run_action(admin_client, CONTACTS, "assign_owner", [ContactFactory()])
        choices = list(response.context["form"].fields["owner"].queryset)
        assert choices == [manager, sales_user]

    def test_confirming_assigns_the_selected_contacts(self, admin_client, sales_user):
        chosen = [ContactFactory(), ContactFactory()]
        other = ContactFactory()
        response = self.confirm(admin_client, chosen, sales_user)
        assert response.status_code == 302
        assert set(Contact.objects.filter(owner=sales_user)) == set(chosen)
        assert Contact.objects.get(pk=other.pk).owner is None

    def test_message_gives_the_count(self, admin_client, sales_user):
        response = self.confirm(admin_client, [ContactFactory(), ContactFactory()], sales_user)
        assert messages_of(response) == [f"2 contacts assigned to {sales_user.display_name}."]

    def test_select_all_assigns_every_filtered_contact(self, admin_client, sales_user):
        buyers = [ContactFactory(), ContactFactory()]
        for contact in buyers:
            buy(contact)
        prospect = ContactFactory()
        self.confirm(admin_client, buyers[:1], sales_user, url=CONTACTS + "?stage=one_time",
                     select_across="1")
        assert set(Contact.objects.filter(owner=sales_user)) == set(buyers)
        assert Contact.objects.get(pk=prospect.pk).owner is None

    def test_user_without_role_is_refused(self, admin_client):
        contact = ContactFactory()
        outsider = UserFactory(username="outsider")
        response = self.confirm(admin_client, [contact], outsider)
        assert response.status_code == 200
        assert response.context["form"].errors["owner"]
        assert Contact.objects.get(pk=contact.pk).owner is None


# --- Contact writes -------------------------------------------------------------------------

class TestContactWrites:
    def test_add_normalises_email_and_stamps_consent(self, admin_client):
        response = admin_client.post(CONTACT_ADD, contact_form(
            email="  Ada@Example.COM ", first_name="Ada", marketing_consent="on"))
        assert response.status_code == 302
        contact = Contact.objects.get()
        assert contact.email == "ada@example.com"
        assert contact.marketing_consent is True
        assert contact.consent_changed_at is not None
        assert contact.consent_source == "admin"

    def test_duplicate_email_in_other_case_is_refused(self, admin_client):
        ContactFactory(email="ada@example.com")
        response = admin_client.post(CONTACT_ADD, contact_form(email="ADA@example.com"))
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["email"]
        assert Contact.objects.count() == 1

    def test_consent_change_is_stamped(self, admin_client):
        contact = ContactFactory(marketing_consent=False)
        url = reverse("admin:customers_contact_change", args=[contact.pk])
        response = admin_client.post(url, contact_form(contact, marketing_consent="on"))
        assert response.status_code == 302
        contact.refresh_from_db()
        assert (contact.marketing_consent, contact.consent_source) == (True, "admin")
        assert contact.consent_changed_at is not None

    def test_name_change_keeps_consent_timestamp(self, admin_client):
        contact = ContactFactory(marketing_consent=True, consent_source="checkout",
                                 consent_changed_at=MAY_1)
        url = reverse("admin:customers_contact_change", args=[contact.pk])
        admin_client.post(url, contact_form(contact, first_name="Renamed"))
        contact.refresh_from_db()
        assert contact.first_name == "Renamed"
        assert (contact.consent_changed_at, contact.consent_source) == (MAY_1, "checkout")

    def test_derived_figures_cannot_be_posted(self, admin_client):
        contact = ContactFactory()
        buy(contact)
        url = reverse("admin:customers_contact_change", args=[contact.pk])
        admin_client.post(url, contact_form(contact, purchases=1, purchase_count="99",
                                            total_spent="1"))
        contact.refresh_from_db()
        assert (contact.purchase_count, contact.total_spent) == (1, Decimal("10.000"))

    def test_save_with_a_purchase_inline_succeeds(self, admin_client):
        contact = ContactFactory()
        buy(contact)
        url = reverse("admin:customers_contact_change", args=[contact.pk])
        response = admin_client.post(url, contact_form(contact, purchases=1, last_name="New"))
        assert response.status_code == 302
        assert Contact.objects.get(pk=contact.pk).last_name == "New"

    def test_inline_shows_the_newest_twenty(self, admin_client):
        contact = ContactFactory()
        purchases = [buy(contact, when=MAY_1 + dt.timedelta(days=n)) for n in range(22)]
        response = admin_client.get(reverse("admin:customers_contact_change", args=[contact.pk]))
        formset = response.context["inline_admin_formsets"][0].formset
        assert [p.pk for p in formset.get_queryset()] == [p.pk for p in purchases[::-1][:20]]

    def test_inline_is_read_only(self, admin_client):
        contact = ContactFactory()
        buy(contact)
        response = admin_client.get(reverse("admin:customers_contact_change", args=[contact.pk]))
        inline = response.context["inline_admin_formsets"][0]
        assert (inline.has_add_permission, inline.has_change_permission,
                inline.has_delete_permission) == (False, False, False)


# --- Purchase writes ------------------------------------------------------------------------

class TestPurchaseWrites:
    def test_add_updates_the_contact(self, admin_client, manager):
        contact = ContactFactory()
        response = admin_client.post(PURCHASE_ADD, purchase_form(contact))
        assert response.status_code == 302
        purchase = Purchase.objects.get()
        contact.refresh_from_db()
        assert (purchase.currency, purchase.amount_base, purchase.recorded_by) == (
            "USD", Decimal("25.500"), manager)
        assert (contact.purchase_count, contact.stage, contact.total_spent) == (
            1, "one_time", Decimal("25.500"))

    def test_second_day_makes_a_repeat_client(self, admin_client):
        contact = ContactFactory()
        buy(contact)
        admin_client.post(PURCHASE_ADD, purchase_form(contact, purchased_at_0="2024-05-02"))
        contact.refresh_from_db()
        assert (contact.purchase_count, contact.stage) == (2, "repeat")

    @pytest.mark.parametrize(("field", "value", "error"), [
        ("amount", "-5", "Amount cannot be negative; record a refund instead."),
        ("currency", "ZZZ", "Unknown currency ZZZ: use an ISO 4217 code such as USD, EUR or TRY."),
        ("currency", "TLX", "Unknown currency TLX: use an ISO 4217 code such as USD, EUR or TRY."),
        ("amount", "1.001", "USD amounts have at most 2 decimal places."),
    ])
    def test_invalid_purchase_shows_the_error_and_saves_nothing(
        self, admin_client, field, value, error
    ):
        contact = ContactFactory()
        response = admin_client.post(PURCHASE_ADD, purchase_form(contact, **{field: value}))
        assert response.status_code == 200
        assert response.context["adminform"].form.errors == {field: [error]}
        assert Purchase.objects.count() == 0
        contact.refresh_from_db()
        assert contact.purchase_count == 0

    def test_future_purchase_is_refused(self, admin_client):
        tomorrow = timezone.now() + dt.timedelta(days=3)
        response = admin_client.post(PURCHASE_ADD, purchase_form(
            ContactFactory(), purchased_at_0=f"{tomorrow:%Y-%m-%d}"))
        assert response.context["adminform"].form.errors == {
            "purchased_at": ["Purchase date is in the future."]}
        assert Purchase.objects.count() == 0

    def test_duplicate_external_id_is_refused(self, admin_client):
        contact = ContactFactory()
        buy(contact, source="api", external_id="A-1")
        response = admin_client.post(PURCHASE_ADD, purchase_form(
            contact, source="api", external_id=" A-1 "))
        assert response.context["adminform"].form.errors == {"external_id": [
            "A purchase with this external id from this source is already recorded."]}
        assert Purchase.objects.count() == 1

    def test_moving_a_purchase_updates_both_contacts(self, admin_client):
        old, new = ContactFactory(), ContactFactory()
        purchase = buy(old, amount="10.00")
        url = reverse("admin:customers_purchase_change", args=[purchase.pk])
        response = admin_client.post(url, purchase_form(new, amount="30.00"))
        assert response.status_code == 302
        old.refresh_from_db()
        new.refresh_from_db()
        assert (old.purchase_count, old.stage, old.total_spent) == (0, "prospect", Decimal("0"))
        assert (new.purchase_count, new.stage, new.total_spent) == (1, "one_time", Decimal("30"))

    def test_invalid_change_saves_nothing(self, admin_client):
        contact = ContactFactory()
        purchase = buy(contact)
        url = reverse("admin:customers_purchase_change", args=[purchase.pk])
        response = admin_client.post(url, purchase_form(contact, amount="-1"))
        assert response.status_code == 200
        purchase.refresh_from_db()
        assert purchase.amount == Decimal("10.000")

    def test_delete_one_updates_the_contact(self, admin_client):
        contact = ContactFactory()
        purchase = buy(contact)
        url = reverse("admin:customers_purchase_delete", args=[purchase.pk])
        response = admin_client.post(url, {"post": "yes"})
        assert response.status_code == 302
        contact.refresh_from_db()
        assert (contact.purchase_count, contact.stage, contact.last_purchase_at) == (
            0, "prospect", None)

    def test_bulk_delete_updates_every_contact(self, admin_client):
        first, second = ContactFactory(), ContactFactory()
        doomed = [buy(first), buy(first, when=MAY_1 + dt.timedelta(days=1)), buy(second)]
        kept = buy(second, when=MAY_1 - dt.timedelta(days=1))
        response = run_action(admin_client, PURCHASES, "delete_selected", doomed, post="yes")
        assert response.status_code == 302
        assert list(Purchase.objects.all()) == [kept]
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.purchase_count, first.stage) == (0, "prospect")
        assert (second.purchase_count, second.stage, second.last_purchase_at) == (
            1, "one_time", kept.purchased_at)

    def test_refund_action_updates_the_contact(self, admin_client):
        contact = ContactFactory()
        first = buy(contact, amount="10.00")
        buy(contact, when=MAY_1 + dt.timedelta(days=1), amount="5.00")
        response = run_action(admin_client, PURCHASES, "refund", [first])
        contact.refresh_from_db()
        first.refresh_from_db()
        assert first.refunded_at is not None
        assert (contact.purchase_count, contact.stage, contact.total_spent) == (
            1, "one_time", Decimal("5.000"))
        assert messages_of(response) == ["1 purchase refunded."]

    def test_refund_leaves_refunded_ones_alone(self, admin_client):
        contact = ContactFactory()
        done = purchase_refund(purchase=buy(contact), refunded_at=MAY_1)
        fresh = buy(contact)
        response = run_action(admin_client, PURCHASES, "refund", [done, fresh])
        done.refresh_from_db()
        assert done.refunded_at == MAY_1
        assert messages_of(response) == [
            "1 purchase refunded.", "1 was refunded already and is unchanged."]

    def test_contact_autocomplete_uses_contact_search(self, admin_client):
        ContactFactory(email="ada@example.com", first_name="Ada", last_name="Lovelace")
        ContactFactory(email="bob@example.com", first_name="Bob", last_name="Jones")
        response = admin_client.get(reverse("admin:autocomplete"), {
            "term": "lovel", "app_label": "customers", "model_name": "purchase",
            "field_name": "contact"})
        assert [row["text"] for row in response.json()["results"]] == [
            "Ada Lovelace <ada@example.com>"]


# --- Currency rates -------------------------------------------------------------------------

class TestCurrencyRates:
    def test_code_is_normalised(self, admin_client):
        response = admin_client.post(RATE_ADD, {"currency": " eur ", "rate": "1.08"})
        assert response.status_code == 302
        assert CurrencyRate.objects.get().currency == "EUR"

    @pytest.mark.parametrize(("currency", "rate", "errors"), [
        ("ZZZ", "1", {"currency": [
            "Unknown currency ZZZ: use an ISO 4217 code such as USD, EUR or TRY."]}),
        ("usd", "1", {"currency": [
            "USD is the base currency: its rate is always 1 and needs no row."]}),
        ("EUR", "0", {"rate": ["The rate must be greater than zero."]}),
        ("EUR", "-1", {"rate": ["The rate must be greater than zero."]}),
    ])
    def test_bad_rates_are_refused(self, admin_client, currency, rate, errors):
        response = admin_client.post(RATE_ADD, {"currency": currency, "rate": rate})
        assert response.context["adminform"].form.errors == errors
        assert CurrencyRate.objects.count() == 0

    def test_duplicate_currency_in_other_case_is_refused(self, admin_client):
        CurrencyRate.objects.create(currency="EUR", rate=Decimal("1.1"))
        response = admin_client.post(RATE_ADD, {"currency": "eur", "rate": "1.2"})
        assert list(response.context["adminform"].form.errors) == ["currency"]
        assert CurrencyRate.objects.get().rate == Decimal("1.1")

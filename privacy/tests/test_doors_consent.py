"""One consent decision, every door: the contact admin, the dashboard's new-contact form, the
API and the contacts CSV import each leave what the customers services leave (the contact's
consent and its ledger: wording, its language, evidence). How the decision came in (method,
source, who recorded it) differs by door by design: each door must name itself there.

Unsubscribe links and spam complaints withdraw consent and suppress the address together:
campaigns/tests/test_doors_suppression.py compares them.
"""
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from customers.consent.models import ConsentMethod
from customers.consent.wordings import INITIAL_VERSION
from customers.models import Contact
from customers.services.contacts import contact_create, contact_set_consent
from customers.tests.doors import (admin_post, admin_url, api_client, assert_same, browser,
                                   browser_post, consent_doors, consenting_contact,
                                   contact_snapshot, upload_csv)
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

# A Turkish contact: the wording must be the Turkish one whichever door records the consent.
PERSON = {"first_name": "Şule", "last_name": "Öztürk", "phone": "", "language": "tr"}


def contact_state(email: str) -> dict:
    contact = Contact.objects.get(email=email)
    return {"person": {field: getattr(contact, field) for field in PERSON},
            **contact_snapshot(contact)}


# --- Consent given with a new contact -----------------------------------------------------------

def give_through_admin(email, users, tmp_path):
    admin_post(browser(users["manager"]), admin_url(Contact, "add"), {
        "email": email.upper(), **PERSON, "owner": "", "marketing_consent": "on"})


def give_through_dashboard(email, users, tmp_path):
    response = browser_post(
        browser(users["sales"]), reverse("dashboard:contact_create"),
        reverse("dashboard:contact_create"),
        {"email": email.upper(), **PERSON, "marketing_consent": "on",
         "consent_method": ConsentMethod.STAFF_FORM, "consent_evidence": ""})
    assert response.status_code == 302, response.content[:800]


def give_through_api(email, users, tmp_path):
    response = api_client(users["sales"]).post(reverse("api:contacts"), {
        "email": email.upper(), **PERSON, "marketing_consent": True}, format="json")
    assert response.status_code == 201, response.content


def _new_contact_csv(email: str) -> str:
    return ("email,first_name,last_name,phone,marketing_consent,language\n"
            f"{email.upper()},{PERSON['first_name']},{PERSON['last_name']},,yes,tr\n")


def give_through_import(email, users, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(_new_contact_csv(email), encoding="utf-8")
    call_command("import_contacts", str(path), stdout=io.StringIO())


def give_through_upload(email, users, tmp_path):
    upload_csv(users["manager"], kind="contacts", text=_new_contact_csv(email))


GIVE = {"admin": (give_through_admin, (ConsentMethod.STAFF_FORM, "admin", "marta")),
        "dashboard": (give_through_dashboard, (ConsentMethod.STAFF_FORM, "staff", "sally")),
        "api": (give_through_api, (ConsentMethod.API, "api", "sally")),
        "import": (give_through_import, (ConsentMethod.CSV_IMPORT, "import", "")),
        "upload": (give_through_upload, (ConsentMethod.CSV_IMPORT, "import", "marta"))}


@pytest.mark.parametrize("door", sorted(GIVE))
def test_consent_given_with_a_new_contact_through_each_door(
        door, manager, sales_user, tmp_path, settings, django_capture_on_commit_callbacks):
    settings.CRM_IMPORT_DIR = tmp_path / "imports"
    contact_create(email="reference@example.com", **PERSON, marketing_consent=True,
                   consent_source="service", consent_method=ConsentMethod.STAFF_FORM)
    write, named = GIVE[door]

    with django_capture_on_commit_callbacks(execute=True):
        write(f"{door}@example.com", {"manager": manager, "sales": sales_user}, tmp_path)

    expected = contact_state("reference@example.com")
    assert_same(contact_state(f"{door}@example.com"), expected)
    assert consent_doors(Contact.objects.get(email=f"{door}@example.com")) == [named]
    assert expected["marketing_consent"] is True
    assert expected["consent_ledger"] == [(True, "marketing_email", (INITIAL_VERSION, "tr"),
                                           "tr", "")]


# --- Consent given or withdrawn on a known contact -----------------------------------------------

def change_through_admin(contact, given, users, tmp_path):
    box = {"marketing_consent": "on"} if given else {}  # a browser sends an unticked box not
    admin_post(browser(users["manager"]), admin_url(Contact, "change", contact.pk), {
        "email": contact.email, **PERSON, "owner": "", **box})


def change_through_api(contact, given, users, tmp_path):
    response = api_client(users["sales"]).patch(
        reverse("api:contact", args=[contact.pk]), {"marketing_consent": given}, format="json")
    assert response.status_code == 200, response.content


def _consent_csv(contact, given: bool) -> str:
    return f"email,marketing_consent\n {contact.email.upper()} ,{'Yes' if given else 'NO'}\n"


def change_through_import(contact, given, users, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(_consent_csv(contact, given), encoding="utf-8")
    call_command("import_contacts", str(path), stdout=io.StringIO())


def change_through_upload(contact, given, users, tmp_path):
    upload_csv(users["manager"], kind="contacts", text=_consent_csv(contact, given))


CHANGE = {"admin": (change_through_admin, (ConsentMethod.STAFF_FORM, "admin", "marta")),
          "api": (change_through_api, (ConsentMethod.API, "api", "sally")),
          "import": (change_through_import, (ConsentMethod.CSV_IMPORT, "import", "")),
          "upload": (change_through_upload, (ConsentMethod.CSV_IMPORT, "import", "marta"))}


@pytest.mark.parametrize("given", [True, False], ids=["given", "withdrawn"])
@pytest.mark.parametrize("door", sorted(CHANGE))
def test_consent_changed_on_a_known_contact_through_each_door(
        door, given, manager, sales_user, tmp_path, settings,
        django_capture_on_commit_callbacks):
    """Given by a contact that never decided; withdrawn by one that had given it."""
    settings.CRM_IMPORT_DIR = tmp_path / "imports"
    start = ContactFactory if given else consenting_contact  # never decided / had given it
    reference = start(email="reference@example.com", **PERSON)
    through_door = start(email=f"{door}@example.com", **PERSON)
    before = consent_doors(through_door)
    contact_set_consent(contact=reference, consent=given, source="service")
    write, named = CHANGE[door]

    users = {"manager": manager, "sales": sales_user}
    with django_capture_on_commit_callbacks(execute=True):
        write(through_door, given, users, tmp_path)
    with django_capture_on_commit_callbacks(execute=True):  # again: nothing more, at every door
        write(Contact.objects.get(pk=through_door.pk), given, users, tmp_path)

    expected = contact_state(reference.email)
    assert_same(contact_state(through_door.email), expected)
    assert consent_doors(through_door) == [*before, named]
    assert expected["marketing_consent"] is given
    if given:  # the Turkish wording, as the contact's language asks
        assert expected["consent_ledger"] == [(True, "marketing_email", (INITIAL_VERSION, "tr"),
                                               "tr", "")]
    else:
        assert [row[0] for row in expected["consent_ledger"]] == [True, False]

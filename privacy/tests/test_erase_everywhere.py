"""Erasure reaches every table: support cases, the API that reads them, a dump of the database.

The fixture (conftest.rich_contact) puts the person's data in every model that can reference
them; the first test keeps it that way when a model is added.
"""
import os
import shutil
import subprocess

import pytest
from django.core.cache import cache
from django.db import connection

from api.tests.helpers import token_client
from crm import personal_data
from crm.personal_data import Person
from customers.models import ImportJob
from privacy.services import contact_erase, contact_export
from support.models import Case

from .conftest import ADDRESS, EMAIL, FIRST, LAST, PHONE, WROTE
from .test_erase import NEEDLES

pytestmark = pytest.mark.django_db

CASE_FIGURES = ("id", "channel", "priority", "status", "created_at", "first_response_at",
                "solved_at", "first_response_due", "resolution_due")


def test_the_fixture_fills_every_model_that_can_reference_the_person(rich_contact):
    person = Person(contact=rich_contact, email=rich_contact.email)
    sections = personal_data.sections()

    with_rows = {s.model for s in sections if s.queryset(person).exists()}

    # Import jobs are nobody's rows: only their preview quotes the person (a test below
    # finds the address in that table).
    assert {s.model for s in sections} - with_rows == {ImportJob}


def test_export_holds_the_support_cases_from_every_door(rich_contact):
    cases = contact_export(rich_contact)["support_cases"]

    assert sorted(case["channel"] for case in cases) == ["email", "phone", "web"]
    web = next(case for case in cases if case["channel"] == "web")
    assert (web["subject"], web["description"]) == (
        f"Parcel for {FIRST}", f"Call {PHONE}, deliver to {ADDRESS}. {WROTE}.")


def test_erasure_blanks_the_cases_and_keeps_their_figures(rich_contact, privacy_manager):
    cases = Case.objects.filter(contact=rich_contact).order_by("id")
    figures = list(cases.values(*CASE_FIGURES))

    result = contact_erase(rich_contact, by=privacy_manager)

    assert result.counts["support_cases_blanked"] == 3
    assert list(cases.values_list("subject", "description")) == [("—", "")] * 3
    assert list(cases.values(*CASE_FIGURES)) == figures


def test_the_api_returns_no_personal_data_of_an_erased_contact(rich_contact, privacy_manager):
    api = token_client(privacy_manager)
    contact_erase(rich_contact, by=privacy_manager)
    cache.clear()  # the API's throttle counters

    listed = api.get("/api/cases/", {"contact": rich_contact.pk})
    case_id = listed.json()["results"][0]["id"]
    one = api.get(f"/api/cases/{case_id}/")

    assert (listed.status_code, one.status_code, len(listed.json()["results"])) == (200, 200, 3)
    text = (listed.content + one.content).decode().lower()
    assert [needle for needle in NEEDLES if needle.lower() in text] == []


# --- A dump of the whole database -------------------------------------------------------------

def _pg_dump() -> str:
    """pg_dump --data-only of the test database: every row of every table, as a DBA sees it."""
    settings = connection.settings_dict
    command = [shutil.which("pg_dump") or "pg_dump", "--data-only", "--no-owner",
               "--dbname", settings["NAME"]]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            command += [option, str(settings[key])]
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    done = subprocess.run(command, env=env, capture_output=True, check=True, timeout=120)
    return done.stdout.decode("utf-8").lower()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # pg_dump is another session: it sees committed rows
@pytest.mark.skipif(not shutil.which("pg_dump"), reason="needs pg_dump")
def test_a_dump_of_the_whole_database_names_nobody_after_erasure(rich_contact, privacy_manager):
    before = _pg_dump()  # guards the search below: a broken dump would find nothing either
    assert [n for n in (EMAIL, FIRST, LAST, PHONE, ADDRESS, WROTE) if n.lower() not in before] == []

    contact_erase(rich_contact, by=privacy_manager)

    after = _pg_dump()
    assert [needle for needle in NEEDLES if needle.lower() in after] == []

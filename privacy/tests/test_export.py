import csv
import io
import json
import zipfile

import pytest

from customers.models import Note

from privacy.services import contact_export, export_as_csv_zip, list_section_names

from .conftest import EMAIL, FIRST, LAST, PHONE, WROTE

pytestmark = pytest.mark.django_db


def test_export_holds_every_section_of_the_person(rich_contact):
    data = contact_export(rich_contact)

    assert data["contact"]["email"] == EMAIL
    assert data["contact"]["phone"] == PHONE
    assert data["contact"]["marketing_consent"] is True
    assert data["contact"]["consent_source"] == "checkout"
    assert [p["amount"] for p in data["purchases"]] == ["30.000", "12.500"]
    assert FIRST in data["notes"][0]["body"]
    assert data["follow_ups"][0]["title"].startswith("Call ")
    assert data["follow_ups"][0]["due_time"] == "14:30:00"
    assert len(data["messages"]) == 2  # the campaign email and the survey email
    assert {m["status"] for m in data["messages"]} == {"sent", "queued"}
    assert all(m["campaign"] for m in data["messages"])
    assert [c["code"] for c in data["coupons"]] == ["RWD-1"]
    assert data["referral_code"] == [{"code": "ZEYNEP10",
                                      "created_at": data["referral_code"][0]["created_at"]}]
    assert data["referrals_made"][0]["reward_coupon"] == "RWD-1"
    assert data["referred_by"] == []
    assert data["survey_responses"][0]["score"] == 3
    assert FIRST in data["survey_responses"][0]["comment"]
    assert data["current_score"]["p_buy_again"] == 0.5
    assert data["suppression"][0]["reason"] == "bounced"
    assert len(data["promotion_pause"]) == 1
    assert data["website_events"][0]["properties"] == {"query": f"{FIRST} {LAST}",
                                                       "note": WROTE}
    assert data["contact"]["language"] == "tr"


def test_export_never_names_the_other_person_of_a_referral(rich_contact):
    text = json.dumps(contact_export(rich_contact))

    assert "friend@example.com" not in text


def test_export_is_plain_json(rich_contact):
    data = contact_export(rich_contact)

    assert json.loads(json.dumps(data)) == data  # no encoder needed, round-trips exactly


def test_csv_export_is_a_zip_with_one_csv_per_section(rich_contact):
    archive = zipfile.ZipFile(io.BytesIO(export_as_csv_zip(contact_export(rich_contact))))

    assert sorted(archive.namelist()) == sorted(
        ["contact.csv", "current_score.csv", *(f"{name}.csv" for name in list_section_names())])
    rows = list(csv.DictReader(io.StringIO(archive.read("purchases.csv").decode("utf-8-sig"))))
    assert [row["amount"] for row in rows] == ["30.000", "12.500"]
    contact_rows = list(csv.DictReader(
        io.StringIO(archive.read("contact.csv").decode("utf-8-sig"))))
    assert contact_rows[0]["email"] == EMAIL


def test_csv_export_of_an_empty_section_still_has_its_header(rich_contact):
    archive = zipfile.ZipFile(io.BytesIO(export_as_csv_zip(contact_export(rich_contact))))

    assert archive.read("referred_by.csv").decode("utf-8-sig") == "id,created_at\r\n"


@pytest.mark.parametrize("body", ['=HYPERLINK("http://x","y")', "@SUM(A1)", " +1+1"])
def test_csv_export_writes_a_formula_as_text(rich_contact, privacy_manager, body):
    Note.objects.create(contact=rich_contact, author=privacy_manager, body=body)

    archive = zipfile.ZipFile(io.BytesIO(export_as_csv_zip(contact_export(rich_contact))))

    rows = list(csv.DictReader(io.StringIO(archive.read("notes.csv").decode("utf-8-sig"))))
    assert rows[-1]["body"] == "'" + body  # a spreadsheet shows it, never runs it


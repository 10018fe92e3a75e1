"""Completeness: every model that can hold a person's data is exported and erased.

Walks every installed model. A model with a relation to a contact, an email column, or (in
the project's own apps) a free-text column must be the model of a registered personal data
section (crm/personal_data.py) or be listed in EXEMPT with the reason. Within a section,
every free-text column must be erased, or listed in the section's `kept` with a reason where
it is declared. A new model or column therefore fails here until someone decides.
"""
from dataclasses import replace
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from crm import personal_data
from crm.personal_data import Keep, Replace
from customers.models import Contact

# Models that hold nobody's personal data, with the reason. No model here may reference a
# contact: such a model belongs in a section.
EXEMPT = {
    "accounts.user": "staff accounts, not customers; managed in the admin",
    "customers.currencyrate": "exchange rates",
    "support.assignmentcursor": "a support queue's name and the staff account last given a case",
    "customers.channelmapping": "the shop's channel labels and the reporting channel of each",
    "customers.product": "the shop's product catalogue (SKUs, names, categories)",
    "crm.shopsettings": "the shop's own name and sender address, not a customer's",
    "customers.ratefetch": "the outcome of each exchange-rate feed fetch (bank, day, error text)",
    "customers.scoringrun": "a scoring job: coefficients, reports and counts over everyone",
    "dashboard.kpisnapshot": "aggregate figures",
    "dashboard.customerbasesnapshot": "aggregate figures (cohorts, RFM cells, value buckets)",
    # References no contact; the filters (which may hold a search word) are blanked when the
    # job ends (dashboard.bulk._finish).
    "dashboard.bulkassignjob": "a bulk owner change: the list's filters while it runs, counts",
    "campaigns.emailtemplate": "texts staff write for every recipient",
    "campaigns.emailtemplatetranslation": "texts staff write for every recipient",
    "campaigns.campaign": "a campaign's name and audience criteria",
    "campaigns.contentvariant": "a subject test's label and template, for every recipient",
    "campaigns.varianttest": "a subject test's settings and per-variant totals, no contact",
    "campaigns.journeystep": "a journey's steps: templates, waits, conditions for everyone",
    # A run's own failure (the mail server unreachable...); one recipient's errors are on
    # its Message, which the messages section blanks.
    "campaigns.campaignrun": "a sending run's key, status and failure",
    "privacy.privacylog": "names the contact by id only; what was done, by which staff member",
    "customers.consentwording": "the consent text shown to everyone",
    "webhooks.webhookendpoint": "an integration's name, URL and secret",
    "crm.heartbeat": "the Celery worker's heartbeat",
    "crm.beatlease": "which beat process sends the periodic tasks",
    "crm.beatprocess": "the beat processes seen: host name and process id",
    "crm.dailyrun": "a daily job's day and its counts (the failed-email digest)",
    "shops.store": "a connected store's address, encrypted credentials and status",
    "shops.syncjob": "a store's backfill or poll: its cursor, counts and the API's error text",
}
TEXT = (models.CharField, models.TextField, models.JSONField)


def _project_app(model) -> bool:
    path = Path(apps.get_app_config(model._meta.app_label).path).resolve()
    base = Path(settings.BASE_DIR).resolve()
    return base in path.parents and ".venv" not in path.parts


def _free_text(model) -> set[str]:
    """Columns that can hold whatever someone typed (choices and generated columns cannot)."""
    return {f.name for f in model._meta.concrete_fields
            if isinstance(f, TEXT) and not f.choices and not f.generated}


def _contact_fields(model) -> set[str]:
    return {f.name for f in model._meta.concrete_fields
            if f.is_relation and f.related_model is Contact}


def _may_hold_personal_data(model) -> bool:
    emails = any(isinstance(f, models.EmailField) for f in model._meta.concrete_fields)
    return bool(_contact_fields(model) or emails
                or (_project_app(model) and _free_text(model)))


def _problems(sections) -> list[str]:
    problems = []
    covered = {section.model for section in sections}
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.proxy or not model._meta.managed:
            continue
        if model in covered:
            used = {section.by.split("__")[0] for section in sections
                    if section.model is model and section.by}
            custom = any(s.rows is not None for s in sections if s.model is model)
            if not custom and _contact_fields(model) - used:
                problems.append(f"{label}: no section reads it by "
                                f"{sorted(_contact_fields(model) - used)}")
        elif _may_hold_personal_data(model) and label not in EXEMPT:
            problems.append(f"{label}: in no personal data section and not exempt")
    for section in sections:
        problems += _section_problems(section)
    return problems


def _section_problems(section) -> list[str]:
    model, name = section.model, section.name
    fields = {f.name for f in model._meta.concrete_fields}
    erased, kept = section.erased_fields(), set(section.kept)
    problems = [f"{name}: unknown column {column!r}"
                for column in sorted((erased | kept) - fields)]
    problems += [f"{name}: {column!r} both erased and kept" for column in sorted(erased & kept)]
    if isinstance(section.erase, Replace | Keep) or section.rows is not None:
        problems += [f"{name}: free-text column {column!r} neither erased nor kept"
                     for column in sorted(_free_text(model) - erased - kept)]
    try:
        section.column_fields()
    except Exception as error:  # noqa: BLE001 - any broken lookup is the finding
        problems.append(f"{name}: export columns do not resolve ({error})")
    return problems


def test_every_model_that_can_hold_personal_data_is_declared():
    assert _problems(personal_data.sections()) == []


def test_exemptions_name_real_models_that_no_section_covers():
    labels = {model._meta.label_lower: model for model in apps.get_models()}
    covered = {section.model for section in personal_data.sections()}

    assert sorted(set(EXEMPT) - set(labels)) == []
    assert [label for label in EXEMPT if labels[label] in covered] == []
    assert [label for label in EXEMPT if _contact_fields(labels[label])] == []


def test_the_check_finds_a_forgotten_model():
    without_cases = [s for s in personal_data.sections() if s.name != "support_cases"]

    assert _problems(without_cases) == ["support.case: in no personal data section and not exempt"]


def test_the_check_finds_a_forgotten_column():
    cases = personal_data.section("support_cases")
    subject_only = replace(cases, erase=Replace({"subject": "—"}))

    assert _section_problems(subject_only) == [
        "support_cases: free-text column 'description' neither erased nor kept",
        "support_cases: free-text column 'message_id' neither erased nor kept"]


def test_the_check_finds_a_forgotten_relation_to_the_contact():
    sections = [s for s in personal_data.sections() if s.name != "referred_by"]

    assert _problems(sections) == ["campaigns.referral: no section reads it by ['referee']"]


@pytest.mark.parametrize("name", ["contact", "current_score", "purchases", "notes",
                                  "follow_ups", "messages", "suppression", "survey_responses",
                                  "support_cases", "consent_records", "webhook_deliveries",
                                  "website_events"])
def test_the_apps_register_their_sections(name):
    assert personal_data.section(name).name == name

"""In real Chromium, after `make demo`'s own two commands (load_demo_data, score_contacts) and
nothing else: the demo sales login sees one-time buyers worth calling, each with a reason, and
every KPI chart drawn, the conversion chart over the last 12 months (issue #17, point 1)."""
import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.roles import MANAGERS, SALES_STAFF
from accounts.tests.factories import role_group
from crm.tests.browser import follow, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SMALL = 8  # new buyers a week: the demo's own generator, a smaller shop
PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s?%|%\s?\d+(?:[.,]\d+)?")


@pytest.fixture
def demo(tmp_path, monkeypatch, settings):
    settings.DEBUG = True  # the loader refuses a database that might be real
    logins_file = tmp_path / "demo_logins.json"
    monkeypatch.setattr("dashboard.management.commands.load_demo_data.LOGINS_FILE", logins_file)
    # A transactional test before this one emptied the tables migrations fill: put back the
    # roles and the shipped campaigns, as a fresh migrate has them.
    role_group(MANAGERS), role_group(SALES_STAFF)
    from campaigns import defaults as campaign_defaults
    from campaigns.models import Campaign, EmailTemplate
    from feedback import defaults as feedback_defaults

    campaign_defaults.create_defaults(EmailTemplate, Campaign)
    feedback_defaults.create_defaults(EmailTemplate, Campaign)
    call_command("load_demo_data", size=SMALL, stdout=StringIO())
    call_command("score_contacts", stdout=StringIO())
    return json.loads(logins_file.read_text())


def test_the_demo_call_list_and_charts_show_the_promise(page, demo):
    log_in(page, "sales", demo["sales"])

    convert = page.get_by_test_id("call-convert")
    cards = convert.locator(".card")
    assert cards.count() >= 10
    for index in range(cards.count()):
        card = cards.nth(index)
        # a person to call (the first link; the phone number is a tel: link after it)
        assert card.get_by_role("link").first.inner_text().strip()
        assert card.get_by_test_id("card-reason").inner_text().strip()  # and why
    screenshot(page, "demo-call-list")

    follow(page, page.get_by_role("link", name="KPIs"))
    charts = page.locator("section[data-testid^='chart-']")
    assert charts.count() == 8
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.locator("svg").count() == 1, chart.get_attribute("data-testid")
        assert "No data yet." not in chart.inner_text()

    cohorts = page.get_by_test_id("chart-cohorts")
    rows = cohorts.locator("details table tr")
    assert rows.count() == 12  # the last 12 months
    came_back = [PERCENT.search(rows.nth(i).text_content() or "") for i in range(12)]
    assert sum(1 for found in came_back if found and found.group() not in ("0%", "%0")) >= 8
    screenshot(page, "demo-kpis")

"""In real Chromium: the sales user and the manager walk every sales page in English and in
Turkish, on a desktop (1400 px) and a phone (390 px). Every page answers without a 4xx or 5xx
(its images, styles and scripts too), logs no console error (a Content Security Policy
violation is one), fits the window (no sideways scrolling) and, in Turkish, holds no English
(crm.tests.browser.problems_on, the heuristic the Turkish walk uses). A screenshot of each goes
to test-artifacts/walk/.

A new sales page is one more row in PAGES."""
import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.tests.browser import ARTIFACTS, problems_on, screenshot
from customers.models import ContactScore, ScoringRun
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1400, 390)
LANGUAGES = ("en", "tr")
USERS = {"sales": "sally", "manager": "marta"}

# name, who opens it, its address (from the fixture's objects), what to click there first
# (a disclosure the page keeps closed), or None.
PAGES = [
    ("today", "sales", lambda d: reverse("dashboard:today"), None),
    ("contacts", "sales", lambda d: reverse("dashboard:contact_list"), None),
    ("contacts-filtered", "sales", lambda d: reverse("dashboard:contact_list")
     + "?q=Yılmaz&stage=one_time&mine=on&consent=yes&score=mid&last=90&sort=likely", None),
    ("contact", "sales", lambda d: reverse("dashboard:contact_detail", args=[d["once"].pk]),
     None),
    ("contact-history", "sales",
     lambda d: reverse("dashboard:contact_detail", args=[d["loyal"].pk]), None),
    ("log-a-call", "sales", lambda d: reverse("dashboard:contact_detail", args=[d["once"].pk]),
     "[data-testid=contact-header] [data-testid=call-log] summary"),
    ("timeline-older", "sales",
     lambda d: reverse("dashboard:contact_timeline", args=[d["loyal"].pk]), None),
    ("edit-contact", "sales", lambda d: reverse("dashboard:contact_edit", args=[d["once"].pk]),
     None),
    ("new-contact", "sales", lambda d: reverse("dashboard:contact_create"), None),
    ("record-purchase", "sales",
     lambda d: reverse("dashboard:purchase_create", args=[d["once"].pk]), None),
    ("follow-ups", "sales", lambda d: reverse("dashboard:my_follow_ups"), None),
    ("bulk-owner-change", "sales",
     lambda d: reverse("dashboard:bulk_job", args=[d["bulk_job"].pk]), None),
    ("kpis", "sales", lambda d: reverse("dashboard:kpis"), None),
    ("sent-emails", "sales", lambda d: reverse("campaigns:sent_email_list"), None),
    ("sent-email", "sales",
     lambda d: reverse("campaigns:sent_email_detail", args=[d["email"].pk]), None),
    ("cases", "sales", lambda d: reverse("support:my_cases"), None),
    ("case", "sales", lambda d: reverse("support:case_detail", args=[d["case"].pk]), None),
    ("today-manager", "manager", lambda d: reverse("dashboard:today"), None),
    ("customer-base", "manager", lambda d: reverse("dashboard:customer_base"), None),
    ("imports", "manager", lambda d: reverse("customers:import_list"), None),
    ("cases-manager", "manager", lambda d: reverse("support:my_cases"), None),
    ("stores", "manager", lambda d: reverse("stores:store_list"), None),
]


@pytest.fixture
def desk(sales_user, manager):
    """A small shop as the demo has it: a scored one-time buyer worth calling, a repeat client
    with a long history (follow-up, open case, calls, notes, an email, a survey answer), the
    KPIs and the customer base computed."""
    from campaigns.tests.factories import CampaignRunFactory, MessageFactory
    from customers.followups import follow_up_add, note_add
    from customers.services.calls import call_log
    from dashboard.customer_base import customer_base_refresh
    from dashboard.kpis import kpis_refresh
    from feedback.models import SurveyResponse
    from feedback.tests.factories import SurveyInviteFactory
    from support.services import case_open

    now = timezone.now()
    once = ContactFactory(first_name="Ayşe", last_name="Yılmaz", owner=sales_user,
                          phone="+905321234567", marketing_consent=True)
    record_purchase(once, days_ago=30, amount="1250.00")
    loyal = ContactFactory(first_name="Mehmet", last_name="Kaya", owner=sales_user)
    for days_ago in (300, 200, 100):
        record_purchase(loyal, days_ago=days_ago, amount="80.00")
    run = ScoringRun.objects.create(trigger="command", as_of=timezone.localdate(),
                                    horizon_days=90, status="succeeded", publish=True,
                                    finished_at=now)
    for contact, p_buy, p_alive, frequency in ((once, 0.43, 0.9, 0), (loyal, 0.2, 0.3, 2)):
        ContactScore.objects.create(
            run=run, contact=contact, scored_at=now, p_buy_again=p_buy,
            p_alive=p_alive, expected_purchases=0.5, expected_value=60,
            predicted_value_12m=120, frequency=frequency, recency_days=30, age_days=300)
    follow_up_add(contact=loyal, assigned_to=sales_user, title="Yeni sezonu anlat",
                  due_on=timezone.localdate())
    case = case_open(contact=loyal, subject="Kargo gecikti", channel="phone",
                     now=now - dt.timedelta(days=5))
    for day in range(14):  # more than the contact page's timeline shows
        note_add(contact=loyal, author=sales_user, body=f"Görüşme notu {day}")
    call_log(contact=loyal, user=sales_user, outcome="no_answer")
    call_log(contact=loyal, user=sales_user, outcome="reached", note="Sipariş verecek")
    # The shop's own campaign and email, written in Turkish (shop data, not interface).
    run = CampaignRunFactory(campaign__name="Tek seferlik alıcıları geri kazan",
                             campaign__template__subject="Merhaba {{ contact.first_name }}",
                             campaign__template__body_text="Merhaba {{ contact.first_name }},"
                             "\n\nAbonelikten çık: {{ unsubscribe_url }}\n")
    email = MessageFactory(run=run, contact=loyal, status="sent",
                           sent_at=now - dt.timedelta(days=20))
    invite = SurveyInviteFactory(contact=loyal)
    SurveyResponse.objects.create(invite=invite, contact=loyal, score=9, comment="Çok iyi")
    kpis_refresh()
    customer_base_refresh()
    from dashboard.models import BulkAssignJob
    job = BulkAssignJob.objects.create(created_by=sales_user, query="stage=at_risk",
                                       owner=sales_user, total=1200, done=600, changed=600,
                                       status=BulkAssignJob.Status.RUNNING)
    # A connected store, heard from an hour ago, with a back-fill under way (the stores page).
    from shops.models import Store, SyncJob
    store = Store.objects.create(platform="woocommerce", name="Web mağazası", key="web",
                                 base_url="https://shop.example.com",
                                 last_order_at=now - dt.timedelta(hours=1),
                                 last_webhook_at=now - dt.timedelta(hours=1))
    SyncJob.objects.create(store=store, kind=SyncJob.Kind.BACKFILL,
                           status=SyncJob.Status.RUNNING, orders_seen=1200, total=4800)
    return {"once": once, "loyal": loyal, "email": email, "case": case, "bulk_job": job,
            "users": (sales_user, manager)}


def test_every_sales_page_in_both_languages_at_both_widths(browser, live_server, desk):
    (ARTIFACTS / "walk").mkdir(parents=True, exist_ok=True)
    # Signed in once each with a session cookie (the login page has tests of its own).
    sessions = {}
    for user in desk["users"]:
        client = Client()
        client.force_login(user)
        sessions[user.username] = client.cookies[settings.SESSION_COOKIE_NAME].value
    found: dict[str, list[str]] = {}
    for language in LANGUAGES:
        for user in desk["users"]:
            user.language = language
            user.save(update_fields=["language"])
        for width in WIDTHS:
            for who, username in USERS.items():
                rows = [row for row in PAGES if row[1] == who]
                found.update(_walk(browser, live_server.url, sessions[username], username,
                                   language, width, rows, desk))
    assert found == {}, "\n".join(f"{where}: {what}" for where, what in found.items())


def _walk(browser, base_url, session, username, language, width, rows, desk
          ) -> dict[str, list[str]]:
    """One browser context per user, language and width: each page once; what went wrong."""
    where = f"{username}, {language}, {width}px"
    context = browser.new_context(base_url=base_url, locale=language,
                                  viewport={"width": width, "height": 900})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session,
                          "url": base_url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    heard: list[str] = []  # what the page's requests and console said, since the last page
    page.on("response", lambda response: heard.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    page.on("console", lambda message: heard.append(f"console: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: heard.append(f"script error: {error}"))
    found = {}
    try:
        for name, _who, address, click in rows:
            heard.clear()
            response = page.goto(address(desk))
            if click:
                page.locator(click).first.click()
            problems = list(heard)
            if response is None or response.status >= 400:
                problems.append(f"answered {response and response.status}")
            if page.locator("html").get_attribute("lang") != language:
                problems.append(f"lang={page.locator('html').get_attribute('lang')}")
            if language == "tr":
                problems += problems_on(page, response)
            elif page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"):
                problems.append("wider than the window: "
                                + str(page.evaluate("document.documentElement.scrollWidth")))
            if problems:
                found[f"{name} ({where})"] = problems
            screenshot(page, f"walk/{language}-{width}-{name}")
    finally:
        context.close()
    return found

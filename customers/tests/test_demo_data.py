"""The demo data behind `make run`: a living shop up to yesterday, loaded once however often
it runs, that fills every screen (call list, campaign audience, KPI charts) after `make demo`;
and the real CDNOW histories, still available as rows."""
import datetime as dt
import json
from collections import Counter, defaultdict
from io import StringIO
from itertools import islice

import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import MANAGERS, SALES_STAFF
from accounts.tests.factories import role_group
from customers.demo import DEMO_WEEKS, cdnow_rows, demo_shop
from customers.models import Contact, Purchase, Stage

SMALL = 8  # new buyers a week in the tests: the same generator, a smaller shop

CDNOW_CUSTOMERS = 23_570
CDNOW_LINES = 69_659


def test_rows_are_cdnow_histories_shifted_to_end_yesterday():
    today = dt.date(2026, 12, 1)
    rows = list(cdnow_rows(today=today))

    assert len(rows) == CDNOW_LINES
    assert len({row["email"] for row in rows}) == CDNOW_CUSTOMERS
    days = sorted(dt.datetime.fromisoformat(row["purchased_at"]).date() for row in rows)
    assert days[-1] == today - dt.timedelta(days=1)
    # CDNOW spans 1997-01-01..1998-06-30: 545 days.
    assert (days[-1] - days[0]).days == 545
    assert all(row["email"].endswith("@example.com") for row in rows)


def test_rows_are_the_same_on_every_run():
    first = list(islice(cdnow_rows(today=dt.date(2026, 12, 1)), 50))
    again = list(islice(cdnow_rows(today=dt.date(2026, 12, 1)), 50))
    assert first == again


@pytest.fixture
def demo_logins(settings, tmp_path, monkeypatch):
    path = tmp_path / "demo_logins.json"
    monkeypatch.setattr("dashboard.management.commands.load_demo_data.LOGINS_FILE", path)
    monkeypatch.setattr("dashboard.management.commands.print_welcome.LOGINS_FILE", path)
    settings.DEBUG = True
    role_group(MANAGERS), role_group(SALES_STAFF)  # earlier transactional tests flush them
    # ... and the shipped campaigns and the survey campaign, which migrations create.
    from campaigns import defaults as campaign_defaults
    from campaigns.models import Campaign, EmailTemplate
    from feedback import defaults as feedback_defaults

    campaign_defaults.create_defaults(EmailTemplate, Campaign)
    feedback_defaults.create_defaults(EmailTemplate, Campaign)
    return path


@pytest.mark.django_db
def test_the_demo_manager_lands_on_the_call_list_not_the_first_run_page(demo_logins, client):
    from crm.shop import shop

    call_command("load_demo_data", size=SMALL, stdout=StringIO())
    client.force_login(User.objects.get(username="manager"))

    assert shop().saved
    assert client.get(reverse("home"))["Location"] == reverse("dashboard:today")


@pytest.mark.django_db(transaction=True)
def test_loading_twice_duplicates_nothing_and_keeps_the_logins(demo_logins):
    call_command("load_demo_data", size=SMALL, stdout=StringIO())
    logins = json.loads(demo_logins.read_text())
    counts = (Contact.objects.count(), Purchase.objects.count())
    call_command("load_demo_data", size=SMALL, stdout=StringIO())

    shop = demo_shop(today=timezone.localdate(), new_per_week=SMALL)
    assert counts == (len(shop.contacts), len(shop.purchases))
    assert (Contact.objects.count(), Purchase.objects.count()) == counts
    assert json.loads(demo_logins.read_text()) == logins
    assert User.objects.get(username="manager").check_password(logins["manager"])
    assert User.objects.get(username="manager").groups.filter(name=MANAGERS).exists()
    assert User.objects.get(username="sales").groups.filter(name=SALES_STAFF).exists()
    # A shop's histories: most bought once, a good share came back.
    stages = {stage: Contact.objects.filter(stage=stage).count() for stage in Stage.values}
    assert stages[Stage.ONE_TIME] > stages[Stage.REPEAT] > counts[0] / 6
    assert not Contact.objects.filter(owner__isnull=True).exists()
    assert 0.6 < Contact.objects.filter(marketing_consent=True).count() / counts[0] < 0.8
    # Each agreeing contact has its ledger record with the wording it agreed to.
    from customers.consent.models import ConsentRecord

    assert ConsentRecord.objects.filter(given=True, wording__isnull=False).count() == (
        Contact.objects.filter(marketing_consent=True).count())


def test_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("load_demo_data")


# --- The living shop ---------------------------------------------------------------------------

TODAY = dt.date(2026, 12, 7)


def _first_days(shop) -> dict[str, dt.date]:
    first: dict[str, dt.date] = {}
    for row in shop.purchases:
        day = dt.datetime.fromisoformat(row["purchased_at"]).date()
        first[row["email"]] = min(day, first.get(row["email"], day))
    return first


def test_shop_has_new_buyers_every_week_up_to_yesterday():
    shop = demo_shop(today=TODAY, new_per_week=SMALL)
    days = [dt.datetime.fromisoformat(row["purchased_at"]).date() for row in shop.purchases]
    assert max(days) == TODAY - dt.timedelta(days=1)
    first = _first_days(shop)
    weeks_with_new_buyers = {(TODAY - day).days // 7 for day in first.values()}
    assert set(range(DEMO_WEEKS)) <= weeks_with_new_buyers  # 2.5 years, every single week
    assert DEMO_WEEKS * 7 >= 2 * 365
    assert len(first) == len(shop.contacts)
    assert all(row["email"].endswith("@example.com") for row in shop.purchases)


def test_shop_is_the_same_for_the_same_seed_and_day():
    one = demo_shop(today=TODAY, new_per_week=SMALL)
    assert one == demo_shop(today=TODAY, new_per_week=SMALL)
    assert one != demo_shop(today=TODAY, new_per_week=SMALL, seed=1)
    later = demo_shop(today=TODAY + dt.timedelta(days=30), new_per_week=SMALL)
    assert max(row["purchased_at"] for row in later.purchases) > max(
        row["purchased_at"] for row in one.purchases)


def test_shop_has_both_flavours_phones_consent_mix_and_refunds():
    shop = demo_shop(today=TODAY, new_per_week=SMALL)
    contacts = shop.contacts
    languages = Counter(contact.language for contact in contacts)
    assert set(languages) == {"tr", "en"} and min(languages.values()) > len(contacts) / 4
    turkish = [contact for contact in contacts if contact.language == "tr"]
    assert any(set(contact.first_name + contact.last_name) & set("çğıöşüÇĞİÖŞÜ")
               for contact in turkish)
    assert {contact.city for contact in turkish} >= {"İstanbul", "Ankara", "İzmir"}
    with_phone = [contact.phone for contact in contacts if contact.phone]
    assert len(with_phone) > 0.75 * len(contacts)
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(phone)) and
               phone == phonenumbers.format_number(phonenumbers.parse(phone),
                                                   phonenumbers.PhoneNumberFormat.E164)
               for phone in with_phone)
    assert {phone[:3] for phone in with_phone} >= {"+90", "+44"}
    consent = Counter(contact.consent for contact in contacts)
    assert consent["yes"] > consent[""] > consent["no"] > 0
    assert 0 < len(shop.refunds) < len(shop.purchases) / 10


def test_coming_back_depends_on_channel_first_order_value_and_coupon():
    """What the covariate model can find: real differences between kinds of first orders."""
    shop = demo_shop(today=TODAY, new_per_week=40)
    orders = defaultdict(list)
    for row in shop.purchases:
        orders[row["email"]].append(row)
    firsts = [(rows[0], len(rows) > 1) for rows in orders.values()]

    def share(keep) -> float:
        chosen = [back for first, back in firsts if keep(first)]
        return sum(chosen) / len(chosen)

    overall = share(lambda first: True)
    assert 0.2 < overall < 0.5
    assert share(lambda f: f["channel"] == "store") > overall + 0.05
    assert share(lambda f: f["channel"] == "marketplace") < overall - 0.05
    assert share(lambda f: f["code"] != "") < share(lambda f: f["code"] == "") - 0.05
    assert share(lambda f: float(f["amount"]) > 100) > share(lambda f: float(f["amount"]) < 40) + 0.1


@pytest.mark.django_db(transaction=True)
def test_make_demo_fills_the_call_list_the_campaign_and_every_kpi_chart(demo_logins, client):
    """`make demo` is load_demo_data then score_contacts: after those two, with nothing else,
    every screen that shows what the product is for has something to show."""
    from campaigns.audience import AudienceCriteria, audience_size
    from campaigns.models import Campaign
    from customers.scoring.report import explanation
    from dashboard.kpi_charts import kpi_charts
    from dashboard.kpis import kpis_compute
    from dashboard.selectors import call_list
    from feedback.models import SurveyResponse
    from customers.consent.models import ConsentRecord
    from support.models import Case

    call_command("load_demo_data", size=SMALL, stdout=StringIO())
    call_command("score_contacts", stdout=StringIO())
    manager = User.objects.get(username="manager")

    # The call list's middle column: one-time buyers likely to come back, each with a reason.
    lists = call_list(user=manager, mine=False)
    assert len(lists["convert"]) >= 10
    assert all(score.contact.stage == Stage.ONE_TIME for score in lists["convert"])
    assert all(explanation(score) for score in lists["convert"])
    assert lists["slipping"]  # repeat clients slipping away
    client.force_login(manager)
    page = client.get(reverse("dashboard:today"), REMOTE_ADDR="127.0.0.1")
    assert page.status_code == 200
    assert len(page.context["convert"]) >= 10
    assert all(reason for _score, reason in page.context["convert"])

    # The shipped "Convert one-time buyers" campaign has someone to write to.
    convert = Campaign.objects.get(name="Convert one-time buyers")
    assert audience_size(AudienceCriteria.from_json(convert.audience)) > 0

    # Every KPI chart has data.
    data = kpis_compute()
    charts = {chart.key: chart for chart in kpi_charts(data, months=12)}
    assert set(charts) == {"stages", "revenue", "repeat_rate", "cohorts", "likelihood", "nps",
                           "bands", "calibration"}
    assert all(chart.svg for chart in charts.values())
    full_months = slice(-13, -1)  # the last 12 whole months (today's month has just begun)
    assert all(value > 0 for value in data["revenue_first"][full_months])
    assert all(value > 0 for value in data["revenue_repeat"][full_months])
    rates = [r / b for r, b in zip(data["returning_buyers"][full_months],
                                   data["buyers"][full_months])]
    assert all(0 < rate < 1 for rate in rates)  # not a flat 100% line
    assert len(set(rates)) > 1
    # The conversion chart: new buyers in each of the last 12 months, and some of every
    # cohort whose 90 days are over came back.
    assert len(data["months"][-12:]) == 12
    assert all(n > 0 for n in data["new_buyers"][full_months])
    complete = [(n, c) for n, c, done in zip(data["new_buyers"][-12:],
                                             data["converted_90"][-12:],
                                             data["cohort_complete"][-12:]) if done]
    assert len(complete) >= 8 and all(0 < c < n for n, c in complete)
    assert sum(data["p_buy_histogram"][1:]) > 0
    assert [value for value in data["nps"][-12:] if value is not None]
    assert sum(band["contacts"] for band in data["bands"]) == Contact.objects.count()
    kpi_page = client.get(reverse("dashboard:kpis"), REMOTE_ADDR="127.0.0.1")
    assert kpi_page.status_code == 200 and len(kpi_page.context["charts"]) == 8

    # Phones, consent through the ledger, refunds, cases, survey answers.
    contacts = Contact.objects.count()
    assert Contact.objects.exclude(phone="").count() > 0.75 * contacts
    assert Contact.objects.filter(phone__startswith="+90").exists()
    assert Contact.objects.filter(language="tr").exists() and Contact.objects.filter(
        language="en").exists()
    assert 0.6 < Contact.objects.filter(marketing_consent=True).count() / contacts < 0.8
    assert ConsentRecord.objects.filter(given=True, wording__isnull=False).count() == (
        Contact.objects.filter(marketing_consent=True).count())
    assert ConsentRecord.objects.filter(given=False).exists()
    assert Purchase.objects.filter(refunded_at__isnull=False).exists()
    assert Case.objects.count() >= 5
    assert Case.objects.filter(solved_at__isnull=False).exists()
    assert SurveyResponse.objects.count() >= 10

    # What the demo sent is readable in the browser: the list, and one email rendered.
    sent = client.get(reverse("campaigns:sent_email_list"), REMOTE_ADDR="127.0.0.1")
    assert sent.status_code == 200 and sent.context["page_obj"].object_list
    first = sent.context["page_obj"].object_list[0]
    shown = client.get(reverse("campaigns:sent_email_detail", args=[first.pk]),
                       REMOTE_ADDR="127.0.0.1")
    assert shown.status_code == 200 and shown.context["rendered"].subject


@pytest.mark.django_db(transaction=True)
def test_every_demo_login_is_printed_and_the_manager_has_an_address(demo_logins):
    call_command("load_demo_data", size=1, stdout=StringIO())
    logins = json.loads(demo_logins.read_text())
    out = StringIO()
    call_command("print_welcome", stdout=out)

    assert set(logins) == {"manager", "sales", "sales2"}
    for username, password in logins.items():
        assert f"{username} / {password}" in out.getvalue()
        assert User.objects.get(username=username).check_password(password)
    assert User.objects.get(username="manager").email == "manager@example.com"


@pytest.mark.django_db
def test_the_demo_history_is_answered_and_nothing_old_is_emailed_at_first_start(
        demo_logins, mailoutbox, django_capture_on_commit_callbacks):
    from customers.models import FollowUp
    from customers.services.follow_up_reminders import follow_up_reminders_send
    from support.models import Case, CaseMessage

    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo_data", size=SMALL, stdout=StringIO())

    # Cases staff took up have their first answer, given within the day, stored as emailed.
    taken_up = Case.objects.exclude(status=Case.Status.NEW)
    assert taken_up.exists() and not taken_up.filter(first_response_at__isnull=True).exists()
    assert not CaseMessage.objects.filter(direction="out", emailed_at__isnull=True).exists()
    assert not Case.objects.filter(status=Case.Status.NEW,
                                   first_response_at__isnull=False).exists()
    # Unhappy survey answers gave call-backs: old ones done, recent ones open; none reminded
    # again now, and no reply of the past went out again.
    assert FollowUp.objects.exists()
    assert not FollowUp.objects.filter(
        done_at__isnull=True, due_on__lt=timezone.localdate() - dt.timedelta(days=7)).exists()
    assert follow_up_reminders_send() == 0
    staff = set(User.objects.values_list("email", flat=True)) - {""}
    assert not [mail.subject for mail in mailoutbox if set(mail.to) & staff]
    assert not [mail.subject for mail in mailoutbox if "Re:" in mail.subject]
    # The survey invitations of past weeks were emailed back then: none waits in the outbox.
    from campaigns.models import Message
    from campaigns.outbox import send_due_messages
    from feedback.models import SurveyInvite

    invited = Message.objects.filter(pk__in=SurveyInvite.objects.values("message"))
    assert invited.exists()
    assert set(invited.values_list("status", flat=True)) == {Message.Status.SENT}
    assert not invited.filter(sent_at__gte=timezone.now() - dt.timedelta(days=1)).exists()
    assert send_due_messages().claimed == 0

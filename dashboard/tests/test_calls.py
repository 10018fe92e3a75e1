"""Log a call from the call list or the contact page; the call-first contact page."""
import datetime as dt

import pytest
from crm.shop import shop
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import SalesStaffFactory
from customers.models import CallLog, CallOutcome, ContactScore, FollowUp, ScoringRun
from customers.services.calls import call_log
from customers.tests.factories import ContactFactory, record_purchase
from dashboard import selectors
from feedback.models import PromotionPause

pytestmark = pytest.mark.django_db
TODAY = reverse("dashboard:today")


@pytest.fixture(autouse=True)
def turkish_shop(settings):
    settings.CRM_PHONE_REGION = "TR"


def _scored(contact, *, p_buy: float = 0.5) -> ContactScore:
    run = ScoringRun.objects.filter(status="succeeded").first() or ScoringRun.objects.create(
        trigger="command", as_of=timezone.localdate(), horizon_days=90,
        status=ScoringRun.Status.SUCCEEDED, finished_at=timezone.now())
    return ContactScore.objects.create(
        run=run, contact=contact, scored_at=timezone.now(), p_buy_again=p_buy, p_alive=1.0,
        expected_purchases=p_buy, expected_value=20, predicted_value_12m=40,
        frequency=0, recency_days=0, age_days=60)


def _one_time_buyer(owner, **fields):
    contact = ContactFactory(owner=owner, **fields)
    record_purchase(contact, days_ago=20)
    _scored(contact)
    return contact


def _log(client, contact, **data):
    return client.post(reverse("dashboard:call_log", args=[contact.pk]),
                       {"outcome": "reached", "next": TODAY, **data})


def test_a_call_from_the_call_list_is_logged_and_the_contact_leaves_the_list(sales_client,
                                                                             sales_user):
    contact = _one_time_buyer(sales_user, first_name="Ayla")
    assert [s.contact for s in selectors.call_list(user=sales_user, mine=True)["convert"]] == [
        contact]

    response = _log(sales_client, contact, outcome="no_answer", note="Voicemail")

    assert response.status_code == 302 and response.url == TODAY
    call = CallLog.objects.get()
    assert (call.contact, call.user, call.outcome, call.note) == (
        contact, sales_user, "no_answer", "Voicemail")
    assert selectors.call_list(user=sales_user, mine=True)["convert"] == []


def test_a_contact_called_longer_ago_than_the_setting_is_back_on_the_list(settings, sales_user):
    settings.CRM_CALLED_RECENTLY_DAYS = 7
    contact = _one_time_buyer(sales_user)
    call_log(contact=contact, user=sales_user, outcome=CallOutcome.REACHED,
             called_at=timezone.now() - dt.timedelta(days=8))

    assert [s.contact for s in selectors.call_list(user=sales_user, mine=True)["convert"]] == [
        contact]

    settings.CRM_CALLED_RECENTLY_DAYS = 10
    assert selectors.call_list(user=sales_user, mine=True)["convert"] == []


def test_a_call_with_a_next_date_schedules_a_follow_up(sales_client, sales_user):
    contact = ContactFactory()
    day = timezone.localdate() + dt.timedelta(days=2)

    _log(sales_client, contact, outcome="call_back", follow_up_on=day.isoformat())

    assert FollowUp.objects.get().due_on == day


def test_a_call_back_at_an_hour_the_customer_named_is_reminded_then(sales_client):
    contact = ContactFactory()
    day = timezone.localdate() + dt.timedelta(days=2)

    _log(sales_client, contact, outcome="call_back", follow_up_on=day.isoformat(),
         follow_up_time="15:30")

    follow_up = FollowUp.objects.get()
    assert (follow_up.due_on, follow_up.due_time) == (day, dt.time(15, 30))
    assert follow_up.remind_at == dt.datetime.combine(day, dt.time(15, 30),
                                                      tzinfo=shop().zone)


def test_an_hour_without_a_day_is_refused_and_nothing_is_written(sales_client):
    contact = ContactFactory()

    response = _log(sales_client, contact, outcome="call_back", follow_up_time="15:30")

    assert response.status_code == 302
    assert not CallLog.objects.exists() and not FollowUp.objects.exists()
    page = sales_client.get(TODAY)
    assert "Choose the day of the follow-up too." in page.content.decode()


def test_the_call_form_offers_the_hour(sales_client, sales_user):
    contact = _one_time_buyer(sales_user)

    page = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))

    assert 'name="follow_up_time"' in page.content.decode()


def test_not_interested_pauses_promotions_like_an_unhappy_answer(settings, sales_client):
    settings.CRM_NOT_INTERESTED_PAUSE_DAYS = 60
    contact = ContactFactory()

    _log(sales_client, contact, outcome="not_interested")

    pause = PromotionPause.objects.get(contact=contact)
    call = CallLog.objects.get()
    assert pause.paused_until == call.called_at + dt.timedelta(days=60)
    assert pause.reason == PromotionPause.Reason.NOT_INTERESTED


def test_a_bad_outcome_is_an_error_message_and_nothing_is_logged(sales_client):
    contact = ContactFactory()

    response = _log(sales_client, contact, outcome="hung_up")

    assert response.status_code == 302
    assert not CallLog.objects.exists()
    page = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))
    assert "Select a valid choice" in page.content.decode()


def test_the_back_address_stays_on_this_site(sales_client):
    contact = ContactFactory()

    response = _log(sales_client, contact, next="https://evil.example/")

    assert response.url == reverse("dashboard:contact_detail", args=[contact.pk])


def test_without_the_permission_no_call_is_logged(client):
    user = SalesStaffFactory(username="nocalls")
    user.groups.first().permissions.remove(
        Permission.objects.get(codename="add_calllog"))
    client.force_login(user)

    response = _log(client, ContactFactory())

    assert response.status_code == 403
    assert not CallLog.objects.exists()


def test_calls_this_week_counts_the_users_calls_since_monday(sales_client, sales_user):
    contact = ContactFactory()
    call_log(contact=contact, user=sales_user, outcome=CallOutcome.REACHED)
    call_log(contact=contact, user=sales_user, outcome=CallOutcome.NO_ANSWER)
    call_log(contact=contact, user=SalesStaffFactory(username="other"),
             outcome=CallOutcome.REACHED)
    call_log(contact=contact, user=sales_user, outcome=CallOutcome.REACHED,
             called_at=timezone.now() - dt.timedelta(days=8))

    assert selectors.calls_this_week(user=sales_user) == 2
    figure = sales_client.get(TODAY).content.decode()
    assert "You logged <strong>2</strong> calls this week." in figure


def test_the_call_list_cards_link_the_phone_and_offer_the_call_form(sales_client, sales_user):
    _one_time_buyer(sales_user, first_name="Ayla", phone="+905321234567")

    html = sales_client.get(TODAY).content.decode()

    assert '<a href="tel:+905321234567" data-testid="card-phone">0532 123 45 67</a>' in html
    assert 'data-testid="call-log"' in html
    assert 'value="not_interested"' in html


def test_a_call_is_on_the_contact_timeline(sales_client, sales_user):
    contact = ContactFactory()
    call_log(contact=contact, user=sales_user, outcome=CallOutcome.WRONG_NUMBER,
             note="<b>Moved</b>")

    response = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))

    entry = response.context["timeline"][0]
    assert (entry.kind, entry.item.outcome) == ("call", "wrong_number")
    html = response.content.decode()
    timeline = html[html.index('data-testid="timeline"'):]
    assert "Wrong number" in timeline and "&lt;b&gt;Moved&lt;/b&gt;" in timeline
    assert "<b>Moved</b>" not in html


# --- The call-first contact page ------------------------------------------------------------

def test_the_contact_header_has_the_phone_whatsapp_email_score_and_counts(sales_client,
                                                                          sales_user):
    contact = ContactFactory(first_name="Ayla", phone="+905321234567", owner=sales_user,
                             email="ayla+shop@example.com")
    record_purchase(contact, days_ago=20)
    _scored(contact, p_buy=0.42)
    FollowUp.objects.create(contact=contact, assigned_to=sales_user, title="Ring",
                            due_on=timezone.localdate())

    html = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk])
                            ).content.decode()

    header = html[html.index('data-testid="contact-header"'):html.index("</section>")]
    assert 'href="tel:+905321234567"' in header and "0532 123 45 67" in header
    assert 'href="https://wa.me/905321234567"' in header
    assert 'href="mailto:ayla%2Bshop@example.com"' in header
    assert "42%" in header and 'data-testid="header-reason"' in header
    assert 'data-testid="header-follow-ups">1<' in header
    assert 'data-testid="header-cases">0<' in header
    assert sales_user.display_name in header
    # Recording a purchase is a link to its own page, not an auto-focused form here.
    assert 'href="/contacts/%d/purchases/new/"' % contact.pk in header
    assert "autofocus" not in html


def test_a_phone_stored_before_e164_is_shown_but_not_linked(sales_client):
    contact = ContactFactory(phone="555 1234")

    html = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk])
                            ).content.decode()

    assert 'data-testid="phone-text">555 1234<' in html
    assert "tel:" not in html and "wa.me" not in html


def test_the_contact_header_escapes_what_people_typed(sales_client):
    contact = ContactFactory(first_name="<script>x</script>")

    html = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk])
                            ).content.decode()

    assert "<script>x</script>" not in html


def test_the_call_log_is_read_only_in_the_admin(admin_client, sales_user):
    call_log(contact=ContactFactory(), user=sales_user, outcome=CallOutcome.REACHED)

    assert admin_client.get(reverse("admin:customers_calllog_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:customers_calllog_add")).status_code == 403


def test_a_due_follow_up_leaves_the_call_list_once_its_contact_is_called(sales_client,
                                                                         sales_user):
    contact = ContactFactory(first_name="Ayla")
    due = FollowUp.objects.create(contact=contact, assigned_to=sales_user, title="Ring back",
                                  due_on=timezone.localdate(),
                                  created_at=timezone.now() - dt.timedelta(days=2))
    assert selectors.call_list(user=sales_user, mine=True)["follow_ups"] == [due]

    _log(sales_client, contact, follow_up_on=timezone.localdate().isoformat())

    # The follow-up that call set is due today and stays; the old one has been answered.
    follow_ups = selectors.call_list(user=sales_user, mine=True)["follow_ups"]
    assert [task.title for task in follow_ups] == ["Call again"]
    assert FollowUp.objects.get(pk=due.pk).done_at is None  # still open on the contact page

"""The CSV import and the one-purchase service leave the same state behind: codes applied,
figures and stage, scores refreshed, purchase events and webhook deliveries queued. With
historical=True the import records the facts and announces nothing.

Runs on the test database of the session (SQLite here, PostgreSQL in CI: its merge differs).
"""
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.coupons import coupon_create
from campaigns.models import Campaign, Coupon, EmailTemplate, Message, Referral
from campaigns.referrals import referral_code_for
from customers.imports.purchases import purchases_import_csv
from customers.models import Contact, ContactScore, ImportJob, Purchase, ScoringRun
from customers.scoring.runs import current_run, scoring_run_execute, scoring_run_start
from customers.services.contacts import contact_set_consent
from customers.services.purchases import purchase_record, purchase_record_by_email
from customers.tests.factories import ContactFactory, record_purchase
from customers.tests.scoring_data import load_cdnow_sample
from webhooks.models import EventType, WebhookDelivery
from webhooks.tests.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db

HEADER = "email,purchased_at,amount,currency,external_id,code\n"


@pytest.fixture
def fitted_run(db) -> ScoringRun:
    """A published run with fitted models (300 CDNOW buyers): what re-scoring uses."""
    load_cdnow_sample(last_day=timezone.localdate() - dt.timedelta(days=1), customers=300)
    run = scoring_run_start(trigger=ScoringRun.Trigger.COMMAND)
    scoring_run_execute(run.pk, parallel=False)
    assert current_run() == run and run.__class__.objects.get(pk=run.pk).fitted
    return run


@pytest.fixture
def deliveries_not_sent(monkeypatch):
    """Webhook deliveries stay queued rows (no HTTP from the tests)."""
    from webhooks import tasks

    monkeypatch.setattr(tasks.deliver_task, "delay", lambda *args, **kwargs: None)


@pytest.fixture
def first_purchase_campaign(db) -> Campaign:
    template = EmailTemplate.objects.create(name="welcome", subject="Hi",
                                            body_text="Hi {{ unsubscribe_url }}")
    return Campaign.objects.create(
        name="welcome", template=template, trigger=Campaign.Trigger.EVENT,
        event=Campaign.Event.FIRST_PURCHASE, delay_days=1, holdout_percent=0, is_active=True,
        audience={"stages": ["one_time"]})


def _lane(tag: str) -> dict:
    """One lane of the comparison: a referrer with a referral code, a consenting contact with
    a campaign coupon, and the email of a buyer new to the CRM."""
    referrer = ContactFactory(email=f"referrer-{tag}@example.com")
    record_purchase(referrer, days_ago=100)
    buyer = ContactFactory(email=f"buyer-{tag}@example.com")
    contact_set_consent(contact=buyer, consent=True, source="test")
    coupon = coupon_create(contact=buyer, kind=Coupon.Kind.PERCENT, value=Decimal("10"),
                           currency="", expires_at=timezone.now() + dt.timedelta(days=30))
    return {"referrer": referrer, "buyer": buyer, "coupon": coupon,
            "referral_code": referral_code_for(referrer).code,
            "newcomer": f"newcomer-{tag}@example.com"}


def _typed(code: str) -> str:
    """As a customer types it: lower case, spaces for dashes."""
    return " " + code.lower().replace("-", " ") + " "


BOUGHT_AT = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)


def _single(lane: dict, source: str = "shop-a") -> None:
    purchase_record(contact=lane["buyer"], purchased_at=BOUGHT_AT, amount=Decimal("40.00"),
                    currency="USD", source=source, external_id="order-1",
                    code=_typed(lane["coupon"].code))
    purchase_record_by_email(email=lane["newcomer"], purchased_at=BOUGHT_AT,
                             amount=Decimal("25.00"), currency="USD", source=source,
                             external_id="order-2", code=_typed(lane["referral_code"]))


def _csv(lane: dict, source: str = "shop-b") -> io.StringIO:
    at = BOUGHT_AT.isoformat()
    return io.StringIO(
        HEADER
        + f'{lane["buyer"].email},{at},40.00,USD,order-1,"{_typed(lane["coupon"].code)}"\n'
        + f'{lane["newcomer"]},{at},25.00,USD,order-2,"{_typed(lane["referral_code"])}"\n')


def _state(lane: dict) -> dict:
    """What both writers must leave, in terms that do not depend on ids."""
    coupon = Coupon.objects.select_related("redeemed_purchase").get(pk=lane["coupon"].pk)
    buyer = Contact.objects.get(pk=lane["buyer"].pk)
    newcomer = Contact.objects.get(email=lane["newcomer"])
    referral = Referral.objects.filter(referee=newcomer).select_related("purchase").first()
    run = current_run()

    def score(contact):
        row = ContactScore.objects.filter(run=run, contact=contact).first()
        return row and (round(row.p_buy_again, 9), round(row.p_alive, 9), row.frequency)

    def deliveries(contact):
        return sorted(WebhookDelivery.objects.filter(contact_id=contact.pk)
                      .values_list("event_type", flat=True))

    return {
        "coupon_redeemed_by": coupon.redeemed_purchase and coupon.redeemed_purchase.external_id,
        "coupon_redeemed_at": coupon.redeemed_at == BOUGHT_AT,
        "referral": referral and (referral.referrer_id == lane["referrer"].pk,
                                  referral.purchase.external_id, referral.reward_id is not None),
        "referrer_rewards": Coupon.objects.filter(
            contact=lane["referrer"], purpose=Coupon.Purpose.REFERRAL_REWARD).count(),
        "stages": (buyer.stage, newcomer.stage),
        "counts": (buyer.purchase_count, newcomer.purchase_count),
        "scores": (score(buyer), score(newcomer)),
        "messages": (Message.objects.filter(contact=buyer).count(),
                     Message.objects.filter(contact=newcomer).count()),
        "deliveries": (deliveries(buyer), deliveries(newcomer)),
    }


def test_the_import_leaves_what_the_single_purchase_service_leaves(
        fitted_run, deliveries_not_sent, first_purchase_campaign,
        django_capture_on_commit_callbacks):
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED, EventType.COUPON_REDEEMED])
    one, two = _lane("one"), _lane("two")

    with django_capture_on_commit_callbacks(execute=True):
        _single(one)
    with django_capture_on_commit_callbacks(execute=True):
        result = purchases_import_csv(file=_csv(two), source="shop-b")

    assert result.purchases_created == 2
    single, imported = _state(one), _state(two)
    assert imported == single
    # And what that state is: nothing here may be "nothing happened" on both sides.
    assert single["coupon_redeemed_by"] == "order-1" and single["coupon_redeemed_at"]
    assert single["referral"] == (True, "order-2", True)
    assert single["referrer_rewards"] == 1
    assert single["stages"] == ("one_time", "one_time")
    assert None not in single["scores"]
    assert single["messages"] == (1, 0)  # the newcomer gave no consent: not in the audience
    assert single["deliveries"] == (
        sorted([EventType.COUPON_REDEEMED, EventType.STAGE_CHANGED]), [EventType.STAGE_CHANGED])


def test_a_historical_import_records_the_facts_and_announces_nothing(
        fitted_run, deliveries_not_sent, first_purchase_campaign,
        django_capture_on_commit_callbacks):
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED, EventType.COUPON_REDEEMED])
    lane = _lane("past")
    deliveries_before = WebhookDelivery.objects.count()  # the referrer's own first purchase

    with django_capture_on_commit_callbacks(execute=True):
        purchases_import_csv(file=_csv(lane), source="shop-b", historical=True)

    state = _state(lane)
    assert state["coupon_redeemed_by"] == "order-1" and state["coupon_redeemed_at"]
    assert state["referral"] == (True, "order-2", False)  # recorded, no reward handed out now
    assert state["referrer_rewards"] == 0
    assert state["stages"] == ("one_time", "one_time")
    assert None not in state["scores"]  # scores are facts too: re-scored
    assert state["messages"] == (0, 0)
    assert state["deliveries"] == ([], [])
    assert not Message.objects.exists()
    assert WebhookDelivery.objects.count() == deliveries_before


def _event_campaign(event: str, **values) -> Campaign:
    number = values.get("event_purchase_number", "")
    template = EmailTemplate.objects.create(name=f"t-{event}-{number}", subject="Hi",
                                            body_text="Hi {{ unsubscribe_url }}")
    return Campaign.objects.create(
        name=f"c-{event}-{number}", template=template,
        trigger=Campaign.Trigger.EVENT, event=event, delay_days=1, holdout_percent=0,
        is_active=True, audience={"stages": ["one_time", "repeat"]}, **values)


def test_an_import_fires_every_purchase_event_a_contact_crossed_once(
        django_capture_on_commit_callbacks):
    first = _event_campaign(Campaign.Event.FIRST_PURCHASE)
    repeat = _event_campaign(Campaign.Event.BECAME_REPEAT)
    third = _event_campaign(Campaign.Event.NTH_PURCHASE, event_purchase_number=3)
    fourth = _event_campaign(Campaign.Event.NTH_PURCHASE, event_purchase_number=4)
    new_buyer, regular = ContactFactory(), ContactFactory()
    for contact in (new_buyer, regular):
        contact_set_consent(contact=contact, consent=True, source="test")
    record_purchase(regular, days_ago=50)
    record_purchase(regular, days_ago=40)  # two days already: a repeat client before
    rows = "".join(f"{contact.email},{(timezone.now() - dt.timedelta(days=days)).isoformat()},"
                   f"10.00,USD,{contact.pk}-{days},\n"
                   for contact in (new_buyer, regular) for days in (3, 2))

    for _attempt in range(2):  # the second import adds nothing and fires nothing
        with django_capture_on_commit_callbacks(execute=True):
            purchases_import_csv(file=io.StringIO(HEADER + rows), source="shop")

    def reached(campaign):
        return set(Message.objects.filter(campaign=campaign).values_list("contact_id", flat=True))

    assert reached(first) == {new_buyer.pk}  # 0 -> 2 purchase days: first and repeat
    assert reached(repeat) == {new_buyer.pk}
    assert reached(third) == {regular.pk}  # 2 -> 4: the third and the fourth were passed
    assert reached(fourth) == {regular.pk}


def test_a_purchase_on_a_day_already_counted_fires_no_event(
        django_capture_on_commit_callbacks):
    """A purchase on a day the contact had bought already changes no count: no event."""
    first = _event_campaign(Campaign.Event.FIRST_PURCHASE)
    contact = ContactFactory()
    contact_set_consent(contact=contact, consent=True, source="test")
    bought = timezone.now() - dt.timedelta(days=1)
    purchase_record(contact=contact, purchased_at=bought, amount=Decimal("5"), currency="USD")
    Message.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        purchases_import_csv(file=io.StringIO(
            HEADER + f"{contact.email},{(bought + dt.timedelta(minutes=1)).isoformat()},"
                     "9.00,USD,later,\n"), source="shop")

    assert not Message.objects.filter(campaign=first).exists()


def _coded_import_queries(count: int, tag: str, django_capture_on_commit_callbacks) -> int:
    rows = []
    for index in range(count):
        contact = ContactFactory(email=f"{tag}{index}@example.com")
        contact_set_consent(contact=contact, consent=True, source="test")
        coupon = coupon_create(contact=contact, kind=Coupon.Kind.PERCENT, value=Decimal("5"),
                               currency="", expires_at=timezone.now() + dt.timedelta(days=9))
        rows.append(f"{contact.email},{BOUGHT_AT.isoformat()},10.00,USD,{tag}{index},"
                    f"{coupon.code}\n")
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=True):
            result = purchases_import_csv(file=io.StringIO(HEADER + "".join(rows)),
                                          source=tag)
    assert result.purchases_created == count
    assert Coupon.objects.filter(redeemed_purchase__source=tag).count() == count
    return len(queries)


def test_the_side_effects_cost_the_same_queries_for_5_or_50_purchases(
        fitted_run, deliveries_not_sent, first_purchase_campaign,
        django_capture_on_commit_callbacks):
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED, EventType.COUPON_REDEEMED])
    # The first import of the day opens the event campaign's run; later ones join it.
    _coded_import_queries(1, "warm", django_capture_on_commit_callbacks)

    few = _coded_import_queries(5, "few", django_capture_on_commit_callbacks)
    many = _coded_import_queries(50, "many", django_capture_on_commit_callbacks)

    assert many == few  # set-based: no statement per purchase or per contact
    assert Message.objects.filter(campaign=first_purchase_campaign).count() == 56
    assert WebhookDelivery.objects.filter(event_type=EventType.COUPON_REDEEMED).count() == 56


def test_a_coupon_carried_by_two_imported_purchases_is_redeemed_by_the_first_only(
        django_capture_on_commit_callbacks):
    contact = ContactFactory()
    coupon = coupon_create(contact=contact, kind=Coupon.Kind.PERCENT, value=Decimal("5"),
                           currency="", expires_at=timezone.now() + dt.timedelta(days=9))
    expired = coupon_create(contact=contact, kind=Coupon.Kind.PERCENT, value=Decimal("5"),
                            currency="", expires_at=timezone.now() - dt.timedelta(days=30))
    someone_elses = coupon_create(contact=ContactFactory(), kind=Coupon.Kind.PERCENT,
                                  value=Decimal("5"), currency="",
                                  expires_at=timezone.now() + dt.timedelta(days=9))
    at = BOUGHT_AT.isoformat()
    rows = (f"{contact.email},{at},1.00,USD,a,{coupon.code}\n"
            f"{contact.email},{at},2.00,USD,b,{coupon.code}\n"
            f"{contact.email},{at},3.00,USD,c,{expired.code}\n"
            f"{contact.email},{at},4.00,USD,d,{someone_elses.code}\n")

    purchases_import_csv(file=io.StringIO(HEADER + rows), source="shop")

    coupon.refresh_from_db()
    assert coupon.redeemed_purchase == Purchase.objects.get(external_id="a")
    assert not Coupon.objects.filter(pk__in=[expired.pk, someone_elses.pk],
                                     redeemed_at__isnull=False).exists()


def test_a_referral_counts_only_on_the_referees_first_purchase(
        django_capture_on_commit_callbacks):
    referrer = ContactFactory()
    code = referral_code_for(referrer).code
    returning = ContactFactory()
    record_purchase(returning, days_ago=30)
    at = BOUGHT_AT.isoformat()
    rows = (f"{returning.email},{at},1.00,USD,r1,{code}\n"  # not a first purchase
            f"{referrer.email},{at},1.00,USD,r2,{code}\n"  # own code
            f"new@example.com,{(BOUGHT_AT - dt.timedelta(days=1)).isoformat()},1.00,USD,n1,\n"
            f"new@example.com,{at},1.00,USD,n2,{code}\n"  # the earlier one was first
            f"fresh@example.com,{at},1.00,USD,f1,{code}\n")  # counts

    purchases_import_csv(file=io.StringIO(HEADER + rows), source="shop")

    referral = Referral.objects.select_related("referee", "purchase").get()
    assert (referral.referrer, referral.referee.email, referral.purchase.external_id) == (
        referrer, "fresh@example.com", "f1")
    assert referral.reward.contact == referrer


# --- The historical option at the two doors: the command and the upload form -----------------

STAGE_ROW = "{email},2025-03-01T10:00:00+00:00,10.00,USD,H-1,\n"


@pytest.mark.parametrize("historical", [False, True])
def test_the_command_announces_stage_changes_unless_historical(tmp_path, historical):
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED])
    contact = ContactFactory()
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + STAGE_ROW.format(email=contact.email), encoding="utf-8")

    call_command("import_purchases", str(path), *(["--historical"] if historical else []),
                 stdout=io.StringIO(), stderr=io.StringIO())

    assert Contact.objects.get(pk=contact.pk).stage == "one_time"
    assert WebhookDelivery.objects.filter(contact_id=contact.pk).exists() is not historical


@pytest.mark.parametrize("checked", [False, True])
def test_the_upload_checkbox_is_kept_on_the_job_and_used_by_its_import(
        client, manager, settings, tmp_path, checked, django_capture_on_commit_callbacks):
    settings.CRM_IMPORT_DIR = tmp_path / "imports"
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED])
    contact = ContactFactory()
    client.force_login(manager)
    form = {"kind": "purchases", "source": "csv", "skip_invalid": "on",
            "file": SimpleUploadedFile("orders.csv",
                                       (HEADER + STAGE_ROW.format(email=contact.email)).encode())}
    if checked:
        form["historical"] = "on"
    client.post(reverse("customers:import_list"), form)
    job = ImportJob.objects.get()
    assert job.historical is checked
    preview = client.get(reverse("customers:import_preview", args=[job.pk]))
    assert (b'data-testid="import-historical"' in preview.content) is checked

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("customers:import_start", args=[job.pk]))

    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE
    assert Contact.objects.get(pk=contact.pk).stage == "one_time"
    assert WebhookDelivery.objects.filter(contact_id=contact.pk).exists() is not checked

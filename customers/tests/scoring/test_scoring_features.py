"""Issue #18 points 1 and 4: attributes from every app, as of a day, and the contact page naming
the covariate model's main drivers of this contact's number in words."""
import datetime as dt

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from activity.models import WebsiteEvent
from customers import hooks
from customers.models import Channel, ChannelMapping, ContactScore, ScoringRun
from customers.normalise import shop_day
from customers.scoring import report
from customers.scoring.features import attributes_at, channel_code, source_code
from customers.scoring.model import covariate
from customers.scoring.store import day_index
from customers.tests.factories import ContactFactory, record_purchase
from support.models import Case

pytestmark = pytest.mark.django_db


def _trendyol() -> None:
    mapping = ChannelMapping.objects.filter(key="trendyol").first() or ChannelMapping(
        label="Trendyol")
    mapping.channel = Channel.MARKETPLACE
    mapping.save()


def _today() -> dt.date:
    return shop_day(timezone.now())


def test_every_app_above_customers_registers_its_scoring_features():
    names = {function.__module__ for function in hooks.scoring_features}
    assert names == {"activity.scoring_features", "campaigns.scoring_features",
                     "feedback.scoring_features", "support.scoring_features"}
    assert not hooks.scoring_products  # order lines do not exist yet: the hook waits for them


def test_attributes_as_of_a_day_leave_out_what_came_later():
    _trendyol()
    contact = ContactFactory()
    record_purchase(contact, days_ago=40, channel="Trendyol", source="csv", quantity=2)
    record_purchase(contact, days_ago=5, channel="web")
    now = timezone.now()
    day = _today() - dt.timedelta(days=20)

    def case(days_ago, solved_days_ago=None):
        opened = now - dt.timedelta(days=days_ago)
        Case.objects.create(
            contact=contact, subject="Late parcel", created_at=opened,
            first_response_due=opened, resolution_due=opened,
            solved_at=None if solved_days_ago is None else now - dt.timedelta(
                days=solved_days_ago))

    case(30)  # open then and now
    case(25, solved_days_ago=10)  # open then, solved since
    case(3)  # opened after the day
    for days_ago, received_days_ago in ((22, 22), (21, 21), (23, 1)):  # the last arrived late
        WebsiteEvent.objects.create(
            contact=contact, kind=WebsiteEvent.Kind.VIEWED_PRODUCT,
            occurred_at=now - dt.timedelta(days=days_ago),
            received_at=now - dt.timedelta(days=received_days_ago))

    then = attributes_at(day, contact_ids=[contact.pk]).take([contact.pk])
    today = attributes_at(_today(), contact_ids=[contact.pk]).take([contact.pk])

    assert then.categorical["channel"][0] == channel_code(Channel.MARKETPLACE)
    assert then.categorical["source"][0] == source_code("csv")
    assert then.numeric["open_cases"][0] == 2 and today.numeric["open_cases"][0] == 2
    assert then.numeric["recent_cases"][0] == 2 and today.numeric["recent_cases"][0] == 3
    assert then.numeric["website_events_30d"][0] == 2  # not the one received later
    assert today.numeric["website_events_30d"][0] == 3


def _run_with_covariate_model(contact_id: int) -> ContactScore:
    """A published run whose numbers come from a covariate model that reacts to the first
    order's channel, items and coupon only (hand-made weights, so the test reads plainly)."""
    weights = {"cat:channel=%d" % channel_code(Channel.MARKETPLACE): 1.5,
               "log_first_items": 0.8, "first_coupon": 0.7, "num:open_cases": 0.01}
    features = covariate.FEATURES + ("cat:channel=%d" % channel_code(Channel.MARKETPLACE),
                                      "cat:channel=other", "num:open_cases")
    model = covariate.CovariateModel(
        features=features, mean=(0.0,) * len(features), scale=(1.0,) * len(features),
        coef=tuple(weights.get(name, 0.0) for name in features), intercept=-2.0,
        window_days=90, training_rows=1000, training_buyers=100, converged=True,
        reason="converged")
    btyd = {"converged": True, "reason": "converged", "log_likelihood": -1.0}
    today = _today()
    fitted = {
        "horizon_days": 90, "as_of_day": day_index(today), "chosen": "covariate",
        "chosen_one_time": None,
        "state": {
            "bgnbd": {"r": 0.5, "alpha": 10.0, "a": 0.8, "b": 2.5, **btyd},
            "paretonbd": {"r": 0.5, "alpha": 10.0, "s": 0.8, "beta": 20.0, **btyd},
            "gammagamma": {"p": 6.0, "q": 4.0, "gamma": 15.0, **btyd},
            "covariate": model.to_json(), "baseline": {"one_time": 0.1, "repeat": 0.3},
            "mean_spend": 50.0, "btyd": "bgnbd",
        },
    }
    run = ScoringRun.objects.create(trigger="command", as_of=today, horizon_days=90,
                                    status=ScoringRun.Status.SUCCEEDED, publish=True,
                                    chosen_model="covariate", fitted=fitted,
                                    finished_at=timezone.now())
    return ContactScore.objects.create(
        run=run, contact_id=contact_id, scored_at=timezone.now(), p_buy_again=0.4,
        p_alive=0.8, expected_purchases=0.5, expected_value=50, predicted_value_12m=100,
        frequency=0, recency_days=0, age_days=30)


def test_the_contact_page_names_the_main_drivers_in_the_shops_words(client, django_user_model):
    _trendyol()
    contact = ContactFactory()
    record_purchase(contact, days_ago=30, channel="Trendyol", quantity=2, code="WELCOME10")
    score = _run_with_covariate_model(contact.pk)

    text = report.explanation(score, drivers=True)

    assert text == ("40% likely to buy again: first order in the Trendyol channel, "
                    "used a coupon on the first order, 2 items on the first order.")
    # lists (the today page) keep the quick rule-based words: no queries per contact
    assert "Trendyol" not in report.explanation(score)

    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    page = client.get(reverse("dashboard:contact_detail", args=[contact.pk]))
    assert page.status_code == 200
    assert "first order in the Trendyol channel" in page.content.decode()


def test_drivers_in_turkish():
    from django.utils import translation

    _trendyol()
    contact = ContactFactory()
    record_purchase(contact, days_ago=30, channel="Trendyol", quantity=2, code="WELCOME10")
    score = _run_with_covariate_model(contact.pk)
    with translation.override("tr"):
        words = report.covariate_words(score)
    assert len(words) == 3 and any("Trendyol" in word for word in words)


def test_no_drivers_when_the_number_is_not_the_covariate_models():
    contact = ContactFactory()
    record_purchase(contact, days_ago=30)
    score = _run_with_covariate_model(contact.pk)
    ScoringRun.objects.filter(pk=score.run_id).update(
        fitted={**score.run.fitted, "chosen": "bgnbd"})
    score.refresh_from_db()
    score.run.refresh_from_db()
    assert report.covariate_words(score) == []
    assert np.isfinite(score.p_buy_again)


def test_the_run_report_says_why_a_model_below_chance_was_not_used():
    from customers.scoring.model import backtest, pipeline

    metrics = backtest.WindowMetrics(n=100, n_one_time=50, auc=0.45, auc_one_time=0.40,
                                     brier=0.08, calibration=(), predicted_buyers=10.0,
                                     actual_buyers=10, predicted_purchases=None,
                                     actual_purchases=10, brier_one_time=0.07)
    below = pipeline.ModelReport("covariate", {}, None, False, pipeline.BELOW_CHANCE, metrics)
    run = ScoringRun.objects.create(trigger="command", as_of=_today(), horizon_days=90,
                                    status=ScoringRun.Status.SUCCEEDED, chosen_model="bgnbd",
                                    reports=[below.to_json()])

    lines = report.report_lines(run)

    assert any("Covariate model not used: ranked worse than chance, AUC below 0.5." in line
               for line in lines), lines
    assert report.backtest_rows(run)[0].note


def test_campaign_attributes_as_of_a_day():
    """A referral and a coupon redeemed on the first order count from that order's day on;
    emails count once sent."""
    from campaigns.coupons import COUPON_PREFIX, code_generate
    from campaigns.models import Coupon
    from campaigns.referrals import referral_code_for

    contact = ContactFactory()
    record_purchase(contact, days_ago=10, code=referral_code_for(ContactFactory()).code)
    coupon_buyer = ContactFactory()
    coupon = Coupon.objects.create(
        code=code_generate(COUPON_PREFIX), contact=coupon_buyer, kind="amount", value=5,
        currency="USD", expires_at=timezone.now() + dt.timedelta(days=30))
    record_purchase(coupon_buyer, days_ago=10, code=coupon.code)
    ids = [contact.pk, coupon_buyer.pk]

    before = attributes_at(_today() - dt.timedelta(days=20), contact_ids=ids).take(ids)
    now = attributes_at(_today(), contact_ids=ids).take(ids)

    assert np.isnan(before.numeric.get("referred", np.full(2, np.nan))).all()
    assert now.numeric["referred"][0] == 1 and np.isnan(now.numeric["referred"][1])
    assert now.numeric["first_order_coupon"][1] == 1


def test_email_clicks_count_emails_clicked_in_the_90_days():
    """People's clicks (campaigns.clicks) count once per email, from the moment they click."""
    from campaigns.models import LinkClick
    from campaigns.tests.factories import MessageFactory

    contact = ContactFactory()
    now = timezone.now()
    first = MessageFactory(contact=contact, status="sent", sent_at=now - dt.timedelta(days=30))
    second = MessageFactory(contact=contact, status="sent", sent_at=now - dt.timedelta(days=5))
    for message, url in ((first, "a"), (first, "b"), (second, "a")):
        LinkClick.objects.create(message=message, contact=contact, url=url, url_hash=url,
                                 clicked_at=message.sent_at + dt.timedelta(hours=1))

    before = attributes_at(_today() - dt.timedelta(days=10), contact_ids=[contact.pk])
    now_values = attributes_at(_today(), contact_ids=[contact.pk])

    assert before.take([contact.pk]).numeric["email_clicks_90d"][0] == 1
    assert now_values.take([contact.pk]).numeric["email_clicks_90d"][0] == 2

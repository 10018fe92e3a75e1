"""Helpers shared by the API tests."""
import datetime as dt

from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customers.models import ContactScore, ScoringRun


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def publish_score(contact, **values) -> ContactScore:
    """A succeeded, published run holding one score for `contact`."""
    run = ScoringRun.objects.create(
        status=ScoringRun.Status.SUCCEEDED, publish=True, trigger=ScoringRun.Trigger.COMMAND,
        as_of=timezone.localdate(), horizon_days=90, finished_at=timezone.now(),
        chosen_model="bgnbd")
    defaults = {"scored_at": timezone.now() - dt.timedelta(hours=1), "p_buy_again": 0.42,
                "p_alive": 0.8, "expected_purchases": 1.5, "expected_value": 30.0,
                "predicted_value_12m": 120.0, "frequency": 2, "recency_days": 100,
                "age_days": 200}
    return ContactScore.objects.create(run=run, contact=contact, **{**defaults, **values})

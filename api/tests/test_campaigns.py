"""Campaigns through the API: read for sales staff, start a run for managers only, idempotent."""
import pytest

from campaigns.models import CampaignRun, Message
from campaigns.tests.factories import CampaignFactory
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign():
    ContactFactory.create_batch(3, marketing_consent=True)
    return CampaignFactory(name="Thank you", holdout_percent=0)


def test_sales_staff_read_campaigns(sales_api, campaign):
    listed = sales_api.get("/api/campaigns/")
    assert listed.status_code == 200
    # The shipped campaigns (switched off) are listed too.
    assert "Thank you" in [row["name"] for row in listed.json()["results"]]
    detail = sales_api.get(f"/api/campaigns/{campaign.pk}/")
    assert detail.status_code == 200
    assert detail.json()["holdout_percent"] == 0


def test_sales_staff_may_not_start_a_run(sales_api, campaign):
    response = sales_api.post(f"/api/campaigns/{campaign.pk}/runs/", {}, format="json")
    assert response.status_code == 403
    assert not CampaignRun.objects.filter(campaign=campaign).exists()


def test_manager_starts_a_run_once_per_key(manager_api, campaign):
    first = manager_api.post(f"/api/campaigns/{campaign.pk}/runs/", {"key": "shop-42"},
                             format="json")
    assert first.status_code == 201
    assert first.json()["messages"]["queued"] == 3
    again = manager_api.post(f"/api/campaigns/{campaign.pk}/runs/", {"key": "shop-42"},
                             format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert CampaignRun.objects.filter(campaign=campaign).count() == 1
    assert Message.objects.filter(run__campaign=campaign).count() == 3


def test_runs_without_a_key_are_separate_starts(manager_api, campaign):
    for _ in range(2):
        assert manager_api.post(f"/api/campaigns/{campaign.pk}/runs/", {},
                                format="json").status_code == 201
    listed = manager_api.get(f"/api/campaigns/{campaign.pk}/runs/")
    assert len(listed.json()["results"]) == 2


@pytest.mark.parametrize("body", [{"key": ""}, {"key": "a b"}, {"key": "x" * 49},
                                  {"key": ["a"]}, {"kee": "typo"}])
def test_bad_start_requests_are_400_and_start_nothing(manager_api, campaign, body):
    response = manager_api.post(f"/api/campaigns/{campaign.pk}/runs/", body, format="json")
    assert response.status_code == 400
    assert not CampaignRun.objects.filter(campaign=campaign).exists()


def test_unknown_campaign_is_404(manager_api):
    assert manager_api.post("/api/campaigns/999999/runs/", {}, format="json").status_code == 404
    assert manager_api.get("/api/campaigns/999999/").status_code == 404


def test_anonymous_callers_get_401(anonymous_api, campaign):
    assert anonymous_api.get("/api/campaigns/").status_code == 401

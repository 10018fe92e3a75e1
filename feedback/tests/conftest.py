import pytest

from campaigns.models import Campaign
from feedback.defaults import SURVEY_CAMPAIGN_NAME


@pytest.fixture
def survey_campaign(db) -> Campaign:
    """The shipped survey campaign, switched on (it ships inactive)."""
    campaign = Campaign.objects.get(name=SURVEY_CAMPAIGN_NAME)
    campaign.is_active = True
    campaign.save(update_fields=["is_active"])
    return campaign

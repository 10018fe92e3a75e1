"""{{ campaign|campaign_name }}: a campaign's name as staff read it.

Managers name their campaigns (shop data, shown as typed), except the satisfaction survey,
which the code finds by its fixed English name (campaigns.defaults.SURVEY_CAMPAIGN_NAME): that
one is shown in the reader's language."""
from django import template
from django.utils.translation import gettext

from campaigns.defaults import SURVEY_CAMPAIGN_NAME

register = template.Library()


@register.filter
def campaign_name(campaign) -> str:
    if campaign.name == SURVEY_CAMPAIGN_NAME:
        return gettext("Satisfaction survey")
    return campaign.name

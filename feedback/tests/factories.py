"""Factories for the feedback app: an invitation comes with its outbox row in the survey
campaign (created by migration feedback 0002)."""
import factory

from campaigns.models import Campaign, CampaignRun, EmailTemplate, Message
from campaigns.rendering import new_message_id
from customers.tests.factories import ContactFactory
from feedback.defaults import SURVEY_CAMPAIGN_NAME, create_defaults
from feedback.models import SurveyInvite


def survey_run(key: str = "survey:test") -> CampaignRun:
    # A transactional test's flush removes what migrations created: put it back if gone.
    create_defaults(EmailTemplate, Campaign)
    campaign = Campaign.objects.get(name=SURVEY_CAMPAIGN_NAME)
    run, _created = CampaignRun.objects.get_or_create(
        campaign=campaign, key=key, defaults={"status": CampaignRun.Status.SENDING})
    return run


class SurveyMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    run = factory.Sequence(lambda n: survey_run(f"survey:test:{n}"))
    campaign = factory.SelfAttribute("run.campaign")
    contact = factory.SubFactory(ContactFactory, marketing_consent=True)
    message_id = factory.LazyFunction(new_message_id)


class SurveyInviteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyInvite

    contact = factory.SubFactory(ContactFactory, marketing_consent=True)
    message = factory.SubFactory(SurveyMessageFactory, contact=factory.SelfAttribute("..contact"))

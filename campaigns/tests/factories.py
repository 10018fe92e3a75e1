"""Factories for the campaigns app. A run is SENDING (its messages are sendable) and a
message's contact has marketing consent, unless a test says otherwise."""
import factory

from campaigns.models import Campaign, CampaignRun, EmailTemplate, Message
from campaigns.rendering import new_message_id
from customers.tests.factories import ContactFactory


class EmailTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    subject = "Hello {{ contact.first_name }}"
    body_text = "Hi {{ contact.first_name }},\n\nUnsubscribe: {{ unsubscribe_url }}\n"
    body_html = ""


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    template = factory.SubFactory(EmailTemplateFactory)


class CampaignRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignRun

    campaign = factory.SubFactory(CampaignFactory)
    key = factory.Sequence(lambda n: f"run-{n}")
    status = CampaignRun.Status.SENDING


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    run = factory.SubFactory(CampaignRunFactory)
    campaign = factory.SelfAttribute("run.campaign")
    contact = factory.SubFactory(ContactFactory, marketing_consent=True)
    message_id = factory.LazyFunction(new_message_id)

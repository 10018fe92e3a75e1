import factory

from webhooks.models import EventType, WebhookEndpoint


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    name = factory.Sequence(lambda n: f"Endpoint {n}")
    url = "https://hooks.example.com/crm"
    events = factory.LazyFunction(lambda: list(EventType.values))

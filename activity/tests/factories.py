import datetime as dt

import factory
from django.utils import timezone

from activity.models import EventKind, WebsiteEvent
from customers.tests.factories import ContactFactory


class WebsiteEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebsiteEvent

    contact = factory.SubFactory(ContactFactory)
    kind = EventKind.VIEWED_PRODUCT
    name = "Blue mug"
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    source = "shop"

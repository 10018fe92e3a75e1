import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from customers.models import Contact
from customers.services.purchases import purchase_record


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


def record_purchase(contact: Contact, *, days_ago: float = 0, amount: str = "10.00",
                    currency: str = "USD", **kwargs):
    """Record a purchase through the service, as every real writer does."""
    return purchase_record(
        contact=contact, purchased_at=timezone.now() - dt.timedelta(days=days_ago),
        amount=Decimal(amount), currency=currency, **kwargs,
    ).purchase

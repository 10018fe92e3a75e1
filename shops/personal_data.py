"""What shops/ holds about a person, for export and erasure (see crm/personal_data.py).

- The store orders of the person's purchases (order ids and numbers in the shop): exported,
  and deleted by erasure (the purchases stay as anonymous figures; an order sent again later
  is linked to its purchase again, which the erased contact keeps).
- Stored webhook bodies naming the person's address (the platform's copies of their orders
  and customer record): not exported (raw copies of what the other sections show), their
  bodies deleted by erasure.
"""
from django.db.models import F

from crm.personal_data import Custom, Delete, Person, Section

from .models import ShopOrder, WebhookDelivery


def _deliveries(person: Person):
    from .services.deliveries import deliveries_naming

    return WebhookDelivery.objects.filter(pk__in=deliveries_naming([person.email]))


def _bodies_erase(person: Person) -> int:
    from .services.deliveries import bodies_forget

    return bodies_forget([person.email])


SECTIONS = (
    Section(
        name="shop_orders", model=ShopOrder, rows=lambda person: ShopOrder.objects.filter(
            purchase__contact=person.contact.pk),
        order_by=("seen_at", "id"),
        columns=(("store", F("store__name")), ("order_id", "order_id"), ("number", "number"),
                 ("state", "state"), ("updated_in_store_at", "platform_updated_at")),
        erase=Delete(),
    ),
    Section(
        name="shop_webhook_bodies", model=WebhookDelivery, rows=_deliveries,
        erase=Custom(_bodies_erase, fields=("body",)),
        kept=("topic", "delivery_id", "error"),
    ),
)

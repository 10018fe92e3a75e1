"""Purchases with lines for the "what was bought" tests, through the purchase service."""
import datetime as dt
from decimal import Decimal

from django.utils import timezone

from customers.services.purchases import purchase_record

CATEGORIES = {"TEA": "Tea", "HONEY": "Deli", "POT": "Kitchen", "CUP": "Kitchen",
              "SOAP": "Bath"}


def line(sku: str, *, name: str | None = None, category: str | None = None,
         quantity: int = 1) -> dict:
    return {"sku": sku, "name": name if name is not None else sku.title(),
            "category": category if category is not None else CATEGORIES.get(sku, "Other"),
            "quantity": quantity, "unit_price": Decimal("10.00")}


def buy(contact, *skus: str, days_ago: float = 0, at: dt.datetime | None = None, lines=None):
    """One purchase of these products (one line each), `days_ago` days ago."""
    return purchase_record(
        contact=contact, purchased_at=at or timezone.now() - dt.timedelta(days=days_ago),
        amount=None, currency="USD", lines=lines or [line(sku) for sku in skus]).purchase

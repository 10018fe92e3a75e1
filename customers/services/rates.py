"""Currency rates: what a purchase in another currency is worth in the base currency."""
from decimal import Decimal

from ..models import CurrencyRate


def currency_rates() -> dict[str, Decimal]:
    return dict(CurrencyRate.objects.values_list("currency", "rate"))

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ContactQuerySet(models.QuerySet):
    def prospects(self):
        return self.filter(stage="prospect")

    def one_time_buyers(self):
        return self.filter(stage="one_time")

    def repeat_clients(self):
        return self.filter(stage="repeat")

    def at_risk(self, *, now: dt.datetime | None = None):
        """Repeat clients silent for longer than CRM_AT_RISK_MIN_DAYS."""
        cutoff = (now or timezone.now()) - dt.timedelta(days=settings.CRM_AT_RISK_MIN_DAYS)
        return self.repeat_clients().filter(last_purchase_at__lt=cutoff)

    def owned_by(self, user):
        return self.filter(owner=user)

    def search(self, text: str):
        """Contacts whose email or name contains every word of `text`, Turkish letters folded
        (customers.search: "istanbul" finds "İstanbul", "sahin" finds "Şahin")."""
        from .search import SearchFold, fold

        words = [fold(word) for word in text.split()]
        if not words:
            return self
        query = self.alias(email_folded=SearchFold("email"), first_folded=SearchFold("first_name"),
                           last_folded=SearchFold("last_name"))
        for word in words:
            query = query.filter(
                Q(email_folded__contains=word) | Q(first_folded__contains=word)
                | Q(last_folded__contains=word)
            )
        return query


def net_amount_base(prefix: str = "") -> models.Expression:
    """What a purchase is worth in the base currency after partial refunds (`prefix` reaches
    it through a relation, e.g. "purchases__")."""
    return models.F(f"{prefix}amount_base") - models.F(f"{prefix}refunded_amount_base")


class PurchaseQuerySet(models.QuerySet):
    def counted(self):
        """Purchases that count: refunded ones never do."""
        return self.filter(refunded_at__isnull=True)

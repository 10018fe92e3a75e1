"""activity's attributes for the likelihood-to-buy-again model (customers.hooks.
scoring_features, registered in ActivityConfig.ready()). numpy is loaded on use."""
import datetime as dt

CART_KINDS = ("added_to_cart", "abandoned_cart", "started_checkout")


def event_features(day: dt.date, contact_ids):
    """website_events_30d: website events in the 30 days up to the end of `day`;
    cart_events_90d: cart and checkout events in the 90 days up to it. Only events that had
    reached the CRM by then (received_at) count: one sent in later was not known that day."""
    from django.db.models import Count

    from customers.scoring.features import contact_filter, day_end, numeric, pairs

    from .models import WebsiteEvent

    end = day_end(day)
    events = contact_filter(
        WebsiteEvent.objects.filter(occurred_at__lt=end, received_at__lt=end,
                                    occurred_at__gte=end - dt.timedelta(days=90)), contact_ids)

    def per_contact(queryset):
        return pairs(queryset.order_by().values("contact_id").annotate(n=Count("id"))
                     .values_list("contact_id", "n"))

    return numeric(
        website_events_30d=per_contact(
            events.filter(occurred_at__gte=end - dt.timedelta(days=30))),
        cart_events_90d=per_contact(events.filter(kind__in=CART_KINDS)),
    )


def register() -> None:
    from customers import hooks

    hooks.scoring_features.register(event_features)

"""campaigns' attributes for the likelihood-to-buy-again model (customers.hooks.
scoring_features, registered in CampaignsConfig.ready()). numpy is loaded on use.

Email engagement: marketing emails sent in the last 90 days, the emails among them with a
link clicked (campaigns.clicks: people, not scanners), and whether the address unsubscribed
(or marked mail as spam).
"""
import datetime as dt

SENT_DAYS = 90


def campaign_features(day: dt.date, contact_ids):
    """emails_sent_90d, email_clicks_90d (emails sent in those days with a link clicked
    before the end of `day`), unsubscribed (1 once suppressed by unsubscribe or complaint before the
    end of `day`), referred (1 if their first purchase came with someone's referral code),
    first_order_coupon (1 if their first purchase redeemed one of our coupons; any code at all
    is customers' own first_coupon)."""
    import numpy as np
    from django.db.models import Count, F, Subquery

    from customers.models import Contact
    from customers.scoring.features import contact_filter, day_end, numeric, pairs

    from .models import Coupon, LinkClick, Message, Referral, Suppression

    end = day_end(day)
    sent = contact_filter(Message.objects.filter(
        sent_at__lt=end, sent_at__gte=end - dt.timedelta(days=SENT_DAYS)), contact_ids)
    clicked = contact_filter(LinkClick.objects.filter(
        kind=LinkClick.Kind.CLICK, clicked_at__lt=end,
        message__sent_at__gte=end - dt.timedelta(days=SENT_DAYS)), contact_ids)
    unsubscribed = Suppression.objects.filter(
        created_at__lt=end, reason__in=(Suppression.Reason.UNSUBSCRIBED,
                                        Suppression.Reason.COMPLAINED))
    gone = contact_filter(Contact.objects.filter(email__in=Subquery(unsubscribed.values("email"))),
                          contact_ids, field="id").values_list("id", flat=True)
    referred = contact_filter(Referral.objects.filter(purchase__purchased_on__lte=day),
                              contact_ids, field="referee_id").values_list("referee_id",
                                                                           flat=True)
    first_coupons = contact_filter(
        Coupon.objects.filter(
            redeemed_at__lt=end, redeemed_purchase__purchased_on__lte=day,
            redeemed_purchase__purchased_at=F("redeemed_purchase__contact__first_purchase_at")),
        contact_ids, field="redeemed_purchase__contact_id",
    ).values_list("redeemed_purchase__contact_id", flat=True)

    def flag(ids):
        ids = np.unique(np.fromiter(ids, dtype=np.int64))
        return ids, np.ones(len(ids))

    return numeric(
        emails_sent_90d=pairs(sent.order_by().values("contact_id").annotate(n=Count("id"))
                              .values_list("contact_id", "n")),
        email_clicks_90d=pairs(clicked.order_by().values("contact_id")
                               .annotate(n=Count("message_id", distinct=True))
                               .values_list("contact_id", "n")),
        unsubscribed=flag(gone.iterator(chunk_size=20_000)),
        referred=flag(referred.iterator(chunk_size=20_000)),
        first_order_coupon=flag(first_coupons.iterator(chunk_size=20_000)),
    )


def register() -> None:
    from customers import hooks

    hooks.scoring_features.register(campaign_features)

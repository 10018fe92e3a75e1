"""What feedback does when customers reports something (registered in FeedbackConfig.ready()).

customers never imports feedback: it calls customers.hooks, and these functions answer.
"""
import datetime as dt

from django.conf import settings

from customers import hooks

from .models import PromotionPause
from .services import promotions_pause


def _not_interested(contact, *, at: dt.datetime) -> None:
    """A call logged as "not interested": no promotional email for a while, through the pause
    an unhappy survey answer sets (an existing longer pause stays)."""
    promotions_pause(contact=contact,
                     until=at + dt.timedelta(days=settings.CRM_NOT_INTERESTED_PAUSE_DAYS),
                     reason=PromotionPause.Reason.NOT_INTERESTED)


def register() -> None:
    hooks.contact_not_interested.register(_not_interested)

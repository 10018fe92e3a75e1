"""What campaigns does when privacy erases a contact (registered in CampaignsConfig.ready()).

privacy never imports campaigns: it calls privacy.hooks, and these functions answer.
"""
from privacy import hooks

from .models import Suppression
from .suppression import address_suppress


def _erased_address_suppress(email: str) -> None:
    """The erased contact's placeholder address: never in an audience, never sent to."""
    address_suppress(email=email, reason=Suppression.Reason.ERASED)


def register() -> None:
    hooks.contact_erased.register(_erased_address_suppress)

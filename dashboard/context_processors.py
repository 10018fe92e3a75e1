"""The navigation bar's figures, for every page that extends base.html."""
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from . import selectors


def follow_ups_due(request: HttpRequest) -> dict:
    """The user's open follow-ups due today or overdue: the badge beside "My follow-ups".
    Counted only when a page shows it (one query on follow_up_open_idx), for staff who have
    follow-ups."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        if not user.has_perm("customers.view_followup"):
            return 0
        return selectors.follow_ups_due_count(user=user)

    return {"follow_ups_due": SimpleLazyObject(count)}

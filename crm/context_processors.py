from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest

from accounts.roles import is_manager

from .shop import shop


def _base_currency() -> str:
    try:
        return shop().base_currency
    except DatabaseError:
        # The database is down: a page that needs it answers 503 itself (crm.errors); one that
        # does not (the login page) still renders, and shows no money.
        return settings.CRM_BASE_CURRENCY


def crm(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "user_is_manager": bool(user and is_manager(user)),
        "base_currency": _base_currency(),
    }

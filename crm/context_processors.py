from django.conf import settings
from django.http import HttpRequest

from accounts.roles import is_manager


def crm(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "user_is_manager": bool(user and is_manager(user)),
        "base_currency": settings.CRM_BASE_CURRENCY,
    }

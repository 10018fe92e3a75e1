from django.http import HttpRequest

from accounts.roles import is_manager

from .shop import shop


def crm(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "user_is_manager": bool(user and is_manager(user)),
        "base_currency": shop().base_currency,
    }

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.roles import is_manager

from .health import all_checks


def home(request: HttpRequest) -> HttpResponse:
    return redirect("customers:today")


@never_cache
def status(request: HttpRequest) -> HttpResponse:
    # Signed in (LoginRequiredMiddleware) but not a manager: a redirect to the login page would
    # send them straight back here, forever (user_passes_test did that).
    if not is_manager(request.user):
        raise PermissionDenied
    checks = all_checks()
    return render(
        request, "crm/status.html",
        {"checks": checks, "all_ok": all(check.ok for check in checks)},
        status=200 if all(check.ok for check in checks) else 503,
    )

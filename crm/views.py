from django.contrib.auth.decorators import user_passes_test
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.roles import is_manager

from .health import all_checks


def home(request: HttpRequest) -> HttpResponse:
    return redirect("customers:today")


@never_cache
@user_passes_test(is_manager)
def status(request: HttpRequest) -> HttpResponse:
    checks = all_checks()
    return render(
        request, "crm/status.html",
        {"checks": checks, "all_ok": all(check.ok for check in checks)},
        status=200 if all(check.ok for check in checks) else 503,
    )

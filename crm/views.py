import logging

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from accounts.roles import is_manager

from .health import all_checks, broker_check, database_check

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    return redirect("dashboard:today")


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


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: 200 when this machine can serve pages, 503 when it cannot.

    Anonymous and cheap (probed every few seconds): one SELECT 1 and one new broker connection,
    each bounded by a few seconds, no worker ping (that is /status/'s job). The body names what
    failed, never where it lives; the details go to the log.
    """
    checks = [database_check(), broker_check()]
    for check in checks:
        if not check.ok:
            logger.warning("Health check: %s unavailable: %s", check.name, check.detail)
    healthy = all(check.ok for check in checks)
    body = "".join(f"{check.name}: {'ok' if check.ok else 'unavailable'}\n" for check in checks)
    return HttpResponse(body, status=200 if healthy else 503,
                        content_type="text/plain; charset=utf-8")

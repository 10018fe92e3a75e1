"""Server errors: a database outage answers 503 "retry in a minute", anything else stays a 500.

Django turns an exception in any view or middleware into the handler500 response (crm/urls.py),
so this is the one place that sees them all: staff pages, the admin, the login, the API. The
503 must render while the database is down, so nothing here may query it: no RequestContext
(its context processors read request.user), no user language (it lives in the database); the
language is the one LocaleMiddleware took from the cookie or Accept-Language header.
"""
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views import defaults
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Connection refused or lost, server shutting down or starting up, too many connections...
# PostgreSQL reports all of them as one of these two.
DATABASE_OUTAGE_ERRORS = (OperationalError, InterfaceError)
# Redis (sessions are cached there, API throttles count there) refusing or timing out: the page
# cannot be served either, and it is as temporary.
OUTAGE_ERRORS = DATABASE_OUTAGE_ERRORS + (RedisConnectionError, RedisTimeoutError)
RETRY_AFTER_SECONDS = 60


def is_outage(error: BaseException | None) -> bool:
    """The error, or one it was raised from or while handling, is a database or Redis
    connection error."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, OUTAGE_ERRORS):
            return True
        seen.add(id(error))
        # `raise ... from None` says the error it was handling does not matter.
        error = error.__cause__ if error.__suppress_context__ else error.__context__
    return False


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """handler500: Django calls it while handling the exception, so sys.exc_info() has it."""
    if is_outage(sys.exc_info()[1]):
        return service_unavailable(request)
    return defaults.server_error(request, template_name)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    message = _("The CRM is temporarily unavailable. Please try again in a minute.")
    if _is_api(request):
        # The API's own error shape (api/schema.py: {"detail": "..."}).
        response = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)  # a proxy must not keep serving the outage page
    return response


def _is_api(request: HttpRequest) -> bool:
    try:
        return "api" in resolve(request.path_info).namespaces
    except Resolver404:
        return False

"""Is CRM_PUBLIC_URL the address the app is really reached at?

Every link in every email (unsubscribe, survey answers) starts with CRM_PUBLIC_URL. If it
names another host or port than the one people reach the app on, every link is dead, and
nothing else shows it: `make run PORT=8080` used to send links to port 8000. Two warnings:

* at start-up, a system check (crm.W002): the server is started on PORT (make run, the
  Procfile) while CRM_PUBLIC_URL is a loopback address with another port. Behind a proxy the
  app's own port is not the public one, so only a loopback public URL is compared;
* on the first request for each host, PublicURLCheckMiddleware logs a warning when the host
  and port the browser used (the Host header, which nginx passes on) differ from
  CRM_PUBLIC_URL's. Once per host, so a health check from another address says it once.
"""
import logging
import os
import threading
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Warning, register
from django.http import HttpRequest

logger = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Hosts already compared (bounded: ALLOWED_HOSTS limits them, "*" in development does not).
_SEEN_LIMIT = 64
# crm/urls.py's "healthz".
HEALTH_CHECK_PATH = "/healthz"


def address(url: str) -> tuple[str, int] | None:
    """(host, port) of an absolute http(s) URL, the port defaulted by scheme; None if not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme]


def public_address() -> tuple[str, int] | None:
    return address(settings.CRM_PUBLIC_URL)


@register()
def check_public_url_port(app_configs=None, **kwargs) -> list[Warning]:
    """crm.W002: started on PORT, links go to another port of this machine."""
    port, public = os.environ.get("PORT", ""), public_address()
    if public is None:
        return [Warning(f"CRM_PUBLIC_URL ({settings.CRM_PUBLIC_URL!r}) is not an http(s) "
                        "address: links in emails will not work.",
                        hint="Set CRM_PUBLIC_URL to the address people open the app at.",
                        id="crm.W002")]
    if not port.isdigit() or public[0] not in _LOOPBACK or public[1] == int(port):
        return []
    return [Warning(
        f"CRM_PUBLIC_URL is {settings.CRM_PUBLIC_URL} but the server runs on port {port}: "
        "every link in every email (unsubscribe, surveys) would lead nowhere.",
        hint=f"Unset it (make run sets http://127.0.0.1:{port}) or set it to the address "
             "the app is reached at.",
        id="crm.W002")]


class PublicURLCheckMiddleware:
    """Log a warning the first time a host other than CRM_PUBLIC_URL's is served."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.seen: set[tuple[str, str]] = set()  # (scheme, Host header) compared already
        self.lock = threading.Lock()

    def __call__(self, request: HttpRequest):
        # Beyond that many hosts nothing more is compared. A balancer's health probe often
        # comes by plain HTTP or by address: not what people (or email links) use.
        if len(self.seen) < _SEEN_LIMIT and request.path_info != HEALTH_CHECK_PATH:
            self._compare(request)
        return self.get_response(request)

    def _compare(self, request: HttpRequest) -> None:
        try:
            key = (request.scheme, request.get_host())
        except Exception:  # noqa: BLE001 - a disallowed host: Django answers 400 itself
            return
        if key in self.seen:
            return
        with self.lock:
            if key in self.seen:
                return
            self.seen.add(key)
        served = address(f"{key[0]}://{key[1]}/")
        public = public_address()
        if served is not None and public is not None and served != public:
            logger.warning(
                "This app is being served at %s:%s but CRM_PUBLIC_URL is %s: links in "
                "emails (unsubscribe, surveys) point there. Set CRM_PUBLIC_URL to the "
                "address people reach the app at (README, \"Email links\").",
                served[0], served[1], settings.CRM_PUBLIC_URL)

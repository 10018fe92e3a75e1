"""The client's address, as the trusted reverse proxies report it: one rule for every
per-client limit (login lock-out, support form, API throttles).

Each proxy in front of the app appends the address of the peer it received the connection
from to X-Forwarded-For. With CRM_TRUSTED_PROXY_COUNT = N, the Nth entry from the right was
written by the outermost trusted proxy: that is the client. Entries further left were sent by
the client and are never believed. With N = 0 (runserver, no proxy) the TCP peer is the client.

This is DRF's NUM_PROXIES rule (rest_framework.throttling.BaseThrottle.get_ident) made usable
outside DRF. Not python-ipware (what django-axes would use): its proxy_count expects the
proxies' own addresses in the header too (it takes entry -(N+1), and skips a shorter header),
it prefers "global" over private addresses whatever their position, and by default it reads a
dozen other headers (X-Real-IP, CF-Connecting-IP, ...) that any client can send.
"""
import ipaddress
import logging

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.http import HttpRequest

log = logging.getLogger(__name__)
UNKNOWN = "unknown"


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address, normalised; None when the request does not tell.

    None means the deployment is wrong (a unix socket with CRM_TRUSTED_PROXY_COUNT=0, or a
    request that bypassed the proxy): that is logged, and limits keyed on it lump every such
    request together rather than letting each one through unlimited.
    """
    count = settings.CRM_TRUSTED_PROXY_COUNT
    address = None
    if count > 0:
        address = forwarded_address(request.META.get("HTTP_X_FORWARDED_FOR", ""), count)
    if address is None:
        address = parse_ip(request.META.get("REMOTE_ADDR", ""))
    if address is None:
        log.error("No client address in this request (REMOTE_ADDR %r, X-Forwarded-For %r): "
                  "behind a proxy set CRM_TRUSTED_PROXY_COUNT (docs/deployment.md).",
                  request.META.get("REMOTE_ADDR", "")[:100],
                  request.META.get("HTTP_X_FORWARDED_FOR", "")[:100])  # client-sent: cut short
    return address


def client_key(request: HttpRequest) -> str:
    """client_ip() for cache keys: an unknown address is one shared key, never an empty one."""
    return client_ip(request) or UNKNOWN


def forwarded_address(header: str, trusted_proxies: int) -> str | None:
    """The entry the outermost of `trusted_proxies` proxies wrote; with fewer entries the
    leftmost (the request passed fewer proxies, so even that one was written by a proxy)."""
    if not header.strip():
        return None
    # Empty entries keep their place: dropping them would shift a client's entry rightwards.
    entries = header.split(",")
    return parse_ip(entries[-min(trusted_proxies, len(entries))])


def parse_ip(value: str) -> str | None:
    """A canonical IPv4 or IPv6 address, or None. IPv4-mapped IPv6 (::ffff:192.0.2.1, what a
    dual-stack socket reports) becomes the IPv4 address so both spellings share one limit."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


@register(Tags.security, deploy=True)
def trusted_proxy_check(app_configs, **kwargs) -> list[Warning]:
    """Trusting the proxy for the scheme but not for the address is the unix-socket trap:
    every request then has no client address."""
    if settings.CRM_TRUSTED_PROXY_COUNT == 0 and getattr(settings, "SECURE_PROXY_SSL_HEADER",
                                                         None):
        return [Warning(
            "SECURE_PROXY_SSL_HEADER trusts a reverse proxy, but CRM_TRUSTED_PROXY_COUNT is 0: "
            "the login lock-out and rate limits cannot see client addresses.",
            hint="Set CRM_TRUSTED_PROXY_COUNT to the number of proxies in front of gunicorn "
                 "(1 for the documented nginx set-up).",
            id="crm.W001",
        )]
    return []

"""The HTTP side of a delivery and its retry timing: standard library only.

Redirects are not followed: a 3xx counts as a failed attempt (the manager should enter the
final address), so a receiver cannot bounce signed payloads to another host.

Unless private addresses are allowed (WEBHOOKS_ALLOW_PRIVATE_ADDRESSES), the connection is made
only to addresses that addresses.resolve_public accepted, from the same DNS lookup (see
create_public_connection), and never through an HTTP(S)_PROXY from the environment: a proxy
resolves the name itself, out of reach of that check.
"""
import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from .addresses import create_public_connection

USER_AGENT = "CRM-Webhooks/1"
_READ_LIMIT = 64 * 1024  # the body is not used; read a little so the connection ends cleanly
_ERROR_LENGTH = 200


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx code


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = create_public_connection


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    # connect() wraps the socket in TLS for self.host, so the certificate is still checked
    # against the name in the URL, not against the address we connected to.
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = create_public_connection


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_PublicHTTPSConnection, req, context=self._context,
                            check_hostname=self._check_hostname)


_opener = urllib.request.build_opener(_NoRedirects)
_public_opener = urllib.request.build_opener(
    _NoRedirects, urllib.request.ProxyHandler({}), _PublicHTTPHandler, _PublicHTTPSHandler)


def _short(text: str) -> str:
    return text[:_ERROR_LENGTH]


def _http_error(error: urllib.error.HTTPError) -> PostResult:
    with error:  # closes the response
        if 300 <= error.code < 400:
            host = urlsplit(error.headers.get("Location", "")).hostname or "?"
            return PostResult(error.code, _short(f"HTTP {error.code}: redirect to {host} "
                                                 f"not followed"))
        return PostResult(error.code, f"HTTP {error.code}")


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float, *,
              allow_private: bool = False) -> PostResult:
    """POST the body once; never raises for network or HTTP problems, returns what happened.

    Without `allow_private`, a host that resolves to a non-public address is not connected to
    (the result's error says why)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
    try:
        opener = _opener if allow_private else _public_opener
        with opener.open(request, timeout=timeout) as response:
            response.read(_READ_LIMIT)
            return PostResult(response.status)
    except urllib.error.HTTPError as error:
        return _http_error(error)
    except urllib.error.URLError as error:
        return PostResult(None, _short(f"{type(error.reason).__name__}: {error.reason}"))
    except (OSError, http.client.HTTPException, ValueError) as error:
        return PostResult(None, _short(f"{type(error).__name__}: {error}"))


def backoff_seconds(attempts: int, *, base: float, cap: float, rand: float) -> float:
    """Wait after the `attempts`-th failed attempt: base * 2^attempts, at most `cap`, then
    ±10 % jitter (`rand` in [0, 1)) so endpoints that failed together do not retry together."""
    return min(cap, base * 2 ** attempts) * (0.9 + 0.2 * rand)

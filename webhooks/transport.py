"""The HTTP side of a delivery and its retry timing: standard library only.

Redirects are not followed: a 3xx counts as a failed attempt (the manager should enter the
final address), so a receiver cannot bounce signed payloads to another host.
"""
import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

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


_opener = urllib.request.build_opener(_NoRedirects)


def _short(text: str) -> str:
    return text[:_ERROR_LENGTH]


def _http_error(error: urllib.error.HTTPError) -> PostResult:
    with error:  # closes the response
        if 300 <= error.code < 400:
            host = urlsplit(error.headers.get("Location", "")).hostname or "?"
            return PostResult(error.code, _short(f"HTTP {error.code}: redirect to {host} "
                                                 f"not followed"))
        return PostResult(error.code, f"HTTP {error.code}")


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> PostResult:
    """POST the body once; never raises for network or HTTP problems, returns what happened."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
    try:
        with _opener.open(request, timeout=timeout) as response:
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

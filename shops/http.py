"""The connectors' HTTP client: every platform's API calls go through one `ShopHTTP`.

What the platforms document, handled once here:
- 429 Too Many Requests: wait what Retry-After says (seconds; capped at `max_wait`) and try
  again, up to `retries` times; then ConnectorError(RATE_LIMITED) with the wait asked for, so a
  job can carry on later from its cursor.
- 5xx, timeouts, refused connections: try again after 1, 2, 4... seconds (capped), then
  ConnectorError(UNAVAILABLE).
- 401/403: ConnectorError(AUTH) at once (expired or revoked credentials do not heal by retry).
- an answer that is not JSON: ConnectorError(BAD_ANSWER).
- a store address that is or resolves to a private, loopback or link-local address is refused
  (ConnectorError(BLOCKED)) unless CRM_SHOPS_ALLOW_PRIVATE_ADDRESSES (tests and local fakes):
  the manager types the address and the worker fetches it from inside the network. The check
  resolves the name before each request (webhooks.addresses); a DNS answer changing between
  check and connection remains possible and is accepted for reads of a store's own API.
"""
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

from webhooks.addresses import BlockedAddress, resolve_public

from .platforms.base import ConnectorError

logger = logging.getLogger(__name__)

USER_AGENT = "CRM shop connector (+https://github.com/; loyalty CRM)"


def allow_private_addresses() -> bool:
    return bool(getattr(settings, "CRM_SHOPS_ALLOW_PRIVATE_ADDRESSES", False))


class ShopHTTP:
    """A requests session with the platforms' retry rules. One per job or request."""

    def __init__(self, *, timeout: float = 15.0, retries: int = 3, max_wait: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep,
                 allow_private: bool | None = None) -> None:
        self.timeout = timeout
        self.retries = retries
        self.max_wait = max_wait
        self.sleep = sleep
        self.allow_private = allow_private_addresses() if allow_private is None else allow_private
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        self.requests_made = 0

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "ShopHTTP":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(self, url: str, *, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None,
                 auth: tuple[str, str] | None = None) -> tuple[Any, Mapping[str, str]]:
        """GET and read JSON: (body, response headers)."""
        return self.request_json("GET", url, params=params, headers=headers, auth=auth)

    def post_json(self, url: str, *, data: Mapping[str, Any] | None = None,
                  json: Any = None, headers: Mapping[str, str] | None = None,
                  auth: tuple[str, str] | None = None) -> tuple[Any, Mapping[str, str]]:
        """POST (a form with `data`, JSON with `json`) and read JSON: (body, headers)."""
        return self.request_json("POST", url, data=data, json=json, headers=headers, auth=auth)

    def request_json(self, method: str, url: str, **kwargs: Any) -> tuple[Any, Mapping[str, str]]:
        self._check_address(url)
        attempt = 0
        while True:
            attempt += 1
            response = self._send(method, url, attempt=attempt, **kwargs)
            if response is not None and response.status_code < 400:
                return self._json(response, url), response.headers
            wait = self._wait_before_retry(response, url, attempt)
            self.sleep(wait)

    def _send(self, method: str, url: str, *, attempt: int,
              **kwargs: Any) -> requests.Response | None:
        """The response, or None when none came (timeout, refused): then retried as a 5xx."""
        self.requests_made += 1
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            if attempt > self.retries:
                raise ConnectorError(ConnectorError.UNAVAILABLE,
                                     f"{_host(url)} did not answer: {error}") from None
            logger.info("shop API %s: %s (attempt %s)", _host(url), error, attempt)
            return None

    def _wait_before_retry(self, response: requests.Response | None, url: str,
                           attempt: int) -> float:
        """How long to wait before trying again; ConnectorError when no more tries."""
        if response is None:
            return self._backoff(attempt)
        status = response.status_code
        if status in (401, 403):
            raise ConnectorError(ConnectorError.AUTH,
                                 f"{_host(url)} refused the credentials (HTTP {status}): "
                                 f"{_snippet(response)}", status=status)
        if status == 429:
            asked = _retry_after(response.headers.get("Retry-After"))
            if attempt > self.retries:
                raise ConnectorError(ConnectorError.RATE_LIMITED,
                                     f"{_host(url)} asks to slow down (HTTP 429)",
                                     retry_after=asked, status=status)
            return min(asked if asked is not None else self._backoff(attempt), self.max_wait)
        if status >= 500:
            if attempt > self.retries:
                raise ConnectorError(ConnectorError.UNAVAILABLE,
                                     f"{_host(url)} failed (HTTP {status})", status=status)
            return self._backoff(attempt)
        raise ConnectorError(ConnectorError.BAD_ANSWER,
                             f"{_host(url)} answered HTTP {status}: {_snippet(response)}",
                             status=status)

    def _backoff(self, attempt: int) -> float:
        return min(float(2 ** (attempt - 1)), self.max_wait)

    def _json(self, response: requests.Response, url: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(ConnectorError.BAD_ANSWER,
                                 f"{_host(url)} answered with something that is not JSON: "
                                 f"{_snippet(response)}", status=response.status_code) from None

    def _check_address(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConnectorError(ConnectorError.BLOCKED, f"{url!r} is not an http(s) address")
        if self.allow_private:
            return
        try:
            resolve_public(parts.hostname, parts.port)
        except BlockedAddress as error:
            raise ConnectorError(ConnectorError.BLOCKED, str(error)) from None
        except OSError as error:
            raise ConnectorError(ConnectorError.UNAVAILABLE,
                                 f"{parts.hostname} does not resolve: {error}") from None


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _snippet(response: requests.Response) -> str:
    return " ".join(response.text[:200].split())


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the platforms send seconds; a date is treated as unknown)."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None

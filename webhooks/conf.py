"""Webhook settings with their defaults (override any of them in the settings module)."""
from django.conf import settings


def allow_http() -> bool:
    """Plain http endpoints only in development and tests: the payloads hold email addresses."""
    return bool(getattr(settings, "WEBHOOKS_ALLOW_HTTP", False))


def allow_private_addresses() -> bool:
    """Receivers on loopback, private or link-local addresses only where a setting says so
    (development, tests, a receiver deliberately on the internal network): see addresses.py."""
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False))


def max_attempts() -> int:
    return int(getattr(settings, "WEBHOOKS_MAX_ATTEMPTS", 8))


def timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOKS_TIMEOUT_SECONDS", 5))


def backoff_base_seconds() -> int:
    return int(getattr(settings, "WEBHOOKS_BACKOFF_BASE_SECONDS", 30))


def backoff_cap_seconds() -> int:
    return int(getattr(settings, "WEBHOOKS_BACKOFF_CAP_SECONDS", 3600))

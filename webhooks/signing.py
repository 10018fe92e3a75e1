"""Signing and verifying webhook bodies (standard library only, so receivers can copy it).

The header is Stripe-style: ``X-CRM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` where the
HMAC is taken over ``"<t>.<raw body>"`` with the endpoint's secret. The timestamp is inside
the signed text, so a receiver that rejects old timestamps also rejects replayed requests.
"""
import hashlib
import hmac
import time

SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def signature_compute(secret: str, body: str | bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" with the secret."""
    signed = str(int(timestamp)).encode("ascii") + b"." + _as_bytes(body)
    return hmac.new(_as_bytes(secret), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: str | bytes, timestamp: int) -> str:
    """The X-CRM-Signature value for this body sent at this time."""
    return f"t={int(timestamp)},{SCHEME}={signature_compute(secret, body, timestamp)}"


def _parse(header: str) -> tuple[int | None, list[str]]:
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SCHEME and value:
            signatures.append(value)
    return timestamp, signatures


def verify_signature(secret: str, header: str, body: str | bytes,
                     tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
                     now: float | None = None) -> bool:
    """True when `header` signs exactly this raw `body` with `secret`, made within tolerance.

    `body` must be the raw request body as received (not re-serialised JSON). Several v1
    values are accepted (any may match), which lets a sender sign with two secrets while a
    receiver switches over.
    """
    timestamp, signatures = _parse(header)
    if timestamp is None or not signatures:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = signature_compute(secret, body, timestamp)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)

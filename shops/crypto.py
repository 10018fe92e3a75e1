"""Store credentials encrypted at rest (Fernet: AES-128-CBC with HMAC-SHA256, `cryptography`).

The key comes from the environment: CRM_SHOPS_ENCRYPTION_KEYS, one or more Fernet keys
(`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`),
comma-separated, newest first: encryption uses the first, decryption tries each, so a key is
rotated by putting a new one in front and running `manage.py shops_rotate_key` (re-encrypts
every store), then removing the old one. Without it (development and tests only; production
refuses to start, system check shops.E001) a key is derived from SECRET_KEY: the database
alone then still does not give the credentials away, but the settings file does.
"""
import base64
import hashlib
import json
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialsUnreadable(Exception):
    """Stored credentials no configured key opens (the key was changed or lost)."""


def configured_keys() -> list[str]:
    raw = getattr(settings, "CRM_SHOPS_ENCRYPTION_KEYS", "") or ""
    return [key.strip() for key in raw.split(",") if key.strip()]


def _derived_key() -> bytes:
    digest = hashlib.sha256(b"crm-shops-credentials:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _fernet() -> MultiFernet:
    keys = [key.encode() for key in configured_keys()] or [_derived_key()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(values: Mapping[str, str]) -> str:
    """The mapping as one encrypted token (text, for a TextField)."""
    return _fernet().encrypt(json.dumps(dict(values), sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise CredentialsUnreadable(
            "The store's credentials cannot be decrypted with CRM_SHOPS_ENCRYPTION_KEYS: "
            "the key was changed or lost. Enter the credentials again.") from None


def rotate(token: str) -> str:
    """The token re-encrypted with the first key."""
    return _fernet().rotate(token.encode()).decode() if token else token

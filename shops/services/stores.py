"""Connected stores as managers set them up: create, change, switch off and on, test the
connection, and the webhook secret. The store pages (shops.store_views) and anything else that
changes a store call these.

Credentials are stored encrypted (shops.crypto). A secret left blank when a store is changed
keeps the stored value, so a form never has to show it. A store's key and platform never change
after creation: its purchases' source ("shop:<key>") and products are kept under the key.
"""
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import crypto
from ..crypto import CredentialsUnreadable
from ..http import ShopHTTP
from ..models import Store
from ..platforms import platform_for
from ..platforms.base import ConnectorError

# The test button waits less than a job would: a manager is looking at the page.
TEST_TIMEOUT = 10.0
TEST_RETRIES = 1
TEST_MAX_WAIT = 2.0  # seconds: a store asking to wait longer is reported, not waited for
# Kind recorded when the stored credentials cannot be decrypted (the key was changed or lost).
CREDENTIALS_UNREADABLE = "credentials"


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str
    kind: str = ""  # ConnectorError's kind (or CREDENTIALS_UNREADABLE) when not ok


def webhook_secret_new() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def store_create(*, platform: str, name: str, key: str, base_url: str,
                 credentials: Mapping[str, str], webhook_secret: str = "") -> Store:
    """A new, active store. Where the CRM picks the webhook secret (the platform's
    webhook_secret_generated) one is made up unless given."""
    impl = platform_for(platform)
    if not webhook_secret and impl.webhook_secret_generated:
        webhook_secret = webhook_secret_new()
    store = Store(platform=platform, name=name, key=key, base_url=base_url.rstrip("/"))
    store.set_credentials({field.name: credentials.get(field.name, "")
                           for field in impl.credential_fields})
    store.set_webhook_secret(webhook_secret)
    store.full_clean()
    store.save()
    return store


@transaction.atomic
def store_update(*, store: Store, name: str, base_url: str,
                 credentials: Mapping[str, str], webhook_secret: str = "") -> Store:
    """Change the name, address and credentials. A secret credential (or the webhook secret)
    given blank keeps the stored value; a non-secret one is set as given."""
    Store.objects.select_for_update().filter(pk=store.pk).first()  # one change at a time
    store.refresh_from_db()
    try:
        stored = store.credentials()
    except CredentialsUnreadable:  # the key was lost: what is typed now replaces them
        stored = {}
    values = {}
    for field in store.platform_impl.credential_fields:
        given = credentials.get(field.name, "")
        values[field.name] = stored.get(field.name, "") if field.secret and not given else given
    store.name = name
    store.base_url = base_url.rstrip("/")
    store.set_credentials(values)
    if webhook_secret:
        store.set_webhook_secret(webhook_secret)
    store.full_clean()
    store.save()
    return store


def store_deactivate(*, store: Store) -> None:
    """Its webhooks are refused and it is not polled; nothing recorded is undone."""
    _set_active(store, False)


def store_activate(*, store: Store) -> None:
    _set_active(store, True)


def _set_active(store: Store, active: bool) -> None:
    Store.objects.filter(pk=store.pk).update(active=active, updated_at=timezone.now())
    store.active = active


def store_new_webhook_secret(*, store: Store) -> str:
    """A new webhook secret, made up by the CRM, for a platform where the manager pastes it
    into the store (WooCommerce); ValueError for one whose secret is the platform's own."""
    if not store.platform_impl.webhook_secret_generated:
        raise ValueError(f"{store.platform} webhooks are signed with the platform's own secret")
    secret = webhook_secret_new()
    store.set_webhook_secret(secret)
    Store.objects.filter(pk=store.pk).update(
        webhook_secret_encrypted=store.webhook_secret_encrypted, updated_at=timezone.now())
    return secret


def store_webhook_url(store: Store) -> str:
    """The address the store sends its webhooks to, as the platform must be given it
    (absolute, from CRM_PUBLIC_URL like every public link). The door is shops/urls.py's."""
    return f"{settings.CRM_PUBLIC_URL.rstrip('/')}/shops/webhooks/{store.webhook_token}/"


def store_test_connection(*, store: Store, http: ShopHTTP | None = None) -> ConnectionResult:
    """Ask the store's API who it is with the stored credentials, and record the outcome on
    the store: an error (with its kind and time) for the status page, or none."""
    client = http or ShopHTTP(timeout=TEST_TIMEOUT, retries=TEST_RETRIES,
                              max_wait=TEST_MAX_WAIT)
    try:
        name = store.platform_impl.test_connection(store.access(), client)
    except ConnectorError as error:
        result = ConnectionResult(False, error.message, error.kind)
    except CredentialsUnreadable as error:
        result = ConnectionResult(False, str(error), CREDENTIALS_UNREADABLE)
    except (KeyError, TypeError, ValueError) as error:  # an answer not of the documented shape
        result = ConnectionResult(False, _("The store answered in an unexpected way: %(error)s")
                                  % {"error": error}, ConnectorError.BAD_ANSWER)
    else:
        result = ConnectionResult(True, _("Connected to %(name)s.") % {"name": name})
    finally:
        if http is None:
            client.close()
    store_record_outcome(store=store, result=result)
    return result


def store_record_outcome(*, store: Store, result: ConnectionResult) -> None:
    """The store's last error: cleared on success, else the message, its kind and time."""
    fields: dict[str, object]
    if result.ok:
        fields = {"last_error": "", "last_error_kind": "", "last_error_at": None}
    else:
        fields = {"last_error": result.message[:2000], "last_error_kind": result.kind[:16],
                  "last_error_at": timezone.now()}
    Store.objects.filter(pk=store.pk).update(**fields)
    for name, value in fields.items():
        setattr(store, name, value)



def stores_rotate_key() -> int:
    """Re-encrypt every store's credentials and webhook secret with the first key of
    CRM_SHOPS_ENCRYPTION_KEYS (shops.crypto): after a new key is put in front, before the old
    one is removed. crypto.CredentialsUnreadable when a store's no configured key opens.
    The number of stores re-encrypted."""
    count = 0
    for pk in Store.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            store = Store.objects.select_for_update().get(pk=pk)
            Store.objects.filter(pk=pk).update(
                credentials_encrypted=_rotated(store, store.credentials_encrypted),
                webhook_secret_encrypted=_rotated(store, store.webhook_secret_encrypted))
        count += 1
    return count


def _rotated(store: Store, token: str) -> str:
    try:
        return crypto.rotate(token)
    except InvalidToken:
        raise CredentialsUnreadable(
            f"Store {store.key}: no key in CRM_SHOPS_ENCRYPTION_KEYS opens its credentials; "
            "nothing after it was re-encrypted.") from None

"""The webhook door's lookup of a store by its token, kept per process for CACHE_SECONDS so
a delivery costs no query for it. A change to a store clears it in the process that made the
change (ShopsConfig.ready connects the model's signals; update() callers call `forget`);
other processes see the change within CACHE_SECONDS."""
import threading
import time

from .models import Store
from .platforms.base import StoreAccess

CACHE_SECONDS = 30.0
_stores: dict[str, tuple[float, Store, StoreAccess]] = {}
_lock = threading.Lock()


def forget(*args: object, **kwargs: object) -> None:
    """Drop every cached lookup (a signal receiver too)."""
    with _lock:
        _stores.clear()


def store_for(token: str) -> tuple[Store, StoreAccess] | None:
    """The active store with this webhook token and its decrypted access, or None."""
    now = time.monotonic()
    cached = _stores.get(token)
    if cached is not None and cached[0] > now:
        return cached[1], cached[2]
    store = Store.objects.filter(webhook_token=token, active=True).first()
    if store is None:
        return None
    access = store.access()
    with _lock:
        _stores[token] = (now + CACHE_SECONDS, store, access)
    return store, access

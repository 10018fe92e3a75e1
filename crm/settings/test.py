"""Settings for the test suite. DATABASE_URL/REDIS_URL select PostgreSQL and Redis (CI)."""
import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-secret")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")


def _redis_url_of_this_test_process(url: str, worker: str) -> str:
    """pytest-xdist runs the suite in several processes (gw0, gw1, ...): each gets a Redis
    database of its own (the URL's number + 1 + the worker's), as pytest-django gives each a
    test database of its own, so one process's Celery worker never takes another's tasks."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + 1 + int(worker.removeprefix('gw'))}"))


if os.environ.get("REDIS_URL") and os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["REDIS_URL"] = _redis_url_of_this_test_process(
        os.environ["REDIS_URL"], os.environ["PYTEST_XDIST_WORKER"])

from .base import *

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns otherwise

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests that need a real worker and broker start one themselves (see crm/tests).
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Webhook tests post to a plain-http receiver on 127.0.0.1 (production: https only).
WEBHOOKS_ALLOW_HTTP = True
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is on 127.0.0.1; tests of the guard: False
LOGGING["root"]["level"] = "WARNING"
# Tests are served as "testserver", never CRM_PUBLIC_URL: its warning would be noise here
# (crm/tests/test_public_url.py tests the middleware itself).
MIDDLEWARE = [name for name in MIDDLEWARE
              if name != "crm.public_url.PublicURLCheckMiddleware"]
# Each test process its own cache: counters (API throttling) must not leak between tests.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if not REDIS_URL:
    # Keep test messages away from a `make run` worker that may be using var/broker.
    import tempfile
    from pathlib import Path

    _test_broker = Path(tempfile.mkdtemp(prefix="crm-test-broker-"))
    for _folder in ("queue", "control", "processed"):
        (_test_broker / _folder).mkdir()
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_in": str(_test_broker / "queue"),
        "data_folder_out": str(_test_broker / "queue"),
        "control_folder": str(_test_broker / "control"),
        "processed_folder": str(_test_broker / "processed"),
    }
CRM_SHOPS_ALLOW_PRIVATE_ADDRESSES = True  # the fake shop APIs are on 127.0.0.1

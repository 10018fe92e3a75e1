"""Settings for `make run` on a laptop: debug on, SQLite and the filesystem broker by default."""
import os

os.environ.setdefault("DJANGO_SECRET_KEY", "local-development-only-not-secret")
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

from .base import *

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns otherwise
# Webhooks may go to a plain-http receiver on this machine (production: https only).
WEBHOOKS_ALLOW_HTTP = True
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
CRM_SHOPS_ALLOW_PRIVATE_ADDRESSES = True

"""Production: everything secret or site-specific comes from the environment.

Required: DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL (PostgreSQL), REDIS_URL.
Behind a load balancer as well as nginx: CRM_TRUSTED_PROXY_COUNT=2 (docs/deployment.md).
"""
import environ
from django.core.exceptions import ImproperlyConfigured

_env = environ.Env()
# Fail at start-up, not at the first request, when the production stack is not configured.
for _name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"):
    if not _env.str(_name, default=""):
        raise ImproperlyConfigured(f"Set the {_name} environment variable")

from .base import *

# Web, worker and beat write at once, backups use pg_dump, and the code has PostgreSQL and
# SQLite variants only: a SQLite file here is a mistake (an env file copied from development).
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must be a PostgreSQL URL (postgres://...) in "
                               "production; SQLite is for development and tests")

DEBUG = False
STORAGES["staticfiles"] = {
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# A balancer that ends TLS probes the machines over plain HTTP: a 301 would read as "down".
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
# The language cookie (the menu bar's switch) like the others: HTTPS only, no script reads it,
# and no other site needs to send it.
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# gunicorn sits behind nginx (deploy/nginx/crm.conf), which writes the client address into
# X-Forwarded-For; add one for each proxy or load balancer in front of nginx that appends too.
CRM_TRUSTED_PROXY_COUNT = env.int("CRM_TRUSTED_PROXY_COUNT", default=1)

# Links in emails (unsubscribe, surveys) must point at the public site, over HTTPS.
CRM_PUBLIC_URL = env.str("CRM_PUBLIC_URL", default=f"https://{ALLOWED_HOSTS[0]}")

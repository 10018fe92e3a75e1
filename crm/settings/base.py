"""Settings shared by every environment; differences come from the environment.

Defaults need no server (SQLite and kombu's filesystem broker); setting DATABASE_URL and
REDIS_URL switches to PostgreSQL and Redis.
"""
import os
import secrets
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("CRM_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

# --- Core -----------------------------------------------------------------------------------
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "crm.apps.CRMAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "crm.apps.CRMConfig",
    "accounts",
    "customers",
    "campaigns",
    "api",
    "feedback",
    "support",
    "privacy",
    "webhooks",
    "activity",
    "shops",
    "dashboard",  # on top of every app: reads them all, imported by none
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (see "Security headers" below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # "Today" and times on pages in the shop's time zone (crm.shop: the settings page's value).
    "crm.shop.ShopTimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Warns (once per host) when the app is served at another address than CRM_PUBLIC_URL.
    "crm.public_url.PublicURLCheckMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in user's own language wins over the browser's (after Locale and Authentication).
    "accounts.middleware.UserLanguageMiddleware",
    # Every view needs a login unless it is explicitly marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Login brute-force protection (django-axes): last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

# Axes checks (and counts) every login attempt first; ModelBackend then authenticates.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.ModelBackend",  # Django's, permissions in one query
]
# Five wrong passwords for one username from one address lock it for an hour.
AXES_FAILURE_LIMIT = env.int("CRM_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("CRM_LOGIN_COOLOFF_HOURS", default=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner in every management command's output
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The address from the trusted proxies' X-Forwarded-For, as for every per-client limit.
AXES_CLIENT_IP_CALLABLE = "crm.client_ip.client_ip"
# How many reverse proxies in front of gunicorn append to X-Forwarded-For (crm/client_ip.py).
# 0: the TCP peer is the client (runserver). Production settings default to 1 (nginx).
CRM_TRUSTED_PROXY_COUNT = env.int("CRM_TRUSTED_PROXY_COUNT", default=0)

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "crm.context_processors.crm",
                "dashboard.context_processors.follow_ups_due",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers and a writer work side by side.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # libpq waits for a server that does not answer (host down, packets dropped) as long as
    # TCP does, holding a web worker; fail after this many seconds instead (pages answer 503,
    # /healthz too). A connect_timeout in DATABASE_URL's query string wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -------------------------------------------------------------------
# The shop's default language; staff may choose their own (accounts.User.language), anonymous
# pages (login, unsubscribe) follow the browser's Accept-Language.
LANGUAGE_CODE = env.str("CRM_LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("tr", _("Turkish"))]
FORMAT_MODULE_PATH = ["crm.formats"]  # English times on a 24-hour clock (crm/formats/en)
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# The shop's time zone: calendar days (one transaction per customer-day) are counted in it.
TIME_ZONE = env.str("CRM_TIME_ZONE", default="UTC")

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Installed from the npm registry by `make` (package.json); never committed.
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Security headers -----------------------------------------------------------------------
# Content-Security-Policy (django-csp) on every page, admin and API docs included: scripts and
# styles only from our own static files, no inline script, no inline style attribute, so text
# that slips through escaping still cannot run or restyle the page. Pages keep to this: scripts
# are external files in static/, bar widths are set by static JS from aria-valuenow, the API docs
# use the split Swagger view (its init script is a URL). The one frame is the email template's
# HTML preview, a same-origin URL that sends its own, stricter policy (campaigns/admin.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # Bootstrap's and Swagger UI's icons are data: SVGs
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Forms ----------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email ----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CRM <crm@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Django's SMTP backend waits forever by default; a hung server must not block a worker.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# DKIM signing of campaign email (campaigns.dkim): the signing domain (d=, normally the From
# address's domain), the selector (the TXT record <selector>._domainkey.<domain>) and the RSA
# private key in PEM, inline or in a file (one of the two). All unset: email goes out unsigned.
# Set but unusable: a system check error (campaigns.E001) and nothing is sent, never unsigned.
CRM_DKIM_DOMAIN = env.str("CRM_DKIM_DOMAIN", default="")
CRM_DKIM_SELECTOR = env.str("CRM_DKIM_SELECTOR", default="")
CRM_DKIM_PRIVATE_KEY = env.str("CRM_DKIM_PRIVATE_KEY", default="")
CRM_DKIM_PRIVATE_KEY_FILE = env.str("CRM_DKIM_PRIVATE_KEY_FILE", default="")
# Sending pauses by itself (campaigns.sending_pause) when spam complaints over the last day reach
# this share of the emails sent in it (0.003: Gmail's and Yahoo's "never 0.3%"), once at least
# CRM_COMPLAINT_PAUSE_MIN_SENT emails were sent in that day (1 complaint in 3 emails is noise).
CRM_COMPLAINT_PAUSE_RATE = env.float("CRM_COMPLAINT_PAUSE_RATE", default=0.003)
CRM_COMPLAINT_PAUSE_MIN_SENT = env.int("CRM_COMPLAINT_PAUSE_MIN_SENT", default=1000)
# Clicks (campaigns.clicks): links in campaign emails go through a signed redirect that counts
# the first click per email and link, ignoring clicks this soon after the hand-off (security
# scanners follow every link as the email arrives). Opens (a tracking pixel) are off unless
# asked for.
CRM_TRACK_CLICKS = env.bool("CRM_TRACK_CLICKS", default=True)
CRM_TRACK_OPENS = env.bool("CRM_TRACK_OPENS", default=False)
CRM_CLICK_IGNORE_SECONDS = env.int("CRM_CLICK_IGNORE_SECONDS", default=60)
# Sending through an email service instead of SMTP (docs/email-delivery.md): one of
# EMAIL_SERVICES. Its API key and options come from the environment variables named in
# ANYMAIL below; its delivery, bounce, complaint and unsubscribe webhooks are served under
# /email/service/<service>/tracking/ behind HTTP basic auth with CRM_EMAIL_SERVICE_WEBHOOK_SECRET
# ("user:password"). Unset: SMTP (EMAIL_URL), signed in the app when CRM_DKIM_* are set.
EMAIL_SERVICES = {
    "amazon_ses": "anymail.backends.amazon_ses.EmailBackend",
    "mailgun": "anymail.backends.mailgun.EmailBackend",
    "postmark": "anymail.backends.postmark.EmailBackend",
    "sendgrid": "anymail.backends.sendgrid.EmailBackend",
    "brevo": "anymail.backends.brevo.EmailBackend",
}
CRM_EMAIL_SERVICE = env.str("CRM_EMAIL_SERVICE", default="").strip().lower()
if CRM_EMAIL_SERVICE:
    if CRM_EMAIL_SERVICE not in EMAIL_SERVICES:
        raise ImproperlyConfigured(
            f"CRM_EMAIL_SERVICE={CRM_EMAIL_SERVICE!r}: choose one of {', '.join(EMAIL_SERVICES)}")
    EMAIL_BACKEND = EMAIL_SERVICES[CRM_EMAIL_SERVICE]
# Without a secret the service webhooks accept nobody: a random one nobody knows.
CRM_EMAIL_SERVICE_WEBHOOK_SECRET = env.str("CRM_EMAIL_SERVICE_WEBHOOK_SECRET", default="")
ANYMAIL = {key: value for key, value in {
    "WEBHOOK_SECRET": CRM_EMAIL_SERVICE_WEBHOOK_SECRET or (
        f"closed:{secrets.token_urlsafe(32)}"),
    "REQUESTS_TIMEOUT": EMAIL_TIMEOUT,
    "AMAZON_SES_CLIENT_PARAMS": {
        key: value for key, value in {
            "region_name": env.str("AWS_REGION", default=""),
            "endpoint_url": env.str("AMAZON_SES_ENDPOINT_URL", default=""),
        }.items() if value},
    "AMAZON_SES_CONFIGURATION_SET_NAME": env.str("AMAZON_SES_CONFIGURATION_SET_NAME",
                                                 default=""),
    "MAILGUN_API_KEY": env.str("MAILGUN_API_KEY", default=""),
    "MAILGUN_SENDER_DOMAIN": env.str("MAILGUN_SENDER_DOMAIN", default=""),
    "MAILGUN_API_URL": env.str("MAILGUN_API_URL", default=""),  # the EU region's, if there
    "MAILGUN_WEBHOOK_SIGNING_KEY": env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
    "POSTMARK_SERVER_TOKEN": env.str("POSTMARK_SERVER_TOKEN", default=""),
    "POSTMARK_API_URL": env.str("POSTMARK_API_URL", default=""),
    "SENDGRID_API_KEY": env.str("SENDGRID_API_KEY", default=""),
    "SENDGRID_API_URL": env.str("SENDGRID_API_URL", default=""),
    "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": env.str(
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY", default=""),
    "BREVO_API_KEY": env.str("BREVO_API_KEY", default=""),
    "BREVO_API_URL": env.str("BREVO_API_URL", default=""),
}.items() if value}

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    # One cache for every process (API throttle counters, ...), not one per gunicorn worker.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL, "KEY_PREFIX": "crm-cache"}}
    # Sessions read from that shared cache and written through to the database: one query
    # fewer on every page. Only with a shared cache: a per-process one would keep a session
    # alive in one worker after a logout in another.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # Embedded broker: messages are files under var/broker, so `make run` needs no server.
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
    for _folder in ("queue", "control", "processed"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# django-celery-beat's database scheduler with a lease (crm/beat.py): a second beat stands by.
CELERY_BEAT_SCHEDULER = "crm.beat:LeasedDatabaseScheduler"
# A beat holding the lease renews it every CRM_BEAT_CHECK_SECONDS; a standby checks as often and
# takes over once the lease (CRM_BEAT_LEASE_SECONDS) has run out: a killed beat is replaced
# within their sum.
CRM_BEAT_LEASE_SECONDS = env.int("CRM_BEAT_LEASE_SECONDS", default=30)
CRM_BEAT_CHECK_SECONDS = env.int("CRM_BEAT_CHECK_SECONDS", default=10)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Sending email waits on the relay (tens of milliseconds per email across a network), not on the
# CPU, so it has a queue of its own, "email", that a sending worker with many processes serves
# (crm-sender.service, Procfile `sender`: `celery worker -Q email`). A worker started without -Q
# (crm-worker.service) serves both queues: a deployment without the sending worker still sends.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("celery"), Queue("email"))
CELERY_TASK_ROUTES = {name: {"queue": "email"} for name in (
    "campaigns.send_run", "campaigns.send_due", "campaigns.recover_stuck")}
# A task running when the broker connection drops finishes its work (Celery 6 will cancel it by
# default): cancelling a sending batch mid-way leaves its email in flight UNKNOWN ("may have
# arrived", staff must decide), finishing it leaves every row with a known result. The broker
# may hand the task out again later; every task here is safe to run twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False

# --- CRM ------------------------------------------------------------------------------------
# Totals are kept in the base currency; other currencies need a rate (admin: Currency rates).
CRM_BASE_CURRENCY = env.str("CRM_BASE_CURRENCY", default="USD").upper()
# The shop's name, shown on pages and in emails; like the base currency, time zone, language and
# sender above, a manager sets it on the shop settings page (crm.shop), and a value set here in
# the environment wins over the page's (shown there as set by the deployment).
CRM_SHOP_NAME = env.str("CRM_SHOP_NAME", default="CRM")
CRM_SHOP_SET_BY_DEPLOYMENT = frozenset(
    name for name in ("CRM_SHOP_NAME", "CRM_BASE_CURRENCY", "CRM_TIME_ZONE", "CRM_LANGUAGE_CODE",
                      "DEFAULT_FROM_EMAIL") if os.environ.get(name))
# The shop's country (ISO 3166 code): phone numbers typed without +country code are in it;
# every number is stored in E.164 (customers.phones).
CRM_PHONE_REGION = env.str("CRM_PHONE_REGION", default="TR")
# A purchase dated further than this into the future is rejected as a typo.
CRM_FUTURE_TOLERANCE_HOURS = env.int("CRM_FUTURE_TOLERANCE_HOURS", default=24)
# CSV imports from the dashboard: uploads and rejected-row reports live here (never served).
CRM_IMPORT_DIR = Path(env.str("CRM_IMPORT_DIR", default=str(VAR_DIR / "imports")))
CRM_IMPORT_MAX_BYTES = env.int("CRM_IMPORT_MAX_BYTES", default=100 * 1024 * 1024)
# Files up to this size are checked while uploading; bigger ones by a background task.
CRM_IMPORT_SYNC_PREVIEW_BYTES = env.int("CRM_IMPORT_SYNC_PREVIEW_BYTES", default=2 * 1024 * 1024)
CRM_IMPORT_KEEP_DAYS = env.int("CRM_IMPORT_KEEP_DAYS", default=7)
# Every import (dashboard and commands) refuses at once a header with more columns than this
# (the importers know at most ~10) and a line longer than this: a real row is under 2 KB, and
# a 1M-column line is refused after reading this much of it, not parsed.
CRM_IMPORT_MAX_COLUMNS = env.int("CRM_IMPORT_MAX_COLUMNS", default=100)
CRM_IMPORT_MAX_LINE_BYTES = env.int("CRM_IMPORT_MAX_LINE_BYTES", default=64 * 1024)
# The dashboard preview keeps and shows the first rows, the header's columns only, each cell
# cut to this many characters.
CRM_IMPORT_PREVIEW_ROWS = env.int("CRM_IMPORT_PREVIEW_ROWS", default=10)
CRM_IMPORT_PREVIEW_CELL_CHARS = env.int("CRM_IMPORT_PREVIEW_CELL_CHARS", default=80)
# Outgoing webhooks (webhooks.conf reads these; receivers must use https:// except in tests).
WEBHOOKS_MAX_ATTEMPTS = env.int("WEBHOOKS_MAX_ATTEMPTS", default=8)
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=5.0)
WEBHOOKS_BACKOFF_BASE_SECONDS = env.int("WEBHOOKS_BACKOFF_BASE_SECONDS", default=30)
WEBHOOKS_BACKOFF_CAP_SECONDS = env.int("WEBHOOKS_BACKOFF_CAP_SECONDS", default=3600)
# Receivers on loopback, private (10/8, 192.168/16, fc00::/7...) or link-local addresses
# (169.254.169.254: cloud metadata) are refused unless this is on: a manager-typed URL must not
# let the CRM reach services inside its own network.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)
# Shop connectors (shops/): a store address that is private or loopback is refused unless this
# is set (local fakes in tests and development); see shops/http.py.
CRM_SHOPS_ALLOW_PRIVATE_ADDRESSES = env.bool("CRM_SHOPS_ALLOW_PRIVATE_ADDRESSES", default=False)
# Fernet keys that encrypt stores' credentials at rest, newest first (shops/crypto.py).
CRM_SHOPS_ENCRYPTION_KEYS = env.str("CRM_SHOPS_ENCRYPTION_KEYS", default="")
# A webhook delivery larger than this is refused (413) before it is read further.
CRM_SHOPS_WEBHOOK_MAX_BYTES = env.int("CRM_SHOPS_WEBHOOK_MAX_BYTES", default=2 * 1024 * 1024)
# Processed webhook deliveries (their bodies hold customers' data) are deleted after this.
CRM_SHOPS_DELIVERY_RETENTION_DAYS = env.int("CRM_SHOPS_DELIVERY_RETENTION_DAYS", default=30)
# A repeat client is "at risk" when silent for longer than both this and twice their usual gap.
CRM_AT_RISK_MIN_DAYS = env.int("CRM_AT_RISK_MIN_DAYS", default=90)
# What was bought (customers.bought): a product pair counts when this many contacts bought
# both; the best this many pairs per product are kept. A product's own reorder interval needs
# this many contacts who bought it on two days or more; a reminder comes at most this many days
# after it fell due (a missed day is caught up, a product bought years ago is not).
CRM_COOCCURRENCE_MIN_SUPPORT = env.int("CRM_COOCCURRENCE_MIN_SUPPORT", default=3)
CRM_COOCCURRENCE_PER_PRODUCT = env.int("CRM_COOCCURRENCE_PER_PRODUCT", default=20)
CRM_REORDER_MIN_CONTACTS = env.int("CRM_REORDER_MIN_CONTACTS", default=3)
CRM_REORDER_CATCH_UP_DAYS = env.int("CRM_REORDER_CATCH_UP_DAYS", default=14)
# Scoring: how far ahead "buys again" looks, how many contacts one task scores, and how many
# contacts at most the models are fitted on (a random sample beyond that; scoring covers all).
CRM_SCORING_HORIZON_DAYS = env.int("CRM_SCORING_HORIZON_DAYS", default=90)
CRM_SCORING_CHUNK_SIZE = env.int("CRM_SCORING_CHUNK_SIZE", default=250_000)
CRM_SCORING_FIT_SAMPLE = env.int("CRM_SCORING_FIT_SAMPLE", default=200_000)
# The covariate model may use the categories of a contact's first order: the shop's N most
# common first-order categories, one indicator each (customers.scoring.features); 0: none.
CRM_SCORING_FIRST_ORDER_CATEGORIES = env.int("CRM_SCORING_FIRST_ORDER_CATEGORIES", default=10)
# Campaigns: no contact gets more than one marketing email within this many days.
CRM_MARKETING_CAP_DAYS = env.int("CRM_MARKETING_CAP_DAYS", default=7)
# Referrals: the new buyer's discount (percent) and the referrer's reward coupon (base currency).
CRM_REFERRAL_DISCOUNT_PERCENT = env.int("CRM_REFERRAL_DISCOUNT_PERCENT", default=10)
CRM_REFERRAL_REWARD_AMOUNT = env.str("CRM_REFERRAL_REWARD_AMOUNT", default="10.00")
CRM_REFERRAL_REWARD_VALID_DAYS = env.int("CRM_REFERRAL_REWARD_VALID_DAYS", default=90)
# Sending: messages per SMTP connection and task; a "sending" row older than this is recovered.
CRM_EMAIL_BATCH_SIZE = env.int("CRM_EMAIL_BATCH_SIZE", default=200)
CRM_EMAIL_STUCK_AFTER_MINUTES = env.int("CRM_EMAIL_STUCK_AFTER_MINUTES", default=15)
# Links in emails (unsubscribe, surveys) need the address people reach the site at. Unset, the
# port the development server is started on (PORT, as `make run PORT=...` and the Procfile
# use it); crm.public_url warns when it does not match the address being served.
CRM_PUBLIC_URL = env.str("CRM_PUBLIC_URL",
                         default=f"http://127.0.0.1:{env.str('PORT', default='8000')}")
# Satisfaction surveys (feedback app): ask this many days after a purchase, at most once per
# gap per contact; survey links close after CRM_SURVEY_LINK_MAX_AGE_DAYS; a detractor (0-6)
# gets no promotional email for CRM_DETRACTOR_PAUSE_DAYS.
CRM_SURVEY_DELAY_DAYS = env.int("CRM_SURVEY_DELAY_DAYS", default=7)
CRM_SURVEY_MIN_GAP_DAYS = env.int("CRM_SURVEY_MIN_GAP_DAYS", default=90)
CRM_SURVEY_LINK_MAX_AGE_DAYS = env.int("CRM_SURVEY_LINK_MAX_AGE_DAYS", default=60)
CRM_DETRACTOR_PAUSE_DAYS = env.int("CRM_DETRACTOR_PAUSE_DAYS", default=30)
# The call list's "slipping" clients: repeat clients below this P(alive) are lost causes (a
# call rarely wins them back) and are left out; see dashboard.selectors.call_list.
CRM_SLIPPING_MIN_P_ALIVE = env.float("CRM_SLIPPING_MIN_P_ALIVE", default=0.10)
# Logged calls (customers.services.calls): a contact called in the last
# CRM_CALLED_RECENTLY_DAYS days leaves today's call list; "not interested" pauses their
# promotional email for CRM_NOT_INTERESTED_PAUSE_DAYS (the same pause as a detractor's survey answer).
CRM_CALLED_RECENTLY_DAYS = env.int("CRM_CALLED_RECENTLY_DAYS", default=7)
CRM_NOT_INTERESTED_PAUSE_DAYS = env.int("CRM_NOT_INTERESTED_PAUSE_DAYS", default=90)
# Support inbox (support.services): who gets a case that arrives without a person choosing
# (the public form, inbound email) when the contact's own owner cannot take it:
# "round_robin" (in turn among active users who may handle cases), "group:<name>" (in turn
# within that group) or "user:<username>" (one team queue account).
CRM_SUPPORT_ASSIGNMENT = env.str("CRM_SUPPORT_ASSIGNMENT", default="round_robin")
# Staff replies are emailed with Reply-To <local>+<signed case token>@<domain> of this address
# (empty: the shop's sender address); the mail server must deliver such plus-addresses to
# `manage.py receive_email` (Postfix: recipient_delimiter = +), which threads the answer.
CRM_SUPPORT_REPLY_ADDRESS = env.str("CRM_SUPPORT_REPLY_ADDRESS", default="")
# Inbound email: the authserv-id (usually the host name) your own mail server writes in the
# Authentication-Results header it adds (OpenDMARC, rspamd...). A new case whose From it says
# passed DMARC (or DKIM for the From domain) is the address owner's; any other new case by
# email is unconfirmed until the owner follows the link the CRM emails them, as from the
# public form. Empty: no header is trusted (anyone can write one).
CRM_INBOUND_AUTHSERV_ID = env.str("CRM_INBOUND_AUTHSERV_ID", default="")
# Follow-ups: the reminder email goes to the assignee at the due time, or at this hour (shop
# time zone) on the due day for a follow-up with no time (customers.services.follow_up_reminders).
CRM_FOLLOW_UP_REMIND_HOUR = env.int("CRM_FOLLOW_UP_REMIND_HOUR", default=9)
# A run still "running" after this long lost its worker; the next run takes over.
CRM_SCORING_STALE_AFTER_MINUTES = env.int("CRM_SCORING_STALE_AFTER_MINUTES", default=180)

# --- REST API (api/) ------------------------------------------------------------------------
# Integrations send a token (managers create them in the admin); the browser uses its session,
# with CSRF enforced. Rates are per user (or per address when anonymous) and per period.
CRM_API_THROTTLE_USER = env.str("CRM_API_THROTTLE_USER", default="1200/minute")
CRM_API_THROTTLE_ANON = env.str("CRM_API_THROTTLE_ANON", default="60/minute")
# Request bodies larger than this are refused before they are parsed.
CRM_API_MAX_BODY_BYTES = env.int("CRM_API_MAX_BODY_BYTES", default=64 * 1024)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasRolePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.UserThrottle", "api.throttling.AnonThrottle"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    # drf-spectacular's, plus the error answers (400/401/403/404/429) of every operation.
    "DEFAULT_SCHEMA_CLASS": "api.schema.ErrorDocumentingAutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Contacts, purchases and scores for integrations (shop, POS, marketplace).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from drf-spectacular-sidecar's static files: no CDN requests, and no call to
    # swagger.io's online validator (its default).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Several models have a "kind" or "channel" with different choices: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "CampaignKindEnum": "campaigns.models.Campaign.Kind",
        "PurchaseChannelEnum": "customers.models.Channel",
        "CaseChannelEnum": "support.models.Case.Channel",
        "WebsiteEventKindEnum": "activity.models.EventKind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

"""Settings for SLA Portal, all read from the environment (see slaportal/env.py).

Defaults are the embedded mode (SQLite under var/, eager Celery, e-mail as .eml
files under var/mail/). Anything unsafe is opt-in: DEBUG is off unless set, and
with DEBUG off a SECRET_KEY and ALLOWED_HOSTS must be given.
"""

import re
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from slaportal import api_schema, env, observability, storage
from slaportal.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.string("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env.boolean("DEBUG", False)
SECRET_KEY = env.string("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"  # noqa: S105
ALLOWED_HOSTS = env.string_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.string_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    # API tokens stored hashed, with an expiry (django-rest-knox).
    "knox",
    # A second factor for staff with money authority (slaportal/twofactor.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and Redoc served from the package, not a CDN (docs work offline).
    "drf_spectacular_sidecar",
    "csp",
    "django_prometheus",
    "django_celery_beat",
    "axes",
    "contracts",
    "outages",
    "tickets",
    "credits",
    "outbox",
    "statements",
    "audit",
    # The project package itself, for its receivers (slaportal/apps.py).
    "slaportal",
    "status",
    # The shell app, on top of every other.
    "portal",
]

MIDDLEWARE = [
    # Outermost: the request metrics time and count everything, the id included.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Then: every response and every log line of the request carries its id.
    "slaportal.middleware.RequestIdMiddleware",
    "slaportal.middleware.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Account managers and administrators pass a second factor before anything else.
    "slaportal.twofactor.TwoFactorMiddleware",
    "slaportal.middleware.StaffSessionIdleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Counts the status actually sent, lockouts included (axes stays last).
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes requires: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "slaportal.wsgi.application"

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
                "portal.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.integer("CONN_MAX_AGE", 0, minimum=0)
# django-prometheus's wrappers of the same backends count every query and connection.
DATABASES["default"]["ENGINE"] = DATABASES["default"]["ENGINE"].replace(
    "django.db.backends.", "django_prometheus.db.backends."
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache (the public status page): Redis when CACHE_URL is given, else per-process memory.
_cache_url = env.url("CACHE_URL", schemes=("redis://", "rediss://"))
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
    if _cache_url
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

AUTH_USER_MODEL = "contracts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "contracts.backends.PortalBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = env.integer("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env.integer("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# How many proxies of ours stand in front of the web processes (the TLS proxy: 1). The
# client's address is then read from X-Forwarded-For (slaportal/proxies.py) for the login
# lockout and the API's throttling, not taken to be the proxy's.
TRUSTED_PROXY_COUNT = env.integer("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "slaportal.proxies.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Account managers and administrators sign in with a second factor (slaportal/twofactor.py);
# the demo turns it off, and `check --deploy` then warns.
REQUIRE_TWO_FACTOR = env.boolean("REQUIRE_TWO_FACTOR", True)
OTP_TOTP_ISSUER = env.string("OTP_TOTP_ISSUER", "SLA Portal")
# API tokens (django-rest-knox): hashed, expiring, revoked by a password change.
API_TOKEN_TTL_DAYS = env.integer("API_TOKEN_TTL_DAYS", 90, minimum=1)
REST_KNOX = {"TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS), "AUTH_HEADER_PREFIX": "Token"}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.string("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env.string("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
# Files: local under MEDIA_ROOT, or a private S3-compatible bucket (STORAGE_URL) shared
# by every machine (slaportal/storage.py). Static files: WhiteNoise serves them from
# STATIC_ROOT (collectstatic, the release line) with compressed, hashed names.
STORAGES = {
    "default": storage.default_storage_settings(env.string("STORAGE_URL"), MEDIA_ROOT),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# E-mail: SMTP when EMAIL_URL is given, otherwise one .eml file per message.
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "SLA Portal <sla-portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SUPPORT_EMAIL = env.string("SUPPORT_EMAIL", "") or DEFAULT_FROM_EMAIL  # ticket mail's Reply-To
_smtp = env.email("EMAIL_URL")
if _smtp:
    globals().update(_smtp)
    EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", 30, minimum=1)
else:
    EMAIL_BACKEND = "slaportal.mail.EmlFileBackend"
    EMAIL_FILE_PATH = str(Path(env.string("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))))

# Celery: a broker URL makes it real; without one tasks run eagerly in-process.
CELERY_BROKER_URL = env.url("CELERY_BROKER_URL", schemes=("redis://", "rediss://", "amqp://"))
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.url("CELERY_RESULT_BACKEND", schemes=("redis://", "rediss://"))
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TIME_LIMIT = env.integer("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env.integer("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The worker logs through LOGGING above (slaportal/celery.py), with task ids.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Rendering a statement PDF leaves ~0.055 MB behind in WeasyPrint/Pango even with one
# shared FontConfiguration (bench/statements.py): a worker process is replaced after this
# many tasks, so a long-lived worker's memory stays bounded (~+9 % at 200).
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.integer("CELERY_WORKER_MAX_TASKS_PER_CHILD", 200, minimum=1)
# Every task is idempotent, so a message is acknowledged only once its task has finished
# (redelivered if the worker dies); one message at a time per process (PDF tasks ~1 s).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXPIRES = env.integer("CELERY_RESULT_EXPIRES", 86400, minimum=60)
# Redis redelivers an unacknowledged message after this long (its worker presumed dead).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.integer("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=10)
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Two queues, each with its own worker line in the Procfile. Statement and PDF work (a
# monthly run is thousands of PDFs at about half a CPU-second each, and the hourly tick
# that fans it out) goes to "statements"; everything else (escalations every minute,
# e-mail, webhooks, sweeps) stays on the default queue, so it never waits behind a
# monthly run (bench/queues.py). By task name, with a pattern, so a statement task added
# later follows. Eager mode (no broker) has no queues.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "statements.tasks.*": {"queue": "statements"},
    "credits.tasks.credit_note_deliver_task": {"queue": "statements"},
}


def _rate(name: str, default: str) -> str:
    """A DRF throttle rate, "N/second|minute|hour|day"; a bad one stops start-up."""
    value = env.string(name, default) or default
    if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate like 600/minute.")
    return value


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "slaportal.token_auth.PortalTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "slaportal.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "slaportal.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    # Throttling per client (an address for anonymous calls, the account otherwise), the
    # counts in the cache: set CACHE_URL so every web process shares them. Over the
    # rate: 429 with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT or None,
    "DEFAULT_THROTTLE_RATES": {
        "anon": _rate("API_THROTTLE_ANON", "60/minute"),
        "user": _rate("API_THROTTLE_USER", "1200/minute"),
    },
}
SPECTACULAR_SETTINGS = api_schema.SPECTACULAR_SETTINGS  # slaportal/api_schema.py

# Security. Everything defaults to the safe value whenever DEBUG is off; a
# deployment behind a TLS-terminating proxy sets SECURE_PROXY_SSL_HEADER.
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", not DEBUG)
# A load balancer probes /healthz, Prometheus scrapes each web machine's /metrics, over
# plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.boolean("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env.boolean("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if env.boolean("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.integer("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
# Staff sessions end after this long without a request (customers keep the age above).
STAFF_SESSION_IDLE_SECONDS = env.integer("STAFF_SESSION_IDLE_MINUTES", 30, minimum=1) * 60
STAFF_SESSION_REFRESH_SECONDS = env.integer("STAFF_SESSION_REFRESH_SECONDS", 60, minimum=1)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp): scripts, styles, fonts and
# images from this site only, never inline; no plugins, frames or foreign form targets.
# The pages carry no inline script or style; the API docs load Swagger UI's code from
# static files (drf-spectacular-sidecar, SpectacularSwaggerSplitView).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# /healthz tells anonymous callers only ok or failing; a monitor presenting this token
# (Authorization: Bearer …) gets each check, as signed-in staff do.
HEALTHZ_TOKEN = env.string("HEALTHZ_TOKEN", "") or ""
# /metrics answers only a scraper presenting this token (Authorization: Bearer …); unset,
# it answers nobody (portal/metrics.py).
METRICS_TOKEN = env.string("METRICS_TOKEN", "") or ""
SECURE_CONTENT_TYPE_NOSNIFF = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# One console handler; every record carries the request and task ids (slaportal/logging.py).
# JSON lines for a log shipper in production, plain text for a terminal.
LOG_FORMAT = env.string("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not json or plain.")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env.string("LOG_LEVEL", "INFO"))

# A send claimed this long ago without an outcome is taken over by reconciliation
# (outbox/services/recovery.py); above CELERY_TASK_TIME_LIMIT, so never a live attempt.
OUTBOX_SENDING_TIMEOUT_SECONDS = env.integer("OUTBOX_SENDING_TIMEOUT_SECONDS", 600, minimum=60)

# Inbound e-mail: a reply from a staff address counts as a staff reply only when our own
# relay (its name as it writes it in Authentication-Results) says DKIM or SPF passed for
# the staff domain; otherwise it is kept as a flagged customer-side message. Empty: no
# mail is trusted as staff.
INBOUND_TRUSTED_RELAY = env.string("INBOUND_TRUSTED_RELAY", "") or ""
INBOUND_STAFF_DOMAIN = env.string("INBOUND_STAFF_DOMAIN", "") or ""
IMAP_URL = env.url("IMAP_URL", schemes=("imap://", "imaps://"))  # polled each minute; path: folder
IMAP_PROCESSED_FOLDER = env.string("IMAP_PROCESSED_FOLDER", "Processed")
IMAP_REJECTED_FOLDER = env.string("IMAP_REJECTED_FOLDER", "Rejected")

# Tickets. Attachments: one size limit and one allowlist, checked by the services that
# every entry point (portal, API, inbound e-mail) calls. Types are decided by the file
# name's extension and stored as the type listed here, never as the type the client
# claimed, so a file is always served as what we accepted.
TICKET_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
TICKET_ATTACHMENTS_PER_MESSAGE = 10
TICKET_ATTACHMENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".json": "application/json",
    ".xml": "application/xml",
    ".zip": "application/zip",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".eml": "message/rfc822",
}

# Outbox: a temporary SMTP failure is retried with exponential backoff (1 min, 2 min, …,
# at most OUTBOX_MAX_BACKOFF_SECONDS) until OUTBOX_MAX_ATTEMPTS, then marked failed.
OUTBOX_MAX_ATTEMPTS = env.integer("OUTBOX_MAX_ATTEMPTS", 8, minimum=1)
OUTBOX_MAX_BACKOFF_SECONDS = env.integer("OUTBOX_MAX_BACKOFF_SECONDS", 3600, minimum=1)
OUTBOX_RETRY_BASE_SECONDS = env.integer("OUTBOX_RETRY_BASE_SECONDS", 60, minimum=1)
# Webhooks: a failed delivery (4xx, 5xx, timeout, connection error) is retried after
# 30 s × 2^(attempts − 1), at most WEBHOOK_MAX_BACKOFF_SECONDS, until WEBHOOK_MAX_ATTEMPTS;
# a 410 Gone fails it at once and deactivates the endpoint.
WEBHOOK_MAX_ATTEMPTS = env.integer("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
WEBHOOK_RETRY_BASE_SECONDS = env.integer("WEBHOOK_RETRY_BASE_SECONDS", 30, minimum=1)
WEBHOOK_MAX_BACKOFF_SECONDS = env.integer("WEBHOOK_MAX_BACKOFF_SECONDS", 3600, minimum=1)
WEBHOOK_TIMEOUT_SECONDS = env.integer("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# Where e-mails send people (links to the portal).
PORTAL_URL = env.string("PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")

# Provider details printed on statements and e-mails.
PROVIDER_NAME = env.string("PROVIDER_NAME", "SLA Portal Demo Provider")
# Printed on every statement's letterhead: address lines separated by "|".
PROVIDER_ADDRESS = [
    line.strip()
    for line in env.string(
        "PROVIDER_ADDRESS", "100 Example Street|Springfield, IL 62701|United States"
    ).split("|")
    if line.strip()
]
PROVIDER_EMAIL = env.string("PROVIDER_EMAIL", "billing@provider.example")

# Error reporting (slaportal/observability.py): Sentry when SENTRY_DSN is set.
observability.init_sentry(env.string("SENTRY_DSN"))

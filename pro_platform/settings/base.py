"""Settings for every environment, read from the process environment.

Each variable has a default that works on a developer machine (PostgreSQL and
RabbitMQ on 127.0.0.1). Production sets DJANGO_DEBUG=false, which makes
DJANGO_SECRET_KEY mandatory: no secret has a production default.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from operations.errors import error_tracking_init
from operations.logs import configure_structlog, logging_config
from operations.multiprocess import metrics_directory_use

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false.")
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105 - DEBUG only
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "operations",  # first: its admin/index.html adds the task dashboard to the admin's front page
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "django_celery_results",
    "django_celery_beat",
    "django_structlog",
    "django_prometheus",
    "pro_platform",
    "accounts",
    "orders",
    "notifications",
    "messaging",
    "reports",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "pro_platform.middleware.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "pro_platform.urls"
WSGI_APPLICATION = "pro_platform.wsgi.application"

TEMPLATES = [
    {
        "NAME": "django",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # Plain-text messages (e-mail text parts, Telegram): no HTML escaping.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/pro_platform"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
    "DATABASE_CONNECT_TIMEOUT", default=5
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache shared by every process and host: API throttles and sign-in failure counters
# live here, so a limit is one limit however many web processes serve. PostgreSQL's cache
# table (made by a migration) unless REDIS_URL is set.
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "pro"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "pro_platform_cache"}
    )
}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)

# --- E-mail -------------------------------------------------------------------
# EMAIL_URL is django-environ style (smtp://user:password@host:port, smtp+tls://...).
# Unset, mail is printed to the console, which is what a local run wants.
if "EMAIL_URL" in env:
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Pro Platform <noreply@pro-platform.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# --- Payment provider callbacks ----------------------------------------------------------
# Shared secrets for the provider's signatures; list the new one first while rotating.
PAYMENT_WEBHOOK_SECRETS = env.list("PAYMENT_WEBHOOK_SECRETS", default=[])
if not PAYMENT_WEBHOOK_SECRETS:
    if not DEBUG:
        raise ImproperlyConfigured("PAYMENT_WEBHOOK_SECRETS must be set when DJANGO_DEBUG is false.")
    PAYMENT_WEBHOOK_SECRETS = ["whsec_local_development_only"]
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = env.int("PAYMENT_WEBHOOK_TOLERANCE_SECONDS", default=300)

# --- Notifications ------------------------------------------------------------------
# Transient failures are retried NOTIFICATION_MAX_RETRIES times, after a random delay
# between half of and BACKOFF * 2**(attempt - 1) seconds (equal jitter), capped at BACKOFF_MAX:
# the retries span at least 31 s with the defaults (services/notifications/delivery.py).
NOTIFICATION_MAX_RETRIES = env.int("NOTIFICATION_MAX_RETRIES", default=5)
NOTIFICATION_RETRY_BACKOFF_SECONDS = env.int("NOTIFICATION_RETRY_BACKOFF_SECONDS", default=2)
NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS = env.int("NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS", default=600)
# One alert per failed notification, until more than ALERT_BURST were sent within
# ALERT_WINDOW; further failures are summed up in one alert at the end of the window.
NOTIFICATION_ALERT_BURST = env.int("NOTIFICATION_ALERT_BURST", default=5)
NOTIFICATION_ALERT_WINDOW_SECONDS = env.int("NOTIFICATION_ALERT_WINDOW_SECONDS", default=300)
# Telegram Bot API. With no token, nothing is sent to Telegram.
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_API_BASE_URL = env.str("TELEGRAM_API_BASE_URL", default="https://api.telegram.org")
TELEGRAM_MANAGERS_CHAT_ID = env.str("TELEGRAM_MANAGERS_CHAT_ID", default="")
TELEGRAM_TIMEOUT_SECONDS = env.float("TELEGRAM_TIMEOUT_SECONDS", default=10.0)
# Telegram's limits: about 30 messages a second overall and one a second per chat.
TELEGRAM_MAX_MESSAGES_PER_SECOND = env.float("TELEGRAM_MAX_MESSAGES_PER_SECOND", default=30.0)
TELEGRAM_CHAT_INTERVAL_SECONDS = env.float("TELEGRAM_CHAT_INTERVAL_SECONDS", default=1.0)
# A worker sleeps for a slot up to this long; a later slot re-queues the task instead.
TELEGRAM_RATE_LIMIT_MAX_WAIT_SECONDS = env.float("TELEGRAM_RATE_LIMIT_MAX_WAIT_SECONDS", default=1.0)
ADMINS = [("Admin", address) for address in env.list("DJANGO_ADMINS", default=[])]

# --- Periodic jobs (schedules: django-celery-beat, editable in the admin) -------------------------
# send_pending_emails publishes again a notification pending this long with nothing on its way.
NOTIFICATION_STUCK_AFTER_MINUTES = env.int("NOTIFICATION_STUCK_AFTER_MINUTES", default=15)
CART_RETENTION_DAYS = env.int("CART_RETENTION_DAYS", default=30)
ORDER_PAYMENT_TIMEOUT_MINUTES = env.int("ORDER_PAYMENT_TIMEOUT_MINUTES", default=60)
REVIEW_REMINDER_DAYS = env.int("REVIEW_REMINDER_DAYS", default=7)

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.auth.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "pro_platform.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "pro_platform.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
    # Registrations per client address (sign-in failures are limited in services/sign_in.py).
    "DEFAULT_THROTTLE_RATES": {"auth": env.str("API_AUTH_THROTTLE_RATE", default="30/minute")},
    "DEFAULT_SCHEMA_CLASS": "pro_platform.openapi.ApiAutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "URL_FORMAT_OVERRIDE": None,  # JSON only: no ?format= for the schema to explain
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "pro_platform.exceptions.ServiceAwareExceptionHandler",
    "ALLOWED_ERROR_STATUS_CODES": [
        "400",
        "401",
        "403",
        "404",
        "405",
        "406",
        "413",
        "415",
        "429",
        "500",
        "503",
    ],
    "ERROR_SCHEMAS": {
        "401": "pro_platform.openapi.UNAUTHORIZED",
        "413": "pro_platform.openapi.REQUEST_TOO_LARGE",
        "500": "pro_platform.openapi.SERVER_ERROR",
        "503": "pro_platform.openapi.SERVICE_UNAVAILABLE",
    },
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_TOKEN_LIFETIME_SECONDS", default=15 * 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(
        seconds=env.int("JWT_REFRESH_TOKEN_LIFETIME_SECONDS", default=7 * 24 * 3600)
    ),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
    # Every refresh answers a new refresh token and revokes the one used (token_blacklist),
    # so a stolen refresh token works once at most, and signing out revokes it for good.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}
# Failed sign-ins (services/sign_in.py): per account from one client, and per account.
LOGIN_FAILURES_PER_CLIENT = env.int("LOGIN_FAILURES_PER_CLIENT", default=5)
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=20)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)
# Idempotency-Key (services/idempotency.py): how long a key and its answer are remembered.
IDEMPOTENCY_KEY_RETENTION_HOURS = env.int("IDEMPOTENCY_KEY_RETENTION_HOURS", default=24)
if IDEMPOTENCY_KEY_RETENTION_HOURS < 24:
    raise ImproperlyConfigured("IDEMPOTENCY_KEY_RETENTION_HOURS must be at least 24.")
# The largest request body the API reads; a larger one is 413 request_too_large.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)

_ERROR_ENUMS = "drf_standardized_errors.openapi_serializers"
SPECTACULAR_SETTINGS = {
    "TITLE": "Pro Platform API",
    "DESCRIPTION": (
        "Order platform: catalogue, orders and their asynchronous side effects.\n\n"
        "Authenticate with `POST /api/v1/auth/token/`, then press **Authorize** and paste "
        "the `access` token. Every error has the same shape: "
        '`{"type": ..., "errors": [{"code": ..., "detail": ..., "attr": ...}]}` where '
        "`code` is machine-readable and `attr` names the field at fault (null when no field is)."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "ENUM_NAME_OVERRIDES": {
        "ValidationErrorEnum": f"{_ERROR_ENUMS}.ValidationErrorEnum.choices",
        "ClientErrorEnum": f"{_ERROR_ENUMS}.ClientErrorEnum.choices",
        "ServerErrorEnum": f"{_ERROR_ENUMS}.ServerErrorEnum.choices",
        "ErrorCode401Enum": f"{_ERROR_ENUMS}.ErrorCode401Enum.choices",
        "ErrorCode403Enum": f"{_ERROR_ENUMS}.ErrorCode403Enum.choices",
        "ErrorCode404Enum": f"{_ERROR_ENUMS}.ErrorCode404Enum.choices",
        "ErrorCode405Enum": f"{_ERROR_ENUMS}.ErrorCode405Enum.choices",
        "ErrorCode406Enum": f"{_ERROR_ENUMS}.ErrorCode406Enum.choices",
        "ErrorCode415Enum": f"{_ERROR_ENUMS}.ErrorCode415Enum.choices",
        "ErrorCode429Enum": f"{_ERROR_ENUMS}.ErrorCode429Enum.choices",
        "ErrorCode500Enum": f"{_ERROR_ENUMS}.ErrorCode500Enum.choices",
        "OrderStatusEnum": "orders.models.OrderStatus.choices",
        "PaymentStatusEnum": "orders.models.PaymentStatus.choices",
        "CurrencyEnum": "orders.models.Currency.choices",
        "TaskStateEnum": "pro_platform.apis.TASK_STATES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "pro_platform.openapi.indexed_attrs_as_patterns",
        "pro_platform.openapi.add_links",
    ],
}

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

# --- Celery (seed 001, with the CELERY_ prefix) -----------------------------------
# Queues, routes and priorities are declared in messaging/routing.py, not here.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="amqp://guest:guest@127.0.0.1:5672//")
# Short: a request's after-commit publish must give up fast on a dead broker (the outbox
# relay publishes later); RabbitMQ on a local network answers in milliseconds.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=0.5)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publisher confirms: a publish returns only once RabbitMQ has taken the message.
CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True, "confirm_timeout": 2}
CELERY_BROKER_POOL_LIMIT = env.int("CELERY_BROKER_POOL_LIMIT", default=10)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_TIME_LIMIT = 10 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 60
# Seed 003: the STARTED state is stored when a task starts (the API shows it; reports put their
# progress there). It costs a database write per task (see bench/REPORT.md).
CELERY_TASK_TRACK_STARTED = env.bool("CELERY_TASK_TRACK_STARTED", default=True)
# Acknowledge after the task ran, and put the message back if its process died, so a
# killed worker loses nothing; every task is idempotent for that reason. Messages are
# persistent (on disk in RabbitMQ) and prefetch is one, so priorities hold.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_DEFAULT_DELIVERY_MODE = "persistent"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every database connection before and after each task
# unless this is set: a new PostgreSQL connection per task. Tasks keep theirs like
# requests do instead (CONN_MAX_AGE and health checks, applied around each task by
# messaging/signals.py), and Celery renews them every 1,000 tasks besides.
CELERY_DB_REUSE_MAX = 1000
# A dead TCP connection to RabbitMQ is noticed within about two heartbeats.
CELERY_BROKER_HEARTBEAT = env.int("CELERY_BROKER_HEARTBEAT", default=30)
# A publish on a dead broker gives up after a bounded number of quick retries
# instead of hanging the request that triggered it.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
# The transactional outbox (messaging/outbox.py): relays publish each message as its
# transaction commits, and forget published ones after the retention.
OUTBOX_RETENTION_HOURS = env.int("OUTBOX_RETENTION_HOURS", default=7 * 24)
# A longer delay is kept in the outbox and published when due, never held by a consumer
# as an unacknowledged ETA message (RabbitMQ closes channels past its consumer_timeout).
OUTBOX_MAX_BROKER_DELAY_SECONDS = env.float("OUTBOX_MAX_BROKER_DELAY_SECONDS", default=10.0)
# How services publish tasks. "outbox" is the product; the other two exist only to be
# measured against it: "on_commit" publishes on commit and keeps nothing (a broker outage
# loses messages: the control of the fault-injection suite), "off" publishes nothing
# (the benchmarks' reference for the cost of publishing). Never use them in production.
TASK_PUBLISHING = env.str("TASK_PUBLISHING", default="outbox")
if TASK_PUBLISHING not in ("outbox", "on_commit", "off"):
    raise ImproperlyConfigured("TASK_PUBLISHING must be outbox, on_commit or off.")
# django-celery-results ("django-db"), storing each state in one statement.
CELERY_RESULT_BACKEND = "pro_platform.results:DatabaseBackend"
CELERY_RESULT_EXTENDED = True
# A task state that cannot be stored (the database unreachable) is tried again on a new
# connection with backoff, about half a minute in all; past that the message goes back to
# its queue (pro_platform/results.py), never acknowledged with the task not run.
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
CELERY_RESULT_BACKEND_MAX_RETRIES = env.int("CELERY_RESULT_BACKEND_MAX_RETRIES", default=12)
CELERY_RESULT_BACKEND_BASE_SLEEP_BETWEEN_RETRIES_MS = 100
CELERY_RESULT_BACKEND_MAX_SLEEP_BETWEEN_RETRIES_MS = 5000
CELERY_RESULT_EXPIRES = timedelta(seconds=env.int("CELERY_RESULT_EXPIRES_SECONDS", default=7 * 24 * 3600))
# django-celery-beat's DatabaseScheduler, held by one beat at a time (pro_platform/beat.py).
CELERY_BEAT_SCHEDULER = "pro_platform.beat:SingleBeatScheduler"
# Task events cost a publish per task state (measured: about 2 ms a task) and only monitoring
# reads them: Flower switches them on in the workers when it starts (enable_events), and
# `celery -A pro_platform control enable_events` does so by hand.
CELERY_WORKER_SEND_TASK_EVENTS = env.bool("CELERY_WORKER_SEND_TASK_EVENTS", default=False)

# Celery leaves logging to Django (LOGGING below; pro_platform/celery.py says so to Celery).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Operations (operations/: README, Operations) ---------------------------------------
# Logs: JSON lines with LOG_FORMAT=json (compose), readable lines otherwise.
LOGGING = logging_config(
    log_format=env.str("LOG_FORMAT", default="console"),
    level=env.str("LOG_LEVEL", default="INFO"),
    access_log=bool(env.str("GUNICORN_ACCESSLOG", default="")),
)
configure_structlog()
DJANGO_STRUCTLOG_CELERY_ENABLED = True  # task_started / task_succeeded lines, with the request id
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False  # an address is personal data; the request id suffices
# Readiness (/health/ready) fails past these.
HEALTH_OUTBOX_MAX_AGE_SECONDS = env.int("HEALTH_OUTBOX_MAX_AGE_SECONDS", default=60)
HEALTH_BEAT_MAX_SILENCE_SECONDS = env.int("HEALTH_BEAT_MAX_SILENCE_SECONDS", default=60)
HEARTBEAT_INTERVAL_SECONDS = env.float("HEARTBEAT_INTERVAL_SECONDS", default=5.0)
# /metrics: staff sessions, or a scraper with `Authorization: Bearer $METRICS_TOKEN`.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Every process of a host writes its counters here and a scrape sums them (Prometheus'
# multiprocess mode, operations/multiprocess.py).
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default=str(BASE_DIR / ".run" / "metrics"))
metrics_directory_use(PROMETHEUS_MULTIPROC_DIR)
# Error tracking, only when SENTRY_DSN is set.
error_tracking_init(
    dsn=env.str("SENTRY_DSN", default=""),
    environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
    traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
)

"""Settings shared by every mode; each value comes from the environment (see README, "Configuration")."""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from aicmo_site.env import database_from_url, env_bool, env_int, env_list, env_str, media_storage_from_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("AICMO_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"
SECRET_KEY = env_str("SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else None)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0 (50+ random characters).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Where people reach AICMO: tracking, unsubscribe and feed links are built from it.
PUBLIC_BASE_URL = (env_str("PUBLIC_BASE_URL", "http://localhost:8000") or "").rstrip("/")
TEAM_TIME_ZONE = env_str("AICMO_TIME_ZONE", "UTC")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "axes",
    "auditlog",
    "gateways",
    "webhooks",
    "crm",
    "media",
    "publishing",
    "automation",
    "analytics",
    "alerts",
    # Last, so its post_migrate (roles_sync) runs once every app's permissions exist.
    "aicmo_site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # After authentication: the audit log reads the request's user (or the API's token) from here.
    "aicmo_site.audit.AuditSourceMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "aicmo_site.urls"
WSGI_APPLICATION = "aicmo_site.wsgi.application"
ASGI_APPLICATION = "aicmo_site.asgi.application"

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
                "aicmo_site.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'aicmo.sqlite3'}", base_dir=BASE_DIR
    )
}
# A pooler in transaction mode (PgBouncer's pool_mode = transaction) hands the server connection to another
# client after each transaction, so nothing may outlive one: no server-side cursors (iterator() then fetches
# client-side), no prepared statements (psycopg prepares a query it has run 5 times), no session SET.
DATABASE_TRANSACTION_POOLING = env_bool("DATABASE_TRANSACTION_POOLING", False)
if DATABASE_TRANSACTION_POOLING and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = TEAM_TIME_ZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Several machines share media through an S3-compatible bucket (aicmo_site.storage); unset, files
# stay under MEDIA_ROOT, which suits one machine. Renditions are public (served from the bucket or
# from MEDIA_PUBLIC_BASE_URL, a CDN in front of it); everything else goes out as signed URLs that
# expire after MEDIA_SIGNED_URL_SECONDS, handed out only after the view checked who is asking.
MEDIA_STORAGE_URL = env_str("MEDIA_STORAGE_URL", "") or ""
MEDIA_PUBLIC_BASE_URL = env_str("MEDIA_PUBLIC_BASE_URL", "") or ""
MEDIA_SIGNED_URL_SECONDS = env_int("MEDIA_SIGNED_URL_SECONDS", 300, minimum=1)
STORAGES = {
    "default": (
        media_storage_from_url(MEDIA_STORAGE_URL, public_base_url=MEDIA_PUBLIC_BASE_URL,
                               signed_url_seconds=MEDIA_SIGNED_URL_SECONDS)
        if MEDIA_STORAGE_URL else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# How many reverse proxies stand in front of AICMO: the client's real address is that many
# entries from the right of X-Forwarded-For (0: use the socket's address, ignore the header).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "aicmo_site.net.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_LOCKOUT_CALLABLE = "aicmo_site.api.auth.lockout_response"
AXES_VERBOSE = False

# Provider credentials are encrypted with the first key; every key still decrypts, so keys rotate
# by prepending a new one. Development derives a key from SECRET_KEY; production must set its own.
_encryption_keys = env_list("FIELD_ENCRYPTION_KEY", [])
if not _encryption_keys:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be set when DEBUG=0: one or more comma-separated Fernet keys "
            '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
        )
    _encryption_keys = [base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()]
FIELD_ENCRYPTION_KEYS = _encryption_keys

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "aicmo_site.api.authentication.SweepingTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["aicmo_site.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "aicmo_site.api.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "aicmo_site.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "aicmo_site.api.throttling.AnonRateThrottle",
        "aicmo_site.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/minute"),
        "user": env_str("API_THROTTLE_USER", "6000/minute"),
        "login": env_str("API_THROTTLE_LOGIN", "30/minute"),
    },
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "aicmo_site.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "aicmo_site.api.schema.ApiAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Knox keeps only a hash of each token; tokens expire after this many days (0: never).
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 30, minimum=0)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS) if API_TOKEN_TTL_DAYS else None,
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "AICMO API",
    "DESCRIPTION": "Contacts, content, campaigns, email, analytics and media of AICMO.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Path ids as aicmo_site.api.routers.IdConverter matches them: a stored row's id, at most 2**63 - 1.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
    # Swagger UI is served from the project's own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Each status and kind keeps its own name in the schema (many models have a field "status").
    "ENUM_NAME_OVERRIDES": {
        "LifecycleStatusEnum": "crm.choices.LifecycleStatus",
        "EmailStatusEnum": "crm.choices.EmailStatus",
        "ConsentStatusEnum": "crm.choices.ConsentStatus",
        "EngagementTierEnum": "crm.choices.EngagementTier",
        "EventKindEnum": "crm.choices.EventKind",
        "SuppressionKindEnum": "crm.choices.SuppressionKind",
        "SuppressionReasonEnum": "crm.choices.SuppressionReason",
        "RunStatusEnum": "crm.choices.RunStatus",
        "EnrichmentItemStatusEnum": "crm.choices.EnrichmentItemStatus",
        "ImportPolicyEnum": "crm.choices.ImportPolicy",
        "FormFieldEnum": "crm.form_models.FORM_FIELD_CHOICES",
        "ContentKindEnum": "publishing.choices.ContentKind",
        "ContentStatusEnum": "publishing.choices.ContentStatus",
        "ReviewStatusEnum": "publishing.choices.ReviewStatus",
        "CampaignStatusEnum": "publishing.choices.CampaignStatus",
        "JobStatusEnum": "publishing.choices.JobStatus",
        "MetricSourceEnum": "publishing.choices.MetricSource",
        "SendStatusEnum": "publishing.email.choices.SendStatus",
        "DeliveryStatusEnum": "publishing.email.choices.DeliveryStatus",
        "ABMetricEnum": "publishing.email.choices.ABMetric",
        "ABStatusEnum": "publishing.email.choices.ABStatus",
        "InboundEventKindEnum": "publishing.email.choices.InboundEventKind",
        "TemplateFormatEnum": "publishing.email.choices.TemplateFormat",
        "JourneyStepKindEnum": "automation.choices.StepKind",
        "AssetKindEnum": "media.choices.AssetKindChoices",
        "AssetStatusEnum": "media.choices.AssetStatusChoices",
        "ReviewActionEnum": "media.choices.ReviewActionChoices",
        "OrientationEnum": "media.choices.OrientationChoices",
        "RenditionFormatEnum": "media.choices.RenditionFormatChoices",
        "BreakerStateEnum": "gateways.models.BreakerState",
        "HealthStatusEnum": "gateways.models.HealthStatus",
        "ChannelKindEnum": "publishing.formatters.kind_choices",
        "ChannelSendStatusEnum": "publishing.channel_sends.ChannelSendStatus",
        "SmsDeliveryStatusEnum": "publishing.sms.choices.SmsDeliveryStatus",
        "PushDeliveryStatusEnum": "publishing.push.choices.PushDeliveryStatus",
    },
}

# The audit log (aicmo_site/audit.py): every model a person changes. Machine rows (deliveries, step runs,
# events, metrics, heartbeats) are left out; bulk changes log one entry per operation instead. Fields a
# machine moves on its own (scores, counters, timestamps) are left out of the changes, so a nightly
# recompute is not ten thousand entries.
_MACHINE_FIELDS = ["created_at", "updated_at", "created", "updated"]
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {"model": "auth.user", "mask_fields": ["password"], "exclude_fields": ["last_login"]},
    "auth.group",
    {"model": "gateways.provideraccount", "mask_fields": ["credentials_encrypted"], "exclude_fields": _MACHINE_FIELDS},
    {"model": "webhooks.webhooksubscription", "mask_fields": ["secret_encrypted"], "exclude_fields": _MACHINE_FIELDS},
    # Tags and topics added to or taken off one contact are in its history (many at once: one entry
    # for the operation, crm.services.contacts_tag).
    {"model": "crm.contact", "m2m_fields": ["tags", "topics"], "exclude_fields": [
        *_MACHINE_FIELDS, "field_sources", "engagement_score", "engagement_tier", "soft_bounce_count",
        "lifetime_value", "value_tier", "last_removed_activity_at", "last_activity_at"]},
    {"model": "crm.subscriptionform", "m2m_fields": ["tags", "topics"], "exclude_fields": _MACHINE_FIELDS},
    *({"model": label, "exclude_fields": _MACHINE_FIELDS} for label in (
        "crm.company", "crm.tag", "crm.topic", "crm.segment", "crm.contactlist",
        "media.library", "media.assettag", "media.asset",
        "publishing.channel", "publishing.campaign", "publishing.campaigncontent", "publishing.content",
        "publishing.channelversion", "publishing.emailtemplate", "publishing.emailblock",
        "publishing.emailcampaign", "publishing.abtest", "publishing.abvariant", "publishing.emaillayout",
        "publishing.brandkit",
        "automation.journey", "automation.journeystep", "automation.task", "alerts.alertrule",
        "aicmo_site.retentionpolicy")),
    # An Admin's reading-level targets and the repositories someone chose to watch; what polling writes
    # on a repository (ETags, times, the last error) is the machine's.
    {"model": "publishing.readabilitytarget", "exclude_fields": ["chosen_at"]},
    {"model": "crm.watchedrepository", "exclude_fields": [
        *_MACHINE_FIELDS, "figures_etag", "releases_etag", "polled_at", "not_before", "last_error"]},
    # Suppressions a person adds or lifts (page, admin, API); those a bounce, complaint, unsubscribe,
    # verification or erasure makes are recorded by that event instead (crm.services.engagement).
    {"model": "crm.suppression", "exclude_fields": _MACHINE_FIELDS},
    # A chat or webhook address is itself the key to post there.
    {"model": "alerts.alertchannel", "mask_fields": ["target"], "exclude_fields": _MACHINE_FIELDS},
)
AUDITLOG_MASK_CALLABLE = "aicmo_site.audit.secret_masked"

REDIS_URL = env_str("REDIS_URL") or None
Q_TIMEOUT = env_int("Q_TIMEOUT", 600, minimum=10)
# A send, campaign, job, import or enrichment run still open with no progress for this long is flagged
# as stuck on its page and on the home page.
STUCK_AFTER_MINUTES = env_int("STUCK_AFTER_MINUTES", 30, minimum=1)
# django-q2 hands a task to another worker when it is not acknowledged within `retry` seconds,
# so `retry` must outlast the longest task (`timeout`) or a slow task would run twice.
Q_RETRY_MARGIN = 120
Q_CLUSTER = {
    # The Redis queue's key: installations sharing one Redis each need their own.
    "name": env_str("Q_CLUSTER_NAME", "aicmo"),
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": Q_TIMEOUT,
    "retry": Q_TIMEOUT + Q_RETRY_MARGIN,
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 3, minimum=1),
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 5000,
    "label": "Background tasks",
    "poll": 0.5,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
    # With Redis, every web and worker process shares one cache (analytics reports among others).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    Q_CLUSTER["orm"] = "default"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "AICMO <marketing@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# Outbound requests to addresses people configure are refused when they resolve to loopback or
# private ranges (server-side request forgery). Only tests and local development turn this on.
GATEWAYS_ALLOW_PRIVATE_ADDRESSES = env_bool("GATEWAYS_ALLOW_PRIVATE_ADDRESSES", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # flufl.bounce logs each of its ~17 detectors at INFO for every message read.
    "loggers": {"axes": {"level": "WARNING"}, "flufl.bounce": {"level": "WARNING"}},
}

"""Lotse settings: one module, every value read from the environment.

`.env.example` lists each variable with a comment. The defaults make
`make run` work on a bare machine (SQLite, an embedded Celery transport);
production sets `DATABASE_URL`, `CELERY_BROKER_URL`, `SECRET_KEY`,
`ALLOWED_HOSTS` and `DEBUG=false`.
"""

from __future__ import annotations

import secrets
import warnings
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.broker import transport_options

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("LOTSE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")


def _bool(name: str, default: bool) -> bool:
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a truth value; use true or false.")


def _int(name: str, default: int) -> int:
    raw = env.str(name, default=str(default))
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


DEBUG = _bool("DEBUG", False)

# --- secrets ---------------------------------------------------------------
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set; production (DEBUG=false) needs a long "
            "random SECRET_KEY in the environment."
        )
    # Development only: a random key kept per checkout under var/, so that
    # sessions survive a restart and no key is ever committed.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _key_file = VAR_DIR / "dev-secret-key"
    if not _key_file.exists():
        _key_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = _key_file.read_text().strip()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is empty; list the host names Lotse is served under.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- applications ----------------------------------------------------------
INSTALLED_APPS = [
    "config.apps.LotseAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "accounts",
    "audit",
    "cases",
    "dataprotection",
    "notifications",
    "viewflow",
    "viewflow.workflow",
    "workflows",
    "handover",
    "caseload",
    "reports",
    "transfers",
    "appointments",
    "workspace",
    # The project as a whole: its system checks (config/checks.py).
    "config.apps.LotseConfig",
    "operations",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses every attempt for a locked-out user name (django-axes).
    "accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "accounts.backends.RolePermissionBackend",
]
# Sign-in through the organisation's directory (accounts/directory.py), each
# switched on by its environment variables; local accounts stay either way.
LOTSE_LDAP_ENABLED = bool(env.str("LOTSE_LDAP_SERVER_URI", default=""))
LOTSE_OIDC_ENABLED = bool(env.str("OIDC_RP_CLIENT_ID", default=""))
if LOTSE_LDAP_ENABLED:
    AUTHENTICATION_BACKENDS.insert(1, "accounts.directory.DirectoryLDAPBackend")
if LOTSE_OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("accounts.directory.DirectoryOIDCBackend")

# viewflow would append its middleware in ready(); Lotse lists what it uses.
VIEWFLOW = {"AUTOREGISTER": False}

MIDDLEWARE = [
    # First: one JSON line per request, without personal data.
    "config.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.middleware.NoStoreForSignedInMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.RequireSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a lockout flagged during authentication into the answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "notifications.context_processors.unread_notifications",
                "accounts.context_processors.security",
            ],
        },
    },
]

# --- database --------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'lotse.sqlite3'}")
_SUPPORTED_ENGINES = {
    "django.db.backends.postgresql",
    "django.db.backends.sqlite3",
}


def _database(url: str) -> dict[str, object]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            config = environ.Env.db_url_config(url)
    except Exception:  # noqa: BLE001 - any parse failure is the same mistake
        config = {}
    if config.get("ENGINE") not in _SUPPORTED_ENGINES or not config.get("NAME"):
        raise ImproperlyConfigured(
            "DATABASE_URL cannot be understood; use "
            "postgresql://USER:PASSWORD@HOST:5432/NAME or sqlite:////abs/path."
        )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        Path(str(config["NAME"])).parent.mkdir(parents=True, exist_ok=True)
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue on
        # busy_timeout instead of failing half-way with "database is locked".
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        config["CONN_MAX_AGE"] = _int("CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = True
        config.setdefault("OPTIONS", {})
        # Server-side binding lets psycopg prepare repeated statements (the
        # transition path runs the same few queries all day). Turn it off
        # behind a transaction-pooling pgbouncer.
        if _bool("DATABASE_SERVER_SIDE_BINDING", True):
            config["OPTIONS"]["server_side_binding"] = True
            config["OPTIONS"]["prepare_threshold"] = 5
    config["ATOMIC_REQUESTS"] = False
    return config


DATABASES = {"default": _database(DATABASE_URL)}
# Covering indexes (INCLUDE) are a PostgreSQL feature; SQLite (the bare-machine
# default of `make run`) ignores their extra columns, which is fine there.
SILENCED_SYSTEM_CHECKS = (
    ["models.W040"] if str(DATABASES["default"]["ENGINE"]).endswith("sqlite3") else []
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- authentication --------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": _int("LOTSE_PASSWORD_MIN_LENGTH", 12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id first; older hashes (PBKDF2) still verify and are upgraded at the
# next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Absolute session lifetime from sign-in (enforced by
# accounts.middleware.SessionTimeoutMiddleware, and by the cookie's age).
SESSION_COOKIE_AGE = _int("SESSION_COOKIE_AGE", 10 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Minutes without a request after which the user must sign in again.
LOTSE_SESSION_IDLE_MINUTES = _int("LOTSE_SESSION_IDLE_MINUTES", 30)
# Two-factor sign-in (TOTP app, backup codes) for every user, in the browser
# and for API tokens. Only a local demo may turn it off; a banner says so.
LOTSE_REQUIRE_MFA = _bool("LOTSE_REQUIRE_MFA", True)
OTP_TOTP_ISSUER = "Lotse"
# Hours an API token from POST /api/v1/auth/token/ stays valid. A token
# also ends at once when the account's password, activity or role changes.
LOTSE_API_TOKEN_HOURS = _int("LOTSE_API_TOKEN_HOURS", 12)
# Brute-force lockout (django-axes): after LOTSE_LOGIN_FAILURE_LIMIT failed
# sign-ins for one user name (whether or not such a user exists), or from one
# client address, that name or address is locked for the cool-off period.
# The answer names no user and is the same for known and unknown names.
AXES_FAILURE_LIMIT = _int("LOTSE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=_int("LOTSE_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["password", "otp"]
# No user name and no address in the log lines (a keyed digest instead).
AXES_CLIENT_STR_CALLABLE = "accounts.backends.client_str"
# Where the client's address comes from (accounts.backends.client_ip_address):
# 0 trusted proxies (the default) means REMOTE_ADDR and no header is believed;
# behind N reverse proxies that each append to the header, set the count.
AXES_CLIENT_IP_CALLABLE = "accounts.backends.client_ip_address"
LOTSE_TRUSTED_PROXY_COUNT = _int("LOTSE_TRUSTED_PROXY_COUNT", 0)
LOTSE_CLIENT_IP_HEADER = "HTTP_" + env.str(
    "LOTSE_CLIENT_IP_HEADER", default="X-Forwarded-For"
).upper().replace("-", "_")

# --- internationalisation --------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The screens stay German and English; client documents are printed in more
# languages (cases/documents/languages.py), with fonts from this directory
# (Debian's fonts-noto-core, installed by `make`).
LOTSE_FONT_DIR = env.str("LOTSE_FONT_DIR", default="/usr/share/fonts/truetype/noto")
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

# --- static and media ------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    # Django's app finder without viewflow's node_modules trees (config/staticfiles.py).
    "config.staticfiles.AppDirectoriesFinder",
]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
# Uploads live where every web node and worker reaches them: MEDIA_ROOT on a
# path all nodes share (one host, or an NFS mount), or an S3-compatible
# bucket (MinIO, Ceph, a cloud) through django-storages when
# LOTSE_S3_BUCKET is set. Files are never served directly: the case pages
# stream them after the access check.
LOTSE_S3_BUCKET = env.str("LOTSE_S3_BUCKET", default="")
_default_storage: dict[str, object] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if LOTSE_S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": LOTSE_S3_BUCKET,
            "endpoint_url": env.str("LOTSE_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("LOTSE_S3_REGION", default="") or None,
            "access_key": env.str("LOTSE_S3_ACCESS_KEY", default="") or None,
            "secret_key": env.str("LOTSE_S3_SECRET_KEY", default="") or None,
            "location": env.str("LOTSE_S3_PREFIX", default="media"),
            # Private objects; never a public URL, never overwritten.
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "object_parameters": {"ServerSideEncryption": "AES256"}
            if _bool("LOTSE_S3_SERVER_SIDE_ENCRYPTION", True)
            else {},
        },
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- security (production values unless DEBUG) ------------------------------
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy of every page (config.middleware): scripts,
# styles and images only from Lotse itself, no inline script or style.
LOTSE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The API docs page loads Swagger UI from its CDN (SWAGGER_UI_DIST).
LOTSE_CSP_API_DOCS = (
    "default-src 'self'; script-src 'self' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://cdn.jsdelivr.net; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
if _bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz is polled by load balancers over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Where `manage.py backup` writes (operations/backup.py).
LOTSE_BACKUP_DIR = env.str("LOTSE_BACKUP_DIR", default=str(VAR_DIR / "backups"))

# --- cache and sessions: shared by every web node ----------------------------
# Sessions live in the database (Django's default engine), so a user signed
# in on one node is signed in on all. The cache (API throttling counters,
# anything cached) is Redis when CACHE_URL is set, which every node must
# share once there is more than one; a per-process memory cache otherwise.
CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "lotse",
            "TIMEOUT": 300,
        }
    }
elif CACHE_URL:
    raise ImproperlyConfigured("CACHE_URL must be a redis:// URL (or empty for a local cache).")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- REST API (shared/docs/API.md) ----------------------------------------
# Throttling (config/throttles.py): per signed-in user, per client address
# without a sign-in, and a tight rate on the token endpoint (which also
# counts towards the lockout). Past a rate the answer is 429 with
# {"code": "throttled", "detail": ...} and a Retry-After header.
LOTSE_API_THROTTLE_RATES = {
    "user": env.str("LOTSE_API_RATE_USER", default="600/min"),
    "anon": env.str("LOTSE_API_RATE_ANON", default="60/min"),
    "token": env.str("LOTSE_API_RATE_TOKEN", default="10/min"),
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON in and out (API.md); file imports opt into multipart per view.
    "DEFAULT_PARSER_CLASSES": ["config.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttles.UserRateThrottle",
        "config.throttles.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": LOTSE_API_THROTTLE_RATES,
}
# Bounds checked before a JSON body is parsed (config.parsers): larger
# bodies answer 413, deeper nesting or longer texts 400.
LOTSE_API_MAX_BODY_BYTES = _int("LOTSE_API_MAX_BODY_BYTES", 1024 * 1024)
LOTSE_API_MAX_JSON_DEPTH = _int("LOTSE_API_MAX_JSON_DEPTH", 20)
LOTSE_API_MAX_STRING_LENGTH = _int("LOTSE_API_MAX_STRING_LENGTH", 20000)
SPECTACULAR_SETTINGS = {
    "TITLE": "Lotse API",
    "DESCRIPTION": "Case management for the Integrationsmanagement (API v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # One path per case transition, each with its arguments' schema.
    "PREPROCESSING_HOOKS": ["cases.api_transitions.expand_transition_paths"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cases.api_transitions.refuse_unknown_arguments",
    ],
    # The API spells stored codes in snake_case (config/api_enums.py); each
    # name resolves to the contract's choices of one enum.
    "ENUM_NAME_OVERRIDES": {
        name: f"config.api_enums.{name}"
        for name in (
            "CaseStatusEnum",
            "ConsultationStatusEnum",
            "ExtensionStatusEnum",
            "GoalStatusEnum",
            "ConsentFormEnum",
            "ConsentLegalBasisEnum",
            "ConsentGivenByEnum",
            "ConsentWithdrawalChannelEnum",
            "HandoverStatusEnum",
            "ReturnReasonEnum",
            "ClockFactSourceEnum",
            "DocumentKindEnum",
            "CvEntryKindEnum",
            "IntakeChannelEnum",
        )
    }
    | {"TransferReasonEnum": "transfers.api.TRANSFER_REASONS"},
}

# --- e-mail ----------------------------------------------------------------
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if env.str("EMAIL_HOST", default="")
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = _int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = _bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="lotse@localhost")

# --- Celery ----------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
# Publishing fails at once when the broker is down, and a hung broker gives
# up every connect and socket read or write after LOTSE_BROKER_TIMEOUT_SECONDS
# (config.broker); the outbox keeps the work, the relay sends it later.
LOTSE_BROKER_TIMEOUT_SECONDS = float(env.str("LOTSE_BROKER_TIMEOUT_SECONDS", default="1.0"))
CELERY_BROKER_CONNECTION_TIMEOUT = LOTSE_BROKER_TIMEOUT_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS = transport_options(CELERY_BROKER_URL, LOTSE_BROKER_TIMEOUT_SECONDS)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Embedded transport for a bare machine: messages are files under var/.
    # Producer and consumer read and write the same folder.
    _queue_dir = VAR_DIR / "celery" / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        # kombu's default is ./control in the working directory.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
# Beat only ever enqueues short sweeps; deadlines live in database columns,
# never in broker countdowns (RELIABILITY.md C6).
# Requests never publish to the broker: the relay delivers what they wrote to
# the outbox, so this is the longest a notification waits for its mail.
LOTSE_RELAY_SECONDS = _int("LOTSE_RELAY_SECONDS", 10)
LOTSE_SWEEP_SECONDS = _int("LOTSE_SWEEP_SECONDS", 900)
LOTSE_REMINDER_SECONDS = _int("LOTSE_REMINDER_SECONDS", 3600)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "heartbeat": {
        "task": "notifications.tasks.heartbeat_task",
        "schedule": timedelta(seconds=_int("HEARTBEAT_SECONDS", 30)),
    },
    # Waits inside a case flow (plan review due, extension check) are
    # viewflow timer tasks with their due time in the database; a beat
    # outage only delays them.
    # Anonymise closed and rejected cases whose retention period has ended
    # (DOMAIN.md §14.5); a day late is fine, a missed day is caught up.
    "retention-sweep": {
        "task": "dataprotection.tasks.retention_sweep_task",
        "schedule": timedelta(hours=_int("LOTSE_RETENTION_SWEEP_HOURS", 24)),
    },
    "workflow-timers": {
        "task": "workflows.tasks.fire_due_timers_task",
        "schedule": timedelta(seconds=_int("WORKFLOW_TIMER_SECONDS", 60)),
    },
    # The outbox relay delivers what requests wrote (they never publish) and
    # what a worker's on-commit publish could not (broker
    # down, worker lost); sweeps and reminders read their deadlines from
    # database columns, so a missed run only delays them.
    "outbox-relay": {
        "task": "notifications.tasks.notifications_relay_task",
        "schedule": timedelta(seconds=LOTSE_RELAY_SECONDS),
    },
    # Large handover files wait for the worker (requests never publish).
    "import-jobs": {
        "task": "handover.tasks.import_jobs_run_task",
        "schedule": timedelta(seconds=LOTSE_RELAY_SECONDS),
    },
    "reminders": {
        "task": "notifications.tasks.reminders_task",
        "schedule": timedelta(seconds=LOTSE_REMINDER_SECONDS),
    },
    # Appointment reminders and the no-show sweep (appointments.tasks).
    "appointment-sweep": {
        "task": "appointments.tasks.appointment_sweep_task",
        "schedule": timedelta(seconds=_int("LOTSE_APPOINTMENT_SWEEP_SECONDS", 900)),
    },
    "daily-digests": {
        "task": "notifications.tasks.digests_task",
        "schedule": crontab(hour=_int("LOTSE_DIGEST_HOUR", 7), minute=0),
    },
}
# The deadline sweeps run as LOTSE_SWEEP_SHARDS messages at a time, each over
# the cases whose id leaves its remainder, so that the worker's processes
# share a large sweep (`make bench`, sweeps: 2 processes on 2 cores moved
# about 2.2x as many cases per second as one). Keep it at most the worker's
# concurrency (scripts/run.sh: 2).
LOTSE_SWEEP_SHARDS = _int("LOTSE_SWEEP_SHARDS", 2)
for _shard in range(LOTSE_SWEEP_SHARDS):
    CELERY_BEAT_SCHEDULE[f"deadline-sweeps-{_shard + 1}-of-{LOTSE_SWEEP_SHARDS}"] = {
        "task": "notifications.tasks.deadline_sweeps_task",
        "schedule": timedelta(seconds=LOTSE_SWEEP_SECONDS),
        "kwargs": {"shard": _shard, "shards": LOTSE_SWEEP_SHARDS},
    }
HEARTBEAT_SECONDS = _int("HEARTBEAT_SECONDS", 30)
# Signed audit anchors (audit.anchors): chain registry and row counts,
# written every LOTSE_AUDIT_ANCHOR_SECONDS into a directory the database
# cannot reach, signed with LOTSE_AUDIT_ANCHOR_KEY (default: from SECRET_KEY).
LOTSE_AUDIT_ANCHOR_DIR = env.str("LOTSE_AUDIT_ANCHOR_DIR", default=str(VAR_DIR / "audit-anchors"))
LOTSE_AUDIT_ANCHOR_KEY = env.str("LOTSE_AUDIT_ANCHOR_KEY", default="")
# Key of the per-event seals (HMAC-SHA256 of each event's hash); default
# derived from SECRET_KEY. Never stored in the database.
LOTSE_AUDIT_SEAL_KEY = env.str("LOTSE_AUDIT_SEAL_KEY", default="")
LOTSE_AUDIT_ANCHOR_SECONDS = _int("LOTSE_AUDIT_ANCHOR_SECONDS", 3600)
# Caseload uploads wait for the worker (requests never publish).
CELERY_BEAT_SCHEDULE["caseload-imports"] = {
    "task": "caseload.imports_run",
    "schedule": timedelta(seconds=LOTSE_RELAY_SECONDS),
}
CELERY_BEAT_SCHEDULE["audit-anchor"] = {
    "task": "notifications.tasks.audit_anchor_task",
    "schedule": timedelta(seconds=LOTSE_AUDIT_ANCHOR_SECONDS),
}

# --- logging: no personal data, ids only ----------------------------------
# One JSON object per line (python-json-logger) unless LOTSE_LOG_FORMAT=plain
# (the default with DEBUG). Request lines come from
# config.middleware.RequestLogMiddleware: method, the URL *pattern* (never the
# path or query: a search for a name would be a client's name), status and
# duration; no user, no address. Gunicorn's own access log is off for the
# same reason (gunicorn.conf.py).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOTSE_LOG_FORMAT = env.str("LOTSE_LOG_FORMAT", default="plain" if DEBUG else "json")
if LOTSE_LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOTSE_LOG_FORMAT must be json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOTSE_LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django.server and django.request name full paths (queries included).
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # django-axes' debug lines only say which code path it took.
        "axes": {"level": "INFO"},
        # The directory libraries log user names at INFO/DEBUG.
        "django_auth_ldap": {"level": "WARNING"},
        "mozilla_django_oidc": {"level": "WARNING"},
    },
}

# --- what a case change sets off (cases.effects) ----------------------------
# Run inside the transaction of every case change, in exactly this order:
# first the notifications it causes are written to the outbox, then the
# guided work of the case is brought in step. Each takes a CaseChange.
LOTSE_CASE_CHANGE_HANDLERS = [
    "notifications.services.case_changes.notifications_for_case_change",
    "workflows.services.case_flow_sync",
    # a case that ends cancels its planned appointments
    "appointments.services.appointments_for_case_change",
]

# --- error reporting (optional) ---------------------------------------------
# With SENTRY_DSN set, unhandled errors go to Sentry (or a compatible
# service such as GlitchTip) without personal data: no user, no address,
# no cookies, no request body or query, no local variables
# (config/error_reporting.py).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.error_reporting import init_error_reporting

    init_error_reporting(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=float(env.str("SENTRY_TRACES_SAMPLE_RATE", default="0")),
    )

# --- sign-in through the organisation's directory ----------------------------
# Directory groups name Lotse roles and teams in the admin ("Directory
# groups", accounts.DirectoryGroup); a user in no mapped group is refused.
# MFA: Lotse's own second factor, unless an OIDC provider asserts one in
# the ID token (`amr` or `acr`, below).
if LOTSE_LDAP_ENABLED:
    import ldap
    from django_auth_ldap.config import (
        ActiveDirectoryGroupType,
        GroupOfNamesType,
        LDAPSearch,
        NestedActiveDirectoryGroupType,
        PosixGroupType,
    )

    AUTH_LDAP_SERVER_URI = env.str("LOTSE_LDAP_SERVER_URI")
    AUTH_LDAP_START_TLS = _bool("LOTSE_LDAP_START_TLS", False)
    AUTH_LDAP_BIND_DN = env.str("LOTSE_LDAP_BIND_DN", default="")
    AUTH_LDAP_BIND_PASSWORD = env.str("LOTSE_LDAP_BIND_PASSWORD", default="")
    AUTH_LDAP_USER_SEARCH = LDAPSearch(
        env.str("LOTSE_LDAP_USER_BASE"),
        ldap.SCOPE_SUBTREE,
        env.str("LOTSE_LDAP_USER_FILTER", default="(uid=%(user)s)"),
    )
    AUTH_LDAP_GROUP_SEARCH = LDAPSearch(
        env.str("LOTSE_LDAP_GROUP_BASE"),
        ldap.SCOPE_SUBTREE,
        env.str("LOTSE_LDAP_GROUP_FILTER", default="(objectClass=*)"),
    )
    _group_types = {
        "groupOfNames": GroupOfNamesType,
        "posixGroup": PosixGroupType,
        "activeDirectory": ActiveDirectoryGroupType,
        "nestedActiveDirectory": NestedActiveDirectoryGroupType,
    }
    _group_type = env.str("LOTSE_LDAP_GROUP_TYPE", default="groupOfNames")
    if _group_type not in _group_types:
        raise ImproperlyConfigured(
            "LOTSE_LDAP_GROUP_TYPE must be one of " + ", ".join(_group_types) + "."
        )
    AUTH_LDAP_GROUP_TYPE = _group_types[_group_type]()
    AUTH_LDAP_USER_ATTR_MAP = {"first_name": "givenName", "last_name": "sn", "email": "mail"}
    AUTH_LDAP_ALWAYS_UPDATE_USER = True
    AUTH_LDAP_FIND_GROUP_PERMS = False
    # Group memberships are read at every sign-in, never from a cache.
    AUTH_LDAP_CACHE_TIMEOUT = 0
    AUTH_LDAP_CONNECTION_OPTIONS = {
        ldap.OPT_REFERRALS: 0,
        ldap.OPT_NETWORK_TIMEOUT: _int("LOTSE_LDAP_TIMEOUT_SECONDS", 5),
    }

if LOTSE_OIDC_ENABLED:
    OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
    OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
    OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="") or None
    OIDC_USE_PKCE = _bool("OIDC_USE_PKCE", True)
    OIDC_TIMEOUT = _int("OIDC_TIMEOUT_SECONDS", 10)
# Lotse's own routes for the code flow (accounts/urls.py; 404 while off).
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:oidc_callback"
# Claims Lotse reads from the provider: the user name, the groups, and the
# methods (`amr`) or context (`acr`) that count as a second factor there.
LOTSE_OIDC_USERNAME_CLAIM = env.str("LOTSE_OIDC_USERNAME_CLAIM", default="preferred_username")
LOTSE_OIDC_GROUPS_CLAIM = env.str("LOTSE_OIDC_GROUPS_CLAIM", default="groups")
LOTSE_OIDC_MFA_AMR = env.list(
    "LOTSE_OIDC_MFA_AMR", default=["mfa", "otp", "hwk", "swk", "sc", "fido"]
)
LOTSE_OIDC_MFA_ACR = env.list("LOTSE_OIDC_MFA_ACR", default=[])

# --- Lotse domain defaults (DOMAIN.md "Lotse decisions") -------------------
# Organisation-specific overrides follow with the notifications issue; these
# are the defaults every Kreis starts with.
LOTSE_NO_SHOW_DAYS = _int("LOTSE_NO_SHOW_DAYS", 90)
LOTSE_NO_CONTACT_MONTHS = _int("LOTSE_NO_CONTACT_MONTHS", 6)
LOTSE_REVIEW_MONTHS = _int("LOTSE_REVIEW_MONTHS", 6)
LOTSE_RETENTION_YEARS = _int("LOTSE_RETENTION_YEARS", 3)
# Longest wait for the case and process row locks of a guided task before
# the user is told to try again (PostgreSQL lock_timeout).
LOTSE_LOCK_TIMEOUT_MS = _int("LOTSE_LOCK_TIMEOUT_MS", 5000)
# Days before a plan review when its task appears in the inbox.
LOTSE_REVIEW_NOTICE_DAYS = _int("LOTSE_REVIEW_NOTICE_DAYS", 14)
# Days after registration by which a handed-over case should be accepted.
LOTSE_ACCEPT_DAYS = _int("LOTSE_ACCEPT_DAYS", 7)
# Days before the regular end of the period when the extension check is due.
LOTSE_EXTENSION_CHECK_DAYS = _int("LOTSE_EXTENSION_CHECK_DAYS", 90)
# Months before the effective end from which the case page offers an
# extension request (besides the guided check task).
LOTSE_EXTENSION_REQUEST_MONTHS = _int("LOTSE_EXTENSION_REQUEST_MONTHS", 6)
# Days a supervisor has to decide an extension request (due date shown).
LOTSE_APPROVAL_DAYS = _int("LOTSE_APPROVAL_DAYS", 14)
# Days after the end of the consultation period, while an extension request
# submitted in time is still undecided (the case stays open), until the
# team's supervisors are told again as an escalation.
LOTSE_EXTENSION_ESCALATION_DAYS = _int("LOTSE_EXTENSION_ESCALATION_DAYS", 7)
# Reminders (DOMAIN.md "Clocks and reminders"): days before a plan review,
# days after it until the supervisor is told, days before the period ends.
LOTSE_REVIEW_REMINDER_DAYS = _int("LOTSE_REVIEW_REMINDER_DAYS", 14)
LOTSE_REVIEW_ESCALATION_DAYS = _int("LOTSE_REVIEW_ESCALATION_DAYS", 14)
# Days before no_contact_timeout would move a dormant case to closing when
# its manager is told ("notice, then closing"; DOMAIN.md names no number,
# the plan review's reminder lead is taken).
LOTSE_NO_CONTACT_NOTICE_DAYS = _int("LOTSE_NO_CONTACT_NOTICE_DAYS", 14)
try:
    LOTSE_PERIOD_REMINDER_DAYS = [
        int(days) for days in env.list("LOTSE_PERIOD_REMINDER_DAYS", default=["90", "30", "7"])
    ]
except ValueError:
    raise ImproperlyConfigured(
        "LOTSE_PERIOD_REMINDER_DAYS must list whole numbers of days, e.g. 90,30,7."
    ) from None
# Mail attempts of one notification before it becomes an incident.
LOTSE_NOTIFICATION_MAX_ATTEMPTS = _int("LOTSE_NOTIFICATION_MAX_ATTEMPTS", 5)
# Minutes after which a mail claimed but never confirmed (its worker died
# mid-send) becomes an incident instead of being mailed again.
LOTSE_MAIL_SENDING_STALE_MINUTES = _int("LOTSE_MAIL_SENDING_STALE_MINUTES", 15)
# The address Lotse is reached under, for links in e-mails.
LOTSE_BASE_URL = env.str("LOTSE_BASE_URL", default="http://127.0.0.1:8000")
# Longest deputy arrangement (Vertretung) in days; deputy and absent manager
# belong to the same team.
LOTSE_DEPUTY_MAX_DAYS = _int("LOTSE_DEPUTY_MAX_DAYS", 90)
LOTSE_QUALIFYING_BENEFITS = env.list("LOTSE_QUALIFYING_BENEFITS", default=["asylblg", "sgb2"])
# Largest scan of a signed consent (evidence document), in bytes.
LOTSE_EVIDENCE_MAX_BYTES = _int("LOTSE_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
# Client documents (cases.services.documents): the largest upload, and how
# many hours before an appointment its reminder goes out; an appointment
# still planned this many hours after its start becomes a no-show (sweep).
LOTSE_DOCUMENT_MAX_BYTES = _int("LOTSE_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
LOTSE_APPOINTMENT_REMINDER_HOURS = _int("LOTSE_APPOINTMENT_REMINDER_HOURS", 24)
LOTSE_APPOINTMENT_NO_SHOW_HOURS = _int("LOTSE_APPOINTMENT_NO_SHOW_HOURS", 48)
# Handover file import: largest file and most rows per upload.
LOTSE_HANDOVER_IMPORT_MAX_BYTES = _int("LOTSE_HANDOVER_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
LOTSE_HANDOVER_IMPORT_MAX_ROWS = _int("LOTSE_HANDOVER_IMPORT_MAX_ROWS", 20000)
# Files up to this size are imported in the request; larger ones by the
# worker, with progress shown, within LOTSE_IMPORT_TIME_LIMIT_SECONDS.
LOTSE_IMPORT_INLINE_MAX_BYTES = _int("LOTSE_IMPORT_INLINE_MAX_BYTES", 256 * 1024)
LOTSE_IMPORT_TIME_LIMIT_SECONDS = _int("LOTSE_IMPORT_TIME_LIMIT_SECONDS", 300)
# XLSX archives are checked before parsing (handover.limits): unpacked size
# of all parts, cells of the worksheet, characters of the longest cell.
LOTSE_IMPORT_MAX_UNPACKED_BYTES = _int("LOTSE_IMPORT_MAX_UNPACKED_BYTES", 50 * 1024 * 1024)
LOTSE_IMPORT_MAX_CELLS = _int("LOTSE_IMPORT_MAX_CELLS", 600_000)
LOTSE_IMPORT_MAX_CELL_CHARS = _int("LOTSE_IMPORT_MAX_CELL_CHARS", 5000)

# --- transfer packages between Lotse installations (transfers/) ------------
# This installation's name (as the others know it), its Ed25519 signing key
# (base64 of the raw 32 bytes, a PEM text or a PEM file's path; `manage.py
# transfer_key` makes one) and the public keys it trusts, as a JSON object
# {"installation name": "base64 public key"}. README "Transfer packages".
LOTSE_INSTALLATION_NAME = env.str("LOTSE_INSTALLATION_NAME", default="")
LOTSE_TRANSFER_SIGNING_KEY = env.str("LOTSE_TRANSFER_SIGNING_KEY", default="")
LOTSE_TRANSFER_TRUSTED_KEYS = env.json("LOTSE_TRANSFER_TRUSTED_KEYS", default={})
# The largest package file accepted for import.
LOTSE_TRANSFER_MAX_BYTES = _int("LOTSE_TRANSFER_MAX_BYTES", 5 * 1024 * 1024)


# Days after which a referral whose outcome is still open reminds its
# case's integration manager (once per referral; issue 20).
LOTSE_REFERRAL_FOLLOWUP_DAYS = _int("LOTSE_REFERRAL_FOLLOWUP_DAYS", 21)

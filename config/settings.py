"""Settings, read from the environment (twelve-factor).

With no environment at all the project runs on the *embedded default*: a SQLite file,
a filesystem Celery broker and e-mails written as files under ``VAR_DIR``. Production
sets ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL``, ``EMAIL_URL``, ``SECRET_KEY``,
``DEBUG=false`` and ``ALLOWED_HOSTS``.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The embedded default is a development set-up: without DEBUG, a real secret is required.
SECRET_KEY = env.str("SECRET_KEY", default="") or (
    "embedded-default-insecure-key-do-not-use-in-production" if DEBUG else ""
)
if not SECRET_KEY:
    raise environ.ImproperlyConfigured(
        "SECRET_KEY est obligatoire quand DEBUG est désactivé / "
        "SECRET_KEY is required when DEBUG is off."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Where the embedded default keeps its database, broker folders and e-mails.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "widget_tweaks",
    "dsfr",
    "django_fsm",
    "django_celery_beat",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "axes",
    "mozilla_django_oidc",
    "config.apps.PlatformConfig",  # the deployment's system checks (config.checks)
    "governance",
    "workflow",
    "notifications",
    "bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "config.api.api_in_french",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its response.
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
                "workflow.web.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: each gunicorn worker keeps its connection for a minute instead
# of opening one per request (PostgreSQL starts a process for each), and checks it
# before reusing it, so a restarted database costs one
# failed check, not an error.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))
# Prepared statements on PostgreSQL: a statement a worker has run five times is planned
# once and kept for its connection, rather than planned on every request. It needs the
# parameters bound by the server, and a connection that stays the worker's: behind a
# pooler in transaction mode (PgBouncer without max_prepared_statements), set
# DATABASE_PREPARED_STATEMENTS=false.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 5}
    )
# SQLite (the embedded default): the web server, the worker and beat share one file.
# Django's own options for it (docs: databases, SQLite notes):
# - WAL: reads go on while one process writes; synchronous=NORMAL is WAL's safe pairing.
# - IMMEDIATE: a transaction takes the write lock when it begins, so a writer that finds
#   the lock taken waits for it; a deferred one that read first would fail at once with
#   "database is locked", whatever the timeout.
# - timeout: how long a writer waits for the lock (SQLITE_TIMEOUT seconds).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env.int("SQLITE_TIMEOUT", default=20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "governance.User"
# django-axes first: it counts failed sign-ins (pages, API token, admin) and locks out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# French first, English available. Times are stored in UTC and shown in Europe/Paris.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language chosen in the header (Django's set_language) is kept in a cookie that no
# script reads; the catalogue itself (locale/*.mo) is compiled by `make` and the image.
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Served by whitenoise; in production with hashed names, from the manifest that
    # collectstatic writes: `check --deploy` fails while it is missing (config.checks).
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# E-mail: EMAIL_URL (smtp://user:pass@host:port, smtp+tls://…, consolemail://,
# filemail:///path). The embedded default writes each message as a file a person can read.
_email = env.email_url("EMAIL_URL", default=f"filemail://{VAR_DIR / 'mail'}")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
# django-environ drops the leading "/" of filemail:///absolute/path: put it back.
EMAIL_FILE_PATH = "/" + str(_email.get("EMAIL_FILE_PATH") or VAR_DIR / "mail").lstrip("/")
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = int(_email.get("EMAIL_PORT") or 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL", False))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Lettres de mission <ne-pas-repondre@lettres-de-mission.invalid>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery. Redis carries work when REDIS_URL is set; otherwise kombu's filesystem
# transport, which needs no server (embedded default). The database stays the source
# of truth either way: see notifications/ and DESIGN §6.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object]
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A publish must fail fast when Redis is down or hangs, never block a request.
        "socket_timeout": 3,
        "socket_connect_timeout": 3,
        "max_retries": 2,
        "visibility_timeout": 3600,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# The DSFR's checksums of its own static files; whitenoise serves them.
DSFR_USE_INTEGRITY_CHECKSUMS = True

# Security (manage.py check --deploy is clean when DEBUG is off).
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=True) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer probes over plain HTTP
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Inline style attributes (admin, e-mail-like summaries); no inline script.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# The client's address: how many proxies in front append to X-Forwarded-For and can be
# believed (0: the header is ignored; 1 behind the documented TLS proxy). The sign-in
# lockout and the API's throttles both read it through config.client_address.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)

# Sign-in throttling (django-axes): after 5 failures from one address for one account,
# 15 minutes' wait. Per (account, address): another client of that account is not locked.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.client_address.client_address"

# Sign-in through the académie's identity provider (OpenID Connect, ProConnect-compatible).
# On when OIDC_OP_AUTHORIZATION_ENDPOINT is set; local accounts remain.
OIDC_ENABLED = bool(env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default=""))
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.insert(1, "governance.oidc.AcademyOIDCBackend")
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email given_name usual_name uid")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_OP_LOGOUT_ENDPOINT", default="")
# Which claims carry the establishment (UAI) and the role, and what role values mean.
OIDC_CLAIM_USERNAME = env.str("OIDC_CLAIM_USERNAME", default="uid")
OIDC_CLAIM_UAI = env.str("OIDC_CLAIM_UAI", default="uai")
OIDC_CLAIM_ROLE = env.str("OIDC_CLAIM_ROLE", default="role")
OIDC_ROLE_MAP = env.json(
    "OIDC_ROLE_MAP",
    default={
        "DIR": "principal",
        "ADJ": "deputy",
        "ENS": "teacher",
        "DOC": "teacher",
        "principal": "principal",
        "deputy": "deputy",
        "teacher": "teacher",
    },
)

# REST API (DESIGN §7): session and token auth, errors as {code, detail, errors}.
# Hostile input (README, REST API): a body above 2.5 MiB, files apart, answers 413 on
# the API and 400 on the pages; more than 1 000 form fields, 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1_000
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an unauthenticated request a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "config.renderers.JSONRenderer",  # DRF's JSON, written by orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # DRF's parsers, with JSON's nesting depth, encoding and numbers bounded (400).
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # DRF's throttles, identifying clients by config.client_address (NUM_PROXIES says
    # the same for anything else in DRF that reads X-Forwarded-For).
    "DEFAULT_THROTTLE_CLASSES": [
        "config.client_address.AnonRateThrottle",
        "config.client_address.UserRateThrottle",
        "config.client_address.ScopedRateThrottle",
    ],
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="1200/minute"),
        "auth": env.str("API_THROTTLE_AUTH", default="10/minute"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lettres de mission — API",
    "DESCRIPTION": (
        "API v1 des lettres de mission des référents numériques (DESIGN §7). Authentification "
        "par session ou par jeton : `Authorization: Token <jeton>`, obtenu par "
        "`POST /api/v1/auth/token/`. Toutes les erreurs ont la forme `{code, detail, errors}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LetterStateEnum": "workflow.models.LetterState",
        "OpinionEnum": "workflow.models.OpinionValue",
        "RoleEnum": "governance.models.Role",
        "MissionPriorityEnum": "governance.models.MissionPriority",
        "DeliveryModeEnum": "notifications.models.DeliveryMode",
        "KindDeliveryEnum": "notifications.preferences.Delivery",
    },
}

# Links in e-mails point here. On the embedded default, the address `make run` serves
# (`PORT=8001 make run`: links on 8001; the Procfile gives its worker the web's PORT);
# in production it must be set (`check --deploy` says so: notifications/checks.py).
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")
# After a transition commits, publish a task so its e-mails and archive go at once. A
# speed-up only: the sweep does the same work if the publish fails (Redis down). The
# publish gives up after OUTBOX_KICK_TIMEOUT seconds (connecting, then each socket
# operation), and after a failure no publish is tried for OUTBOX_KICK_PAUSE seconds:
# a broker that is down or hangs never holds a request (workflow/services/writes.py).
OUTBOX_KICK_ENABLED = env.bool("OUTBOX_KICK_ENABLED", default=True)
OUTBOX_KICK_TASK = "notifications.process_outbox"
OUTBOX_KICK_TIMEOUT = env.float("OUTBOX_KICK_TIMEOUT", default=0.25)
OUTBOX_KICK_PAUSE = env.float("OUTBOX_KICK_PAUSE", default=30.0)
# E-mails are claimed EMAIL_CLAIM_BATCH at a time, for a lease of EMAIL_CLAIM_TIMEOUT
# seconds that the sender renews as it goes: the e-mails a dead worker had claimed go
# out at the next sweep (every minute), whatever the size of the batch.
EMAIL_CLAIM_BATCH = env.int("EMAIL_CLAIM_BATCH", default=10)
EMAIL_CLAIM_TIMEOUT = env.int("EMAIL_CLAIM_TIMEOUT", default=45)

# Business rules (DESIGN §5). Académies differ, so the envelope bounds and the
# décharge conversion rate are settings; the IMP rates themselves are fixed by the
# arrêté du 27 avril 2015 and live in governance/imp.py.
IMP_ENVELOPE_MIN = Decimal(env.str("IMP_ENVELOPE_MIN", default="1250.00"))
IMP_ENVELOPE_MAX = Decimal(env.str("IMP_ENVELOPE_MAX", default="3750.00"))
DECHARGE_HOUR_RATE = Decimal(env.str("DECHARGE_HOUR_RATE", default="1250.00"))

# The seal (workflow/audit/seal.py): a letter in force is sealed as a PAdES PDF with the
# service's certificate and key (a PKCS#12 file and its passphrase) and timestamped by an
# RFC 3161 authority. With no PKCS#12 path and no authority URL, the development seal
# that `make_dev_seal` writes in SEAL_DIR signs and timestamps locally; production
# without both refuses to start (`check --deploy`, workflow.checks).
SEAL_DIR = Path(env.str("SEAL_DIR", default=str(VAR_DIR / "seal")))
SEAL_PKCS12_PATH = env.str("SEAL_PKCS12_PATH", default="")
SEAL_PKCS12_PASSPHRASE = env.str("SEAL_PKCS12_PASSPHRASE", default="")
SEAL_TSA_URL = env.str("SEAL_TSA_URL", default="")
SEAL_TSA_TIMEOUT = env.int("SEAL_TSA_TIMEOUT", default=10)
# The authority's root certificates (a PEM file), against which its timestamps are
# checked (the seal's and the audit's, workflow/audit/timestamps.py): kept outside the
# database, so that whoever holds it cannot slip in tokens of their own.
SEAL_TSA_TRUST_ROOTS = env.str("SEAL_TSA_TRUST_ROOTS", default="")
# Pages of the public check (/verifier/) one client address may open a minute.
VERIFY_RATE_PER_MINUTE = env.int("VERIFY_RATE_PER_MINUTE", default=30)
# The cache that counts them (the only use of Django's cache). With CACHE_URL, a Redis
# database of its own (``redis://host:6379/2``, not the broker's), every worker counts
# together; without, each process counts on its own (the embedded default).
CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "lettres",
            # A cache that hangs must not hold the page: the limiter lets it through.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }

# Demo accounts have a known password: never load them outside a development set-up.
ALLOW_DEMO_DATA = env.bool("ALLOW_DEMO_DATA", default=DEBUG)
# The benchmark's generated data set (bench_data): thousands of accounts whose password
# is "bench". Never on by default, not even in development.
ALLOW_BENCH_DATA = env.bool("ALLOW_BENCH_DATA", default=False)

# The embedded default keeps its files under VAR_DIR: make the folders it uses.
if not env.str("DATABASE_URL", default=""):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
if not REDIS_URL:
    (VAR_DIR / "broker").mkdir(parents=True, exist_ok=True)
if EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
    Path(EMAIL_FILE_PATH).mkdir(parents=True, exist_ok=True)

# LOG_FORMAT=json: one JSON object a line, for the log collector (production images).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # PDF rendering logs every step and every font subset at INFO.
    "loggers": {
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

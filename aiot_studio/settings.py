"""The one settings module. Every setting comes from the environment through the typed helpers
below, which fail loudly on a bad value; with no variables set you get the embedded default
(SQLite under ./var; the run command `aiot studio` provides Redis and MQTT URLs to its processes).

Production: DATABASE_URL (PostgreSQL), REDIS_URL (Celery broker and result store, channel
layer), MQTT_URL (the broker the agents use), AIOT_SECRET_KEY, AIOT_ALLOWED_HOSTS.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: expected true or false")


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: expected an integer") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    return default if value is None else [v.strip() for v in value.split(",") if v.strip()]


DATA_DIR = Path(env_str("AIOT_DATA_DIR", str(BASE_DIR / "var")))
DEBUG = env_bool("AIOT_DEBUG", False)


def _secret_key() -> str:
    key = env_str("AIOT_SECRET_KEY")
    if key:
        return key
    # Embedded default: one key per data folder, made once.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("AIOT_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("AIOT_CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "blueprints.api.errors.csrf_failure"  # JSON under /api/, Django's page elsewhere

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "blueprints",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "blueprints.api.middleware.RejectUnstorableText",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "aiot_studio.urls"
ASGI_APPLICATION = "aiot_studio.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'studio.sqlite3'}"), conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes share the file: wait for locks rather than fail, write-ahead log for readers.
    # IMMEDIATE: a transaction takes the write lock when it begins, so two processes never deadlock
    # upgrading a read to a write (SQLite would answer "database is locked" at once).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if env_str("AIOT_TEST_DB_NAME"):  # tests: a file, so that a test's worker processes share it
    DATABASES["default"]["TEST"] = {"NAME": env_str("AIOT_TEST_DB_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env_str("AIOT_STATIC_ROOT")  # only for `collectstatic` behind a separate web server
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS = [FRONTEND_DIST] if FRONTEND_DIST.is_dir() else []
WHITENOISE_USE_FINDERS = True  # serve the built frontend without a collectstatic step

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("AIOT_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Request bodies: 16 MiB at most (traces, models); the API narrows it per endpoint.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024
API_MAX_BODY_BYTES = env_int("AIOT_API_MAX_BODY_BYTES", 2 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "blueprints.api.auth.BearerTokenAuthentication",
        "blueprints.api.auth.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["blueprints.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "blueprints.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "blueprints.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AIoT Studio API",
    "DESCRIPTION": "Rule graphs, blueprints, bundles, devices and alerts. See docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "blueprints.api.schema.document_refused_text",
    ],
}

# Redis: Celery's broker and result store, and the channel layer. Without it (unit tests, one-off
# management commands) the channel layer is in-memory and reaches only its own process.
REDIS_URL = env_str("REDIS_URL")
# Keys in a shared Redis are prefixed, so that several studios (or test runs) can share one.
REDIS_PREFIX = env_str("AIOT_REDIS_PREFIX", "aiot")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # A consumer waits for its next message with BZPOPMIN for 5 s (channels-redis'
                # brpop_timeout); redis-py's default read timeout, also 5 s, would cut that wait
                # and crash every idle WebSocket. Reads get a margin; connecting stays quick.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "socket_connect_timeout": 5}],
                "prefix": REDIS_PREFIX,
                "capacity": 1000,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
CELERY_TASK_ALWAYS_EAGER = env_bool("AIOT_CELERY_EAGER", not REDIS_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task whose worker died unacknowledged is handed to another worker after this many seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("AIOT_CELERY_VISIBILITY_TIMEOUT", 600),
    "global_keyprefix": f"{REDIS_PREFIX}:",
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_PREFIX}:"}

# Fault injection for tests and drills only: each task step sleeps this long (default 0).
TASK_STEP_DELAY_S = float(env_str("AIOT_TASK_STEP_DELAY_S", "0"))

MQTT_URL = env_str("MQTT_URL", "mqtt://127.0.0.1:1883")
# Where agents download bundles from (the studio's own address, as the devices see it).
PUBLIC_URL = env_str("AIOT_PUBLIC_URL", "http://127.0.0.1:8000")
SIGNING_KEY_PATH = Path(env_str("AIOT_STUDIO_SIGNING_KEY", str(DATA_DIR / "studio-signing.key")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("AIOT_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

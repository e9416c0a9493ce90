"""Prospector settings: everything comes from the environment (see .env.example).

Defaults suit a bare development machine (SQLite, database cache, ORM queue, console mail);
production sets DEBUG off, SECRET_KEY, DATABASE_URL, ALLOWED_HOSTS and mail.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_str,
    mailer_from_env,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# pytest sets PYTEST_VERSION in the environment for the whole run.
TESTING = bool(os.environ.get("PYTEST_VERSION")) or "pytest" in Path(sys.argv[0]).name

DEBUG = env_bool("DEBUG", False)
# Without DEBUG a SECRET_KEY is required: the web and worker entry points refuse to start
# (config.env.require_secret_key), while offline commands such as makemigrations still run.
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY and (DEBUG or TESTING):
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG or TESTING else []
)
if TESTING:
    ALLOWED_HOSTS.append("testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "config.apps.ProspectorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "django_htmx",
    "accounts",
    "leads",
    "enrichment",
    "campaigns",
    "agents",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.StaffMfaMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.organization",
                "leads.context_processors.saved_views",
            ],
        },
    },
]

# Database: SQLite by default, PostgreSQL (or anything dj-database-url reads) from DATABASE_URL.
# Connections persist with health checks: opening one per request costs 3-4x in API throughput.
DATABASES = {
    "default": dj_database_url.parse(
        # env_str: DATABASE_URL_FILE works too, for a URL that carries a password.
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 600, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets the web process read while the worker writes.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # Shared by every web and worker process: rate limits and queue stats live here.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "prospector_cache",
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env_choice(
    "ACCOUNT_EMAIL_VERIFICATION", "optional", {"none", "optional", "mandatory"}
)
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Prospector] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Prospector"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Prospector <no-reply@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

MAILERS = {"default": mailer_from_env(BASE_DIR, DEBUG)}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# A prefix of its own: unset, it is "/", and DEBUG's media route would swallow every URL
# nothing else matches (HTML 404s and CSRF 403s under /api/ instead of the error shape).
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "var" / "media"
# Development and tests serve static files straight from the app folders (no collectstatic).
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# Request size: bodies above this are refused (413 through the API).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 2_621_440, minimum=1024)

# Security: safe by default when DEBUG is off.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and not TESTING)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG and not TESTING)
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG or TESTING else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Off by default, as hstspreload.org asks of projects that ship HSTS settings: preloading is
# hard to undo and covers every subdomain. So check --deploy's reminder (W021) is silenced.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Load balancers probe over plain HTTP inside the network: no redirect for the probes.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Django REST framework
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.api_auth.KeyAuthentication",
        "config.api_auth.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api_auth.HasOrganizationAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["config.api_auth.KeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.api.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )
SPECTACULAR_SETTINGS = {
    "TITLE": "Prospector API",
    "DESCRIPTION": (
        "B2B prospecting: leads, companies, enrichment, agents and campaigns. Authenticate with "
        "`Authorization: Bearer <api key or token>` or `X-API-Key: <api key>`. Every error is "
        '`{"error": {"code", "message", "details", "request_id"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
    },
    "SECURITY": [{"bearer": []}, {"apiKey": []}],
}

# Rate limits (django-ratelimit on the shared cache). Rates are "count/period" (s, m, h, d).
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY") or None
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
LOGIN_RATE_LIMIT = env_rate("LOGIN_RATE_LIMIT", "10/m")
SIGNUP_RATE_LIMIT = env_rate("SIGNUP_RATE_LIMIT", "10/h")
API_RATE_LIMIT = env_rate("API_RATE_LIMIT", "600/m")
# Submissions to one public lead-capture form endpoint per client IP.
FORM_RATE_LIMIT = env_rate("FORM_RATE_LIMIT", "30/m")

# Personal API tokens from POST /api/v1/auth/token.
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 24 * 30, minimum=1)
INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 14, minimum=1)

# Outbound HTTP: named private hosts allowed for tests and development only.
FETCH_ALLOW_HOSTS = env_list("FETCH_ALLOW_HOSTS")
# The web fetcher (enrichment.outside.fetcher()): an honest User-Agent whose product token
# robots.txt rules are matched against, caps, politeness and the response cache.
FETCH_USER_AGENT = env_str("FETCH_USER_AGENT", f"ProspectorBot/1.0 (+{SITE_URL}/bot)")
FETCH_MAX_BYTES = env_int("FETCH_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
FETCH_TIMEOUT_CONNECT = env_float("FETCH_TIMEOUT_CONNECT", 5.0, minimum=0.01)
FETCH_TIMEOUT_READ = env_float("FETCH_TIMEOUT_READ", 10.0, minimum=0.01)
FETCH_CACHE_TTL = env_int("FETCH_CACHE_TTL", 86_400, minimum=0)
FETCH_PER_HOST_LIMIT = env_int("FETCH_PER_HOST_LIMIT", 2, minimum=1)
FETCH_PER_HOST_DELAY = env_float("FETCH_PER_HOST_DELAY", 0.5, minimum=0)
FETCH_MAX_RETRIES = env_int("FETCH_MAX_RETRIES", 2, minimum=0)
FETCH_RESPECT_ROBOTS = env_bool("FETCH_RESPECT_ROBOTS", True)
# Search providers, used in this order when configured (none: search steps are skipped).
BRAVE_API_KEY = env_str("BRAVE_API_KEY")
BRAVE_API_URL = env_str("BRAVE_API_URL", "https://api.search.brave.com/res/v1").rstrip("/")
SEARXNG_URL = env_str("SEARXNG_URL").rstrip("/")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 15, minimum=1)

# django-q2: finite attempts, timeout below retry, work enqueued only after commit.
Q_CLUSTER = {
    "name": "prospector",
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": env_int("Q_TIMEOUT", 300, minimum=10),
    "retry": env_int("Q_TIMEOUT", 300, minimum=10) + 60,
    "max_attempts": 3,
    "ack_failures": True,
    "save_limit": 1000,
    "catch_up": False,
    "sync": env_bool("Q_SYNC", TESTING),
    "label": "Task queue",
}
if REDIS_URL and env_bool("Q_USE_REDIS", False):
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
if Q_CLUSTER["timeout"] >= Q_CLUSTER["retry"]:
    raise ImproperlyConfigured("Q_CLUSTER timeout must be below retry.")

LOG_LEVEL = env_choice("LOG_LEVEL", "info", {"debug", "info", "warning", "error"}).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Our request line replaces Django's own.
        "django.server": {"handlers": [], "level": "ERROR", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

# DNS servers for sender domain checks (host or host:port, comma separated); empty: the
# system's resolver.
DNS_NAMESERVERS = env_list("DNS_NAMESERVERS")

# Secrets at rest (AI keys, SMTP passwords): Fernet keys, newest first (accounts.crypto).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")

# AI (agents.llm): the default fallback chain, install-wide keys and models, the price table
# and the limits every agent run keeps.
AI_PROVIDERS = env_list("AI_PROVIDERS", ["openai", "anthropic", "offline"])
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL") or None
OPENAI_MODEL = env_str("OPENAI_MODEL", "gpt-4.1-mini")
ANTHROPIC_API_KEY = env_str("ANTHROPIC_API_KEY")
ANTHROPIC_BASE_URL = env_str("ANTHROPIC_BASE_URL") or None
ANTHROPIC_MODEL = env_str("ANTHROPIC_MODEL", "claude-haiku-4-5")
AI_PRICES_FILE = env_str("AI_PRICES_FILE", str(BASE_DIR / "config" / "ai_prices.toml"))
AI_TIMEOUT_SECONDS = env_float("AI_TIMEOUT_SECONDS", 60.0, minimum=1)
AI_MAX_RETRIES = env_int("AI_MAX_RETRIES", 2, minimum=0)
AI_MAX_TOKENS = env_int("AI_MAX_TOKENS", 1500, minimum=64)
AI_MONTHLY_BUDGET_CENTS = env_int("AI_MONTHLY_BUDGET_CENTS", 5000, minimum=0)
AGENT_MAX_STEPS = env_int("AGENT_MAX_STEPS", 12, minimum=2)
AGENT_TIME_LIMIT_SECONDS = env_int("AGENT_TIME_LIMIT_SECONDS", 180, minimum=10)
AGENT_WEB_TEXT_BUDGET = env_int("AGENT_WEB_TEXT_BUDGET", 6000, minimum=500)
AGENT_BULK_MAX_LEADS = env_int("AGENT_BULK_MAX_LEADS", 200, minimum=1)

# Enrichment jobs (enrichment.jobs): companies researched at once per job, the most one job
# takes, the page text kept per page for the reconciler (and later an AI model), and how long
# one worker task runs before handing the rest of its job to a fresh task.
ENRICH_CONCURRENCY = env_int("ENRICH_CONCURRENCY", 32, minimum=1)
ENRICH_MAX_COMPANIES = env_int("ENRICH_MAX_COMPANIES", 1000, minimum=1)
ENRICH_TEXT_BUDGET = env_int("ENRICH_TEXT_BUDGET", 20_000, minimum=1000)
# The synchronous `POST /api/v1/enrichment/enrich/`: steps not started within this many
# seconds are skipped (what was found is still answered).
ENRICH_SYNC_SECONDS = env_int("ENRICH_SYNC_SECONDS", 30, minimum=1)
ENRICH_TASK_SECONDS = env_int("ENRICH_TASK_SECONDS", max(Q_CLUSTER["timeout"] - 60, 30), minimum=10)

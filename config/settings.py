"""Settings for the debate annotator, driven by environment variables.

Every knob is read from the environment (or a `.env` file in the repository root); the README lists
them. Defaults suit a developer's machine: embedded SQLite under `var/`, DEBUG off unless asked for.
`DJANGO_PRODUCTION=true` (set by `make serve`) switches to what a real deployment needs: PostgreSQL and a
real secret key or no start at all, persistent connections, collected and fingerprinted static files,
HTTPS-only cookies and redirects behind a TLS proxy, and a cache shared by every server process.
"""

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

# Lets classes such as ModelAdmin[Article] be written at runtime, as the type stubs describe them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

PRODUCTION = env.bool("DJANGO_PRODUCTION", default=False)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
DEVELOPMENT_SECRET_KEY = "django-insecure-development-key-not-for-production"
# The fallback key is for development and tests only; production refuses to start without a real one.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DJANGO_DEBUG must be off in production (DJANGO_PRODUCTION=true)")
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured(
            "production needs DJANGO_SECRET_KEY: a long random string shared by every server, e.g. the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "whitenoise.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "axes",
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "debate",
    "annotations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the request's data: text the database cannot store (NUL, lone surrogates) is a 400
    # and a body over DATA_UPLOAD_MAX_MEMORY_SIZE a 413, for every view at once.
    "config.middleware.RefuseUnstorableInput",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.views.AppErrorPages",  # the app's 403 and 404 pages, also under DEBUG
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a login refused for too many failures into the 429 answer.
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
                "annotations.context_processors.roles",
            ],
        },
    },
]

if PRODUCTION and not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured(
        "production needs DATABASE_URL pointing at PostgreSQL, e.g. postgres://USER:PASSWORD@HOST:5432/debate"
    )
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if PRODUCTION and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        f"production runs on PostgreSQL only, but DATABASE_URL selects {DATABASES['default']['ENGINE']}; "
        "several app servers cannot share an embedded database"
    )
# Production keeps each worker's connection open across requests: a new PostgreSQL connection costs a few ms.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600 if PRODUCTION else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_MAX_AGE"] != 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Starting parallel workers costs PostgreSQL several milliseconds: more than it saves on the small queries
    # of a web request (a page's count, say). Only queries estimated far costlier than that still go parallel.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = env.str(
        "DATABASE_PG_OPTIONS", default="-c parallel_setup_cost=10000"
    )
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=PRODUCTION):
        # A statement a connection has run five times is kept prepared on the server: PostgreSQL then skips
        # parsing and planning it, most of its work for the short queries of a label write. (Needs
        # server-side parameter binding; not behind a transaction-mode connection pooler.)
        DATABASES["default"]["OPTIONS"] |= {"server_side_binding": True, "prepare_threshold": 5}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while the importer writes; the timeout rides out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login limits (django-axes, its attempts in the shared database so that every app server sees them). A
# client is locked out of an account after LOGIN_FAILURES_PER_ACCOUNT_AND_CLIENT wrong passwords, out of
# every account after LOGIN_FAILURES_PER_CLIENT, and an account is closed to every client after
# LOGIN_FAILURES_PER_ACCOUNT (a guess spread over many addresses), each until LOGIN_LOCKOUT_MINUTES have passed
# since the last counted failure. A locked-out attempt is refused before any password is hashed and writes
# nothing. `manage.py axes_reset_username NAME` (or `axes_reset_ip ADDRESS`) lifts a lockout early.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMITS = {
    ("username", "ip_address"): env.int("LOGIN_FAILURES_PER_ACCOUNT_AND_CLIENT", default=5),
    ("ip_address",): env.int("LOGIN_FAILURES_PER_CLIENT", default=20),
    ("username",): env.int("LOGIN_FAILURES_PER_ACCOUNT", default=50),
}
AXES_LOCKOUT_PARAMETERS = [list(parameters) for parameters in LOGIN_FAILURE_LIMITS]
AXES_HANDLER = "config.login_limits.LoginLimitsHandler"
AXES_FAILURE_LIMIT = min(LOGIN_FAILURE_LIMITS.values())  # the handler scales each count to this one limit
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a refused attempt writes nothing: cheap to refuse
AXES_LOCKOUT_CALLABLE = "config.login_limits.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.login_limits.client_ip"
AXES_VERBOSE = False
# Proxies in front of the app servers that append the client's address to X-Forwarded-For; the client is the
# address the last of them saw. `make serve` expects one TLS proxy on the same host.
TRUSTED_PROXIES = env.int("DJANGO_TRUSTED_PROXIES", default=1 if PRODUCTION else 0)

# API tokens (django-rest-knox): only a SHA-512 digest is stored; each expires; POST /api/auth/logout/ revokes
# the token it is sent with, /api/auth/logout-all/ (or `manage.py revoke_tokens NAME`) all of a user's, and
# a password change revokes them all too.
# A verified token is remembered this long in the shared cache (config/tokens.py); revocation reaches it at
# once. Off when the cache is this process's memory, which another process's revocation cannot reach.
API_TOKEN_CACHE_SECONDS_DEFAULT = 60
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_DAYS", default=30)),
    "AUTH_HEADER_PREFIX": "Token",
}

# Password reset mails a link, so it is served only when mail is set up (EMAIL_URL, e.g.
# smtp+tls://USER:PASSWORD@HOST:587); without it /accounts/password_reset/ is not there (404).
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
    DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="webmaster@localhost")

# Content-Security-Policy on every response (django-csp): scripts, styles, images and fonts from this site
# only, no inline script and no eval (htmx runs with allowEval off), nothing may frame the pages. Style
# *attributes* stay allowed: the templates set a few CSS variables in them (`style="--depth: 3"`), numbers
# they compute, never text a user wrote; <style> elements and stylesheets from elsewhere are refused.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Background jobs: Django's tasks API (django-tasks backport), tasks stored in this database and run by
# `manage.py worker` (`make worker`; `make run` starts one beside the development server).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
JOB_POLL_SECONDS = env.float(
    "JOB_POLL_SECONDS", default=1.0 if DATABASES["default"]["ENGINE"].endswith("postgresql") else 0.25
)
JOB_PROGRESS_SECONDS = env.float("JOB_PROGRESS_SECONDS", default=0.25)
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=2.0)
JOB_HEARTBEAT_TIMEOUT = env.float("JOB_HEARTBEAT_TIMEOUT", default=30.0)
IMPORT_JOB_ATTEMPTS = env.int("IMPORT_JOB_ATTEMPTS", default=3)
# How often (seconds) each process counts a topic's consensus labels after a label write, to queue the training
# of its suggestion model when `retrain_every` new ones came in (annotations.suggestions.jobs.train_when_due).
SUGGESTION_CHECK_SECONDS = env.float("SUGGESTION_CHECK_SECONDS", default=10.0)
IMPORT_MAX_FILES = env.int("IMPORT_MAX_FILES", default=100)
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=64 * 1024 * 1024)
# Uploads stay in memory (never a temporary file) and go to the database; IMPORT_MAX_BYTES bounds them.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024  # the handler ignores larger requests' files
DATA_UPLOAD_MAX_NUMBER_FILES = IMPORT_MAX_FILES + 1  # the import API answers one more with its own 400
# Dataset releases: immutable files under here, served by the app (FileResponse) to those allowed.
RELEASES_ROOT = Path(env.str("RELEASES_ROOT", default=str(VAR_DIR / "releases")))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Collected files (`make serve`) are served from STATIC_ROOT; without it, whitenoise finds them in place.
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static") if PRODUCTION else "") or None
WHITENOISE_USE_FINDERS = STATIC_ROOT is None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Fingerprinted, compressed copies that browsers may cache for ever; `collectstatic` must have run.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Nothing a request leaves behind may live in one process's memory: another worker, or another server,
# answers the next request. Sessions are database rows; the cache is Redis, else a database table.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
elif PRODUCTION:
    # `make serve` creates the table (manage.py createcachetable).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
_SHARED_CACHE = not CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache"))
API_TOKEN_CACHE_SECONDS = env.int(
    "API_TOKEN_CACHE_SECONDS", default=API_TOKEN_CACHE_SECONDS_DEFAULT if _SHARED_CACHE else 0
)

if PRODUCTION:
    # Behind a TLS-terminating proxy on the same host (gunicorn binds 127.0.0.1): the proxy says which
    # requests came in over HTTPS, and anything else is redirected there. Health checks stay plain HTTP.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # A documented switch turned off silences exactly the deployment check that warns about it, and `make
    # serve` says at start-up what is off (SWITCHED_OFF: check id -> what that means).
    SWITCHED_OFF = {
        check: meaning
        for check, is_off, meaning in [
            (
                "security.W008",
                not SECURE_SSL_REDIRECT,
                "DJANGO_SECURE_SSL_REDIRECT=false: plain HTTP is not redirected to HTTPS",
            ),
            ("security.W004", not SECURE_HSTS_SECONDS, "DJANGO_HSTS_SECONDS=0: no Strict-Transport-Security header"),
            (
                "security.W005",
                bool(SECURE_HSTS_SECONDS) and not SECURE_HSTS_INCLUDE_SUBDOMAINS,
                "DJANGO_HSTS_INCLUDE_SUBDOMAINS=false: HSTS leaves subdomains out",
            ),
            (
                "security.W021",
                bool(SECURE_HSTS_SECONDS) and not SECURE_HSTS_PRELOAD,
                "DJANGO_HSTS_PRELOAD=false: HSTS without preload",
            ),
        ]
        if is_off
    }
    SILENCED_SYSTEM_CHECKS = list(SWITCHED_OFF)

REST_FRAMEWORK = {
    # Token first, so that an anonymous API request is answered 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.drf.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.drf.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["config.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "config.drf.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": TRUSTED_PROXIES,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Debate annotator API",
    "DESCRIPTION": "Threaded debates, their reply links, and stance annotations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The errors every endpoint may answer, and what blind annotation leaves out (config/schema.py).
    "ENUM_NAME_OVERRIDES": {"StanceEnum": "annotations.vocabulary.STANCE_VALUES"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.schema.document_errors"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING").upper()},
}

"""Django settings. Every knob comes from the environment (see the README's configuration table)."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from spyglass.lib import config, replicas
from spyglass.lib.rates import parse_rates

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = config.data_dir()
SECRET_KEY = config.secret_key(DATA_DIR)
DEBUG = config.env_bool("SPYGLASS_DEBUG", False)
BASE_URL = config.base_url(config.env("SPYGLASS_BASE_URL"))
ALLOWED_HOSTS = [h.strip() for h in (config.env("SPYGLASS_ALLOWED_HOSTS") or "127.0.0.1,localhost,[::1]").split(",")]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "spyglass.web.staticfiles.StaticFilesConfig",  # django.contrib.staticfiles, collecting only what is served
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "spyglass.accounts",
    "spyglass.monitoring",
    "spyglass.liveshares",
    "spyglass.dashboards",
    "spyglass.results_ui",
    "spyglass.api",
    "spyglass.mail",
    "spyglass.telemetry",
    "spyglass.sharing",
    "spyglass.streams",
    "django_htmx",
    "spyglass.web",
]

MIDDLEWARE = [
    "spyglass.telemetry.middleware.RequestCountMiddleware",  # outermost: counts every answer, by status
    "spyglass.api.middleware.RateLimitHeadersMiddleware",
    "spyglass.api.middleware.BodySizeLimitMiddleware",
    "spyglass.api.middleware.DatabaseUnavailableMiddleware",  # 503 with Retry-After while the database is away
    "spyglass.sharing.middleware.ShareHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "spyglass.web.staticfiles.WhiteNoiseMiddleware",  # collects the static files first when their sources changed
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # After host validation, the security headers and Content-Length; before the rest (docs in the module).
    "spyglass.api.agent.upload.AgentUploadMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "spyglass.lib.security_headers.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "spyglass.urls"
WSGI_APPLICATION = "spyglass.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "spyglass.web.context.navigation",
            ]
        },
    }
]

DATABASES = {"default": config.database(config.env("DATABASE_URL"), DATA_DIR)}
if config.env("SPYGLASS_TEST_DB_NAME"):
    # Lets two test runs share one PostgreSQL server without clobbering each other's test database.
    DATABASES["default"]["TEST"] = {"NAME": config.env("SPYGLASS_TEST_DB_NAME")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while a writer writes; IMMEDIATE transactions avoid "database is locked" upgrades.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )

# Streaming replicas for the reads that ask for one (spyglass/lib/replicas.py): "replica", "replica_2", …
for _index, _replica in enumerate(
    config.read_databases(config.env(config.READ_DATABASE_VARIABLE), DATABASES["default"], DATA_DIR)
):
    DATABASES[replicas.alias_name(_index)] = _replica
DATABASE_ROUTERS = ["spyglass.lib.replicas.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
# Collected by every process that serves, before it serves, when the sources changed (spyglass/web/staticfiles.py).
STATIC_ROOT = config.static_root(DATA_DIR)
# Hashed names, gzip and brotli beside each file; whitenoise serves hashed names with a year's immutable cache.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "spyglass.web.staticfiles.StaticStorage"},
}
WHITENOISE_USE_FINDERS = False  # only what was collected is served (the finders would serve every file of a package)
# Browser libraries come from the npm registry (package.json + package-lock.json, `npm ci` in scripts/bootstrap.sh)
# and are collected from node_modules: never copied into the repository, never loaded from a CDN.
STATICFILES_DIRS = [
    ("vendor/uplot", PROJECT_DIR / "node_modules" / "uplot" / "dist"),
    # The Path Visualization view's layered layout (docs/path-visualization.md says why ELK).
    ("vendor/elkjs", PROJECT_DIR / "node_modules" / "elkjs" / "lib"),
    # The dashboard's drag and drop of widgets.
    ("vendor/sortablejs", PROJECT_DIR / "node_modules" / "sortablejs"),
]

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/tests/"
LOGOUT_REDIRECT_URL = "/login/"

DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
MAX_REQUEST_BODY = 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

_email = config.email_settings(config.env("SPYGLASS_EMAIL_URL"), DATA_DIR)
globals().update(_email)
DEFAULT_FROM_EMAIL = config.env("SPYGLASS_EMAIL_FROM", "spyglass@localhost")

RETENTION_DAYS = config.env_int("SPYGLASS_RETENTION_DAYS", 90, minimum=1)
API_RATE_LIMIT_PER_MINUTE = config.env_int("SPYGLASS_API_RATE_LIMIT", 240, minimum=1)
FAILED_LOGIN_LIMIT_PER_HOUR = config.env_int("SPYGLASS_FAILED_LOGIN_LIMIT", 120, minimum=1)
# Reverse proxies whose X-Forwarded-For names the client (spyglass.lib.addresses); none by default.
TRUSTED_PROXIES = config.env_networks("SPYGLASS_TRUSTED_PROXIES")
DATA_PAGE_ROWS = config.env_int("SPYGLASS_DATA_PAGE_ROWS", 10000, minimum=10)

# Snapshots (spyglass.sharing): creation limit per organization, share link address, expiry ceiling, comment limit.
try:
    SNAPSHOT_RATE = parse_rates(config.env("SPYGLASS_SNAPSHOT_RATE", "5/5m,10/1h"))
except ValueError as exc:
    raise ImproperlyConfigured(f"SPYGLASS_SNAPSHOT_RATE: {exc}") from None
SHARE_URL_TEMPLATE = config.env("SPYGLASS_SHARE_URL_TEMPLATE")  # e.g. https://{linkId}.share.example.com/
if SHARE_URL_TEMPLATE and (
    SHARE_URL_TEMPLATE.count("{linkId}") != 1 or not SHARE_URL_TEMPLATE.startswith(("http://", "https://"))
):
    raise ImproperlyConfigured(
        "SPYGLASS_SHARE_URL_TEMPLATE must be an http(s) URL containing {linkId} once, "
        "such as https://{linkId}.share.example.com/"
    )
SNAPSHOT_MAX_EXPIRY_DAYS = config.env_int("SPYGLASS_SNAPSHOT_MAX_EXPIRY_DAYS", 0)  # 0 = "never" allowed

# Served over HTTPS (README, "Deploying behind HTTPS"): cookies only over HTTPS, HSTS, and the origins browsers send
# with a form (sign-in, every signed-in form, on the app's host or the share domain) trusted even when a proxy that
# ends TLS makes the request look like plain HTTP to Django. X-Forwarded-Proto is never trusted: nothing here depends
# on request.is_secure().
HTTPS = BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = config.env_int("SPYGLASS_HSTS_SECONDS", 31536000 if HTTPS else 0)  # sent by lib.security_headers
if SECURE_HSTS_SECONDS and not HTTPS:
    raise ImproperlyConfigured("SPYGLASS_HSTS_SECONDS needs an https:// SPYGLASS_BASE_URL (0 disables HSTS)")
_share_origin = config.share_origin(SHARE_URL_TEMPLATE) if SHARE_URL_TEMPLATE else None
CSRF_TRUSTED_ORIGINS = [config.origin(BASE_URL)] + ([_share_origin] if _share_origin else [])
COMMENT_LIMIT_PER_HOUR = config.env_int("SPYGLASS_COMMENT_LIMIT", 20, minimum=1)
SHARE_MISS_LIMIT_PER_MINUTE = config.env_int("SPYGLASS_SHARE_MISS_LIMIT", 100, minimum=1)
# /metrics (Prometheus): off unless set; then the Bearer token a scraper must send.
METRICS_TOKEN = config.metrics_token(config.env("SPYGLASS_METRICS_TOKEN"))

# Streams (spyglass.streams, docs/streams.md): plain http allowed, the private networks a stream may reach, how long
# one export may take, and how long after a round's interval its rows are awaited before it is pushed.
STREAM_ALLOW_HTTP = config.env_bool("SPYGLASS_STREAM_ALLOW_HTTP", False)
STREAM_ALLOWED_NETWORKS = config.env_networks("SPYGLASS_STREAM_ALLOWED_NETWORKS")
STREAM_TIMEOUT_SECONDS = config.env_int("SPYGLASS_STREAM_TIMEOUT", 10, minimum=1)
STREAM_DELAY_SECONDS = config.env_int("SPYGLASS_STREAM_DELAY", 60)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["spyglass.api.auth.TokenAuthentication", "spyglass.api.auth.SessionAuth"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["spyglass.api.formats.V6JSONRenderer", "spyglass.api.formats.V6XMLRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "spyglass.api.formats.V6JSONParser",
        "spyglass.api.formats.V6XMLParser",
        "spyglass.api.formats.V6XMLApplicationParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "spyglass.api.formats.V6ContentNegotiation",
    "EXCEPTION_HANDLER": "spyglass.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "spyglass API",
    "DESCRIPTION": "ThousandEyes v6 compatible API of spyglass, plus snapshots and live shares.",
    "VERSION": "6",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "spyglass.api.schema.add_error_responses",
    ],
}

LOG_LEVEL = config.env_choice("SPYGLASS_LOG_LEVEL", "WARNING", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
# Every line goes through one handler with the redaction filter (spyglass/lib/redact.py); gunicorn's own loggers get
# the same filter in spyglass/appserver.py. Django's own loggers are named so that the handlers Django's defaults gave
# them (unfiltered: "django" prints when SPYGLASS_DEBUG is on, "django.server" always) are dropped: their lines reach
# the root handler instead.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "spyglass.lib.redact.RedactSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "loggers": {
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "propagate": True},  # runserver's request lines
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

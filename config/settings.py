"""Wangge settings: one file, read from the environment, safe defaults for a laptop.

Every value a deployment changes comes from an environment variable; with none set the
project runs on SQLite under ./var/ in DEBUG mode with a development SECRET_KEY that the
system check `wangge.W001/E001` refuses once DEBUG is off.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WANGGE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def env_bool(name: str, default: bool) -> bool:
    """A yes/no variable. Anything but the words below is refused rather than read as false:
    `DEBUG=flase` or an empty `DEBUG=` must not quietly change how the server runs."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    from django.core.exceptions import ImproperlyConfigured

    accepted = ", ".join(sorted(TRUE_WORDS) + sorted(FALSE_WORDS))
    raise ImproperlyConfigured(f"{name}={value!r} is not a yes/no value; use one of: {accepted} (any case)")


DEBUG = env_bool("DEBUG", True)


def _development_secret_key() -> str:
    """A random key made once per checkout under var/ (never in the code), for DEBUG runs only."""
    import secrets

    path = VAR_DIR / "development-secret-key"
    try:
        # O_EXCL: two processes starting at once (test workers) agree on one key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        import time

        for _ in range(50):  # the other process may not have written it yet
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)
        raise
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


# The key comes from the environment. Without one, DEBUG runs use the checkout's own random key
# and the system check wangge.E001 refuses to start with DEBUG off.
SECRET_KEY_FROM_ENV = bool(os.environ.get("SECRET_KEY"))
SECRET_KEY = os.environ.get("SECRET_KEY") or _development_secret_key()
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# Key for encrypting ID card numbers at rest; derived from SECRET_KEY when not given.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "ninja",
    "wangge.core",
    "wangge.holidays",
    "wangge.notifications",
    "wangge.accounts",
    "wangge.registry",
    "wangge.demands",
    "wangge.triage",
    "wangge.visits",
    "wangge.projects",
    "wangge.facilities",
    "wangge.onestop",
    "wangge.parking",
    "wangge.opengov",
    "wangge.open311",
    "wangge.wechat",
    "wangge.governance",
    "wangge.dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "wangge.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "wangge.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "wangge.core.middleware.RefuseNulMiddleware",
    "wangge.core.middleware.WanggeErrorMiddleware",
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
                "wangge.core.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# SQLite by default (WAL, IMMEDIATE transactions, busy timeout: one writer at a time without
# "database is locked" surprises); DATABASE_URL=postgres://... for a province.
DEFAULT_SQLITE = VAR_DIR / "wangge.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE}")
# PostgreSQL keeps each process's connection open (CONN_MAX_AGE seconds, checked before reuse): a new
# connection per request costs more than a whole intake. SQLite opens a file, so it keeps 0.
_postgres = DATABASE_URL.startswith(("postgres://", "postgresql://", "pgsql://"))
_db = dj_database_url.parse(
    DATABASE_URL,
    conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600" if _postgres else "0")),
    conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000;"
        ),
    }
    _db["TEST"] = {"NAME": os.environ.get("WANGGE_TEST_SQLITE", "")} if os.environ.get("WANGGE_TEST_SQLITE") else {}
# PostgreSQL through Django's backend with two changes for the partitioned tables below (GROUP BY, and the
# limit of 65,535 parameters a statement under server-side binding).
POSTGRESQL_ENGINE = "wangge.core.postgresql"
# Plans reused per connection: the parameters go to the server apart from the SQL (psycopg 3's server-side
# binding) and psycopg prepares a statement once the connection has run it DATABASE_PREPARE_THRESHOLD times
# (5); PostgreSQL then reuses one generic plan for it. A lookup the partitions cannot prune (a demand by id,
# its events) is otherwise planned again over every month and each of its indexes at every execution: 8 ms
# and more a lookup at 29 months (docs/scaling.md, "Partitions"). DATABASE_PREPARE_THRESHOLD=off prepares
# nothing (a pooler in transaction mode before PgBouncer 1.21, or one without max_prepared_statements);
# DATABASE_SERVER_SIDE_BINDING=0 goes back to Django's default (the parameters merged into the SQL by psycopg).
_prepare_threshold = os.environ.get("DATABASE_PREPARE_THRESHOLD", "5").strip().lower()
if _prepare_threshold not in ("off", "none") and not _prepare_threshold.isdigit():
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"DATABASE_PREPARE_THRESHOLD must be a whole number or off, not {_prepare_threshold!r}")
POSTGRESQL_OPTIONS: dict[str, object] = (
    {
        "server_side_binding": True,
        "prepare_threshold": int(_prepare_threshold) if _prepare_threshold.isdigit() else None,
    }
    if env_bool("DATABASE_SERVER_SIDE_BINDING", True)
    else {}
)
if _db["ENGINE"] == "django.db.backends.postgresql":
    _db["ENGINE"] = POSTGRESQL_ENGINE
    _db["OPTIONS"] = {**_db.get("OPTIONS", {}), **POSTGRESQL_OPTIONS}
DATABASES = {"default": _db}
# A streaming replica of the PostgreSQL primary (DATABASE_REPLICA_URL=postgres://…): dashboards, reports,
# exports, public pages and Open311 lists read from it inside `wangge.core.replica.use_replica()`; every
# write, and every read that must see a write, goes to the primary (config/routers.py, docs/scaling.md).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
# How long a client that wrote is held to the primary at most while the replica has not replayed its write
# (the pin is dropped as soon as it has, so this only bounds what a replica lagging further may cost).
DATABASE_REPLICA_PIN_SECONDS = int(os.environ.get("DATABASE_REPLICA_PIN_SECONDS", "300"))
# A job (an export) that must see everything written before it started waits this long at most for the replica
# to replay it, then reads the primary.
DATABASE_REPLICA_WAIT_SECONDS = float(os.environ.get("DATABASE_REPLICA_WAIT_SECONDS", "2"))
if DATABASE_REPLICA_URL:
    _replica = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")))
    if _replica["ENGINE"] == "django.db.backends.postgresql":
        _replica["ENGINE"] = POSTGRESQL_ENGINE
        _replica["OPTIONS"] = {**_replica.get("OPTIONS", {}), **POSTGRESQL_OPTIONS}
    if _db["ENGINE"] != POSTGRESQL_ENGINE or _replica["ENGINE"] != _db["ENGINE"]:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("DATABASE_REPLICA_URL names a PostgreSQL standby of DATABASE_URL's PostgreSQL")
    # Tests: the primary's test database reaches the replica by streaming, under the same name.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]
    # Around everything else: it pins a client that wrote to the primary until the replica has its write.
    MIDDLEWARE.insert(1, "wangge.core.replica.ReplicaPinMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if env_bool("WANGGE_FAST_HASHER", False):
    # Tests only: argon2 is deliberately slow.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Login lockout (django-axes): AXES_FAILURE_LIMIT failures of one username from one client address lock
# that pair for AXES_COOLOFF_TIME. Neither alone: a shared office or village address (or, behind the
# proxy, everybody) must not lock colleagues out, and nobody may lock a named account from elsewhere.
# Tries during the lockout do not extend it. The client address is the one the rate limits use
# (wangge.core.ratelimit.client_ip: X-Forwarded-For only from WANGGE_TRUSTED_PROXIES, see below).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "8"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "wangge.core.ratelimit.client_ip"
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# --- Language and time ----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"  # display; storage is UTC because USE_TZ is on
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 60 * 1024 * 1024
UPLOAD_MAX_IMAGE_BYTES = int(os.environ.get("UPLOAD_MAX_IMAGE_BYTES", str(10 * 1024 * 1024)))
# Pixels, read from each photo's header before decoding: one photo, and all photos of one request.
UPLOAD_MAX_IMAGE_PIXELS = int(os.environ.get("UPLOAD_MAX_IMAGE_PIXELS", "50000000"))
UPLOAD_MAX_REQUEST_PIXELS = int(os.environ.get("UPLOAD_MAX_REQUEST_PIXELS", "100000000"))
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(200 * 1024 * 1024)))
# Registry imports run in the worker (hook below). A running job beats every IMPORT_HEARTBEAT_SECONDS;
# one silent for IMPORT_JOB_STALE_SECONDS lost its worker and is run again, up to
# IMPORT_JOB_MAX_ATTEMPTS runs in all, then failed with a reason (ADR 0002).
IMPORT_HEARTBEAT_SECONDS = float(os.environ.get("IMPORT_HEARTBEAT_SECONDS", "5"))
IMPORT_JOB_STALE_SECONDS = float(os.environ.get("IMPORT_JOB_STALE_SECONDS", "120"))
IMPORT_JOB_MAX_ATTEMPTS = int(os.environ.get("IMPORT_JOB_MAX_ATTEMPTS", "2"))
# One job mechanism for every long upload: each ImportJob kind is run by the function named here
# (dotted path, resolved by the worker), so the registry's job machinery imports no upper layer.
WANGGE_IMPORT_RUNNERS = {
    "registry": "wangge.registry.importing.jobs.registry_job_run",
    "boundaries": "wangge.registry.boundaries.services.boundary_job_run",
    "hotline": "wangge.demands.hotline.hotline_job_run",
}
# Uploaded registry files hold ID numbers: the worker deletes them this many days after their job ended.
IMPORT_UPLOAD_RETENTION_DAYS = int(os.environ.get("IMPORT_UPLOAD_RETENTION_DAYS", "30"))
# The most cells (rows × columns from A1) one sheet may span; a bigger one is refused before it is read.
IMPORT_MAX_CELLS = int(os.environ.get("IMPORT_MAX_CELLS", "10000000"))
# Boundaries in bulk (wangge.registry.boundaries, docs/boundaries.md): the largest file (a zip also by its
# unpacked size), the datum boundaries are kept in and the map draws in (WGS-84; CGCS2000 is taken as
# WGS-84), and the overlap or overreach between areas, in square metres, beyond which a feature is refused.
BOUNDARY_IMPORT_MAX_BYTES = int(os.environ.get("BOUNDARY_IMPORT_MAX_BYTES", str(100 * 1024 * 1024)))
WANGGE_BOUNDARY_DATUM = "wgs84"
BOUNDARY_OVERLAP_TOLERANCE_M2 = float(os.environ.get("BOUNDARY_OVERLAP_TOLERANCE_M2", "50"))
# The offline base map: a county-supplied MBTiles file served by the app at /map/tiles/{z}/{x}/{y}
# (empty: none; the base layer is then drawn from the county's own town and village boundaries).
MAP_MBTILES_PATH = os.environ.get("MAP_MBTILES_PATH", "")

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
X_FRAME_OPTIONS = "DENY"
# Served behind TLS once DEBUG is off (docs/security.md): plain HTTP is redirected to HTTPS and browsers are
# told to use HTTPS only (HSTS) for a year; each can be turned down for a first rollout. /healthz stays
# reachable over HTTP for the load balancer. Subdomains and the preload list are the county's choice
# (SECURE_HSTS_INCLUDE_SUBDOMAINS): a .gov.cn parent may still host plain-HTTP sites.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (wangge.core.middleware.ContentSecurityPolicyMiddleware, docs/security.md): script
# only from this site's own files, never inline (no <script> blocks, on*= handlers, javascript: links or
# hx-on; data reaches scripts through json_script). Styles allow 'unsafe-inline': ECharts writes its
# tooltips with style attributes and htmx adds its indicator style. MAP_TILE_URL's origin joins img-src.
WANGGE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
WANGGE_CSP_REPORT_ONLY = env_bool("WANGGE_CSP_REPORT_ONLY", False)

# --- Wangge ---------------------------------------------------------------------------
WANGGE_CITY_PREFIX = os.environ.get("WANGGE_CITY_PREFIX", "LY")  # public demand codes LY-20260415-000123
WANGGE_SITE_NAME = os.environ.get("WANGGE_SITE_NAME", "网格")
# Advised and hard household counts per micro-grid (docs/glossary.md).
GRID_ADVISED_MIN = 10
GRID_ADVISED_MAX = 15
GRID_HARD_MAX = 30
# The landing page (core:home): each role lands on a page of its own area; core imports no app for it.
WANGGE_HOME_VIEW = "wangge.dashboards.views.home"
# Intake asks for a category suggestion through this callable, so demands never imports triage.
WANGGE_TRIAGE_SUGGEST = os.environ.get("WANGGE_TRIAGE_SUGGEST", "wangge.triage.services.suggest_for_intake")
WORKER_INTERVAL_SECONDS = int(os.environ.get("WORKER_INTERVAL_SECONDS", "30"))
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- demands pages --------------------------------------------------------------------
# Absolute base of every link that leaves the server (QR codes, SMS, messages): wangge.core.links.public_url.
# The local default holds only while DEBUG is on; the system check wangge.E004 refuses DEBUG=0 without one.
WANGGE_PUBLIC_BASE_URL = os.environ.get("WANGGE_PUBLIC_BASE_URL", "http://127.0.0.1:8000" if DEBUG else "")
# Public (no account) endpoints ("count/period", period s, m, h or d). Reports are counted when accepted,
# per phone and per client IP; the IP limit is higher because a village may share one connection.
WANGGE_REPORT_RATE = os.environ.get("WANGGE_REPORT_RATE", "10/h")
WANGGE_REPORT_IP_RATE = os.environ.get("WANGGE_REPORT_IP_RATE", "60/h")
# "Find my demand" (查询我的诉求): one-time SMS codes sent per phone and per client IP; codes tried per IP.
WANGGE_LOOKUP_PHONE_RATE = os.environ.get("WANGGE_LOOKUP_PHONE_RATE", "5/h")
WANGGE_LOOKUP_IP_RATE = os.environ.get("WANGGE_LOOKUP_IP_RATE", "20/h")
WANGGE_LOOKUP_VERIFY_RATE = os.environ.get("WANGGE_LOOKUP_VERIFY_RATE", "30/h")
# Short links (/t/<code>) opened per client IP: enough for people, too few to walk the code space.
WANGGE_SHORT_LINK_RATE = os.environ.get("WANGGE_SHORT_LINK_RATE", "60/h")
WANGGE_TRACK_RATE = os.environ.get("WANGGE_TRACK_RATE", "30/h")
# Only behind a reverse proxy that sets X-Forwarded-For may the limiter trust that header.
# WANGGE_TRUSTED_PROXIES: the proxies' addresses or networks ("10.0.0.5,172.16.0.0/12"); the header is read
# only on a request whose peer is one of them, and the client is the right-most entry that is not.
# WANGGE_TRUST_X_FORWARDED_FOR=1 (the older switch) trusts any peer and takes the last entry (one proxy).
WANGGE_TRUST_X_FORWARDED_FOR = env_bool("WANGGE_TRUST_X_FORWARDED_FOR", False)
WANGGE_TRUSTED_PROXIES = [p.strip() for p in os.environ.get("WANGGE_TRUSTED_PROXIES", "").split(",") if p.strip()]
for _proxy in WANGGE_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"WANGGE_TRUSTED_PROXIES: {_proxy!r} is not an address or a network") from None
# The proxy that terminates TLS says the original scheme in X-Forwarded-Proto (it must overwrite what a
# client sent); without it SECURE_SSL_REDIRECT would redirect forever behind the proxy.
if WANGGE_TRUSTED_PROXIES or WANGGE_TRUST_X_FORWARDED_FOR:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- notifications ----------------------------------------------------------------------
# Each channel's backend by dotted path. By default nothing leaves the machine: SMS and WeChat
# stay in the outbox page (LocalBackend), and webhooks do too until NOTIFY_WEBHOOK_URL is set.
_NOTIFY = "wangge.notifications.backends."
NOTIFY_WEBHOOK_URL = os.environ.get("NOTIFY_WEBHOOK_URL", "")
# WeCom (企业微信) self-built app that pushes text cards to staff bound by wecom_userid; until a corp
# id is set the "wecom" channel stays in the outbox page like SMS and WeChat.
NOTIFY_WECOM_BASE_URL = os.environ.get("NOTIFY_WECOM_BASE_URL", "https://qyapi.weixin.qq.com")
NOTIFY_WECOM_CORP_ID = os.environ.get("NOTIFY_WECOM_CORP_ID", "")
NOTIFY_WECOM_SECRET = os.environ.get("NOTIFY_WECOM_SECRET", "")  # the app's Secret, not the corp's
NOTIFY_WECOM_AGENT_ID = os.environ.get("NOTIFY_WECOM_AGENT_ID", "")
# The county's WeChat official account (公众号): residents report through its callback and get template
# messages on each state change. Until an app id is set, the "wechat_mp" channel stays in the outbox page.
WANGGE_WECHAT_TOKEN = os.environ.get("WANGGE_WECHAT_TOKEN", "")  # the callback's Token (signature key)
WANGGE_WECHAT_APP_ID = os.environ.get("WANGGE_WECHAT_APP_ID", "")
WANGGE_WECHAT_APP_SECRET = os.environ.get("WANGGE_WECHAT_APP_SECRET", "")
WANGGE_WECHAT_AES_KEY = os.environ.get("WANGGE_WECHAT_AES_KEY", "")  # EncodingAESKey: safe mode when set
WANGGE_WECHAT_TEMPLATE_STATE = os.environ.get("WANGGE_WECHAT_TEMPLATE_STATE", "")  # template id of a state change
# The custom menu `manage.py wechat_set_menu` posts, as WeChat's JSON; "" means the default (report, look up).
WANGGE_WECHAT_MENU = os.environ.get("WANGGE_WECHAT_MENU", "")
NOTIFY_WECHAT_BASE_URL = os.environ.get("NOTIFY_WECHAT_BASE_URL", "https://api.weixin.qq.com")
NOTIFY_BACKENDS = {
    "log": os.environ.get("NOTIFY_BACKEND_LOG", _NOTIFY + "LogBackend"),
    "webhook": os.environ.get(
        "NOTIFY_BACKEND_WEBHOOK", _NOTIFY + ("WebhookBackend" if NOTIFY_WEBHOOK_URL else "LocalBackend")
    ),
    "sms": os.environ.get("NOTIFY_BACKEND_SMS", _NOTIFY + "LocalBackend"),
    "wechat": os.environ.get("NOTIFY_BACKEND_WECHAT", _NOTIFY + "LocalBackend"),
    "wecom": os.environ.get(
        "NOTIFY_BACKEND_WECOM", _NOTIFY + ("WeComBackend" if NOTIFY_WECOM_CORP_ID else "LocalBackend")
    ),
    "wechat_mp": os.environ.get(
        "NOTIFY_BACKEND_WECHAT_MP",
        _NOTIFY + ("wechat_mp.WeChatOfficialBackend" if WANGGE_WECHAT_APP_ID else "LocalBackend"),
    ),
}
# Named webhook endpoints a message may use as recipient: "name=https://…,other=https://…".
NOTIFY_WEBHOOK_ENDPOINTS = dict(
    item.split("=", 1) for item in os.environ.get("NOTIFY_WEBHOOK_ENDPOINTS", "").split(",") if "=" in item
)
NOTIFY_WEBHOOK_SECRET = os.environ.get("NOTIFY_WEBHOOK_SECRET", "")  # HMAC-SHA256 key; unsigned when empty
NOTIFY_SMS_URL = os.environ.get("NOTIFY_SMS_URL", "")
NOTIFY_SMS_KEY = os.environ.get("NOTIFY_SMS_KEY", "")
NOTIFY_SMS_SIGN = os.environ.get("NOTIFY_SMS_SIGN", "")  # 签名 registered with the gateway, shown as 【…】
NOTIFY_SMS_TEMPLATE = os.environ.get("NOTIFY_SMS_TEMPLATE", "")
NOTIFY_WECHAT_URL = os.environ.get("NOTIFY_WECHAT_URL", "")
NOTIFY_WECHAT_KEY = os.environ.get("NOTIFY_WECHAT_KEY", "")
NOTIFY_WECHAT_TEMPLATE = os.environ.get("NOTIFY_WECHAT_TEMPLATE", "")
NOTIFY_TIMEOUT = float(os.environ.get("NOTIFY_TIMEOUT", "5"))  # seconds per HTTP call
NOTIFY_USE_ENV_PROXY = env_bool("NOTIFY_USE_ENV_PROXY", False)
NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "8"))
NOTIFY_BACKOFF_BASE_SECONDS = int(os.environ.get("NOTIFY_BACKOFF_BASE_SECONDS", "60"))
NOTIFY_BACKOFF_MAX_SECONDS = int(os.environ.get("NOTIFY_BACKOFF_MAX_SECONDS", "3600"))
# A message left in "sending" longer than this (its worker died) is claimed again.
NOTIFY_CLAIM_TIMEOUT_SECONDS = int(os.environ.get("NOTIFY_CLAIM_TIMEOUT_SECONDS", "300"))
# Messages one round of the worker's outbox pass claims at most (DEMAND_WORKER_OUTBOX_LIMIT is its former
# name, still read); a pass makes another round while the last came back full and this many seconds
# are not spent (one round at least).
NOTIFY_OUTBOX_BATCH = int(os.environ.get("NOTIFY_OUTBOX_BATCH", os.environ.get("DEMAND_WORKER_OUTBOX_LIMIT", "200")))
NOTIFY_OUTBOX_PASS_SECONDS = float(os.environ.get("NOTIFY_OUTBOX_PASS_SECONDS", "1"))

# --- demands (core: time limits, worker, notifications of moves) -----------------------
# A resolved demand the resident does not rate is closed after this many days of silence.
DEMAND_AUTO_CLOSE_DAYS = int(os.environ.get("DEMAND_AUTO_CLOSE_DAYS", "7"))
# Working hours a verifier has to verify a resolved demand on site (核查) before being reminded (about two days).
DEMAND_VERIFY_HOURS = float(os.environ.get("DEMAND_VERIFY_HOURS", "16"))
# Share of the resolve window after which a demand is flagged yellow (red once past the limit).
DEMAND_YELLOW_FRACTION = float(os.environ.get("DEMAND_YELLOW_FRACTION", "0.8"))
# Working hours for limits in (non-urgent) hours; N working days end at DEMAND_WORKDAY_END.
DEMAND_WORKDAY_START = os.environ.get("DEMAND_WORKDAY_START", "08:30")
DEMAND_WORKDAY_END = os.environ.get("DEMAND_WORKDAY_END", "17:30")
DEMAND_NOTIFY_STAFF_CHANNEL = os.environ.get("DEMAND_NOTIFY_STAFF_CHANNEL", "wechat")
DEMAND_NOTIFY_RESIDENT_CHANNEL = os.environ.get("DEMAND_NOTIFY_RESIDENT_CHANNEL", "sms")
DEMAND_WORKER_BATCH = int(os.environ.get("DEMAND_WORKER_BATCH", "500"))
# 督办/催办: the same level may urge the same demand again only after this many working hours.
DEMAND_URGE_MIN_HOURS = float(os.environ.get("DEMAND_URGE_MIN_HOURS", "4"))

# --- api ------------------------------------------------------------------------------
# The cache is shared by every gunicorn worker: Redis when REDIS_URL is set, otherwise a table in the
# database (created by migration accounts/0003). Under pytest each process gets its own local memory.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
elif os.environ.get("PYTEST_VERSION"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "wangge-tests"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "wangge_cache"}}
# Rate-limit counters (wangge.core.ratelimit): Redis when REDIS_URL is set, else one upsert in core_ratecounter.
# Tests count in the database, rolled back with each test; the Redis tests name their own database and prefix.
WANGGE_RATELIMIT_REDIS_URL = "" if os.environ.get("PYTEST_VERSION") else REDIS_URL
WANGGE_RATELIMIT_PREFIX = os.environ.get("WANGGE_RATELIMIT_PREFIX", "wangge:rl:")
# Open311 GeoReport v2 under /open311/v2/ (docs/api.md).
# The jurisdiction_id that names this whole deployment (a city's area code is accepted as well).
OPEN311_JURISDICTION_ID = os.environ.get("OPEN311_JURISDICTION_ID", "")
# Keyless GETs of requests are public by the spec; a city that does not publish sets this off and
# then only keys with the "open311" permission read requests, inside their scope.
OPEN311_PUBLIC_READ = env_bool("OPEN311_PUBLIC_READ", True)
# POST without a key (e.g. a city's own civic app), limited per client IP; off by default.
OPEN311_ANONYMOUS_POST = env_bool("OPEN311_ANONYMOUS_POST", False)
OPEN311_ANONYMOUS_RATE = os.environ.get("OPEN311_ANONYMOUS_RATE", "10/h")
OPEN311_READ_RATE = os.environ.get("OPEN311_READ_RATE", "120/m")  # keyless reads per client IP
# "realtime": POST answers the service_request_id; "batch": it answers a token (GET tokens/<token>).
OPEN311_SERVICE_TYPE = os.environ.get("OPEN311_SERVICE_TYPE", "realtime")
OPEN311_CHANGESET = os.environ.get("OPEN311_CHANGESET", "2026-11-01T00:00:00Z")  # bump when the catalogue changes
OPEN311_CONTACT = os.environ.get("OPEN311_CONTACT", "市网格化服务管理中心 / city grid service centre")
OPEN311_KEY_SERVICE = os.environ.get(
    "OPEN311_KEY_SERVICE", "API 密钥由市网格化服务管理中心在后台签发 / keys are issued by the city grid centre"
)
OPEN311_ENDPOINT_TYPE = os.environ.get("OPEN311_ENDPOINT_TYPE", "production")  # or "test"

# --- parking --------------------------------------------------------------------------------
# The what-if page's default duration elasticity: -0.3 means a 10 % dearer average fee shortens
# the average stay by 3 % (published estimates for on-street parking run from about -0.1 to -0.6).
PARKING_DURATION_ELASTICITY = float(os.environ.get("PARKING_DURATION_ELASTICITY", "-0.3"))

# --- triage ---------------------------------------------------------------------------------
# Defaults until an administrator saves the triage settings row in the back office.
# Above this model confidence a suggested category is applied at intake; below, a person confirms.
TRIAGE_AUTO_APPLY_CONFIDENCE = float(os.environ.get("TRIAGE_AUTO_APPLY_CONFIDENCE", "0.85"))
# Duplicates: open demands of the same village within this many days, above this similarity.
TRIAGE_DUPLICATE_WINDOW_DAYS = int(os.environ.get("TRIAGE_DUPLICATE_WINDOW_DAYS", "14"))
TRIAGE_DUPLICATE_THRESHOLD = float(os.environ.get("TRIAGE_DUPLICATE_THRESHOLD", "0.45"))
# How long a process trusts its in-memory model and rules before checking the database again.
TRIAGE_CACHE_SECONDS = float(os.environ.get("TRIAGE_CACHE_SECONDS", "30"))
# The worker retrains a model (category, department) from the county's own history once this many
# new labelled rows arrived since the last one; the new version is kept only if it beats the active
# one on a held-out slice, and a person activates it (wangge/triage/training.py).
TRIAGE_RETRAIN_MIN_NEW_LABELS = int(os.environ.get("TRIAGE_RETRAIN_MIN_NEW_LABELS", "200"))
# ... checked (COUNT queries) at most this often, so the worker's pass stays short at millions of demands.
TRIAGE_RETRAIN_CHECK_SECONDS = float(os.environ.get("TRIAGE_RETRAIN_CHECK_SECONDS", "3600"))
# ... on at most this many labelled rows, the newest (a fit on 10,000 takes 1-2 minutes on 2 cores;
# every demand of a county's years would not fit the worker's memory: 11 GB at 5 M, and hours).
TRIAGE_RETRAIN_MAX_ROWS = int(os.environ.get("TRIAGE_RETRAIN_MAX_ROWS", "20000"))
# ... in a process of its own, started by the worker's hook, which returns at once (empty: inside the pass).
TRIAGE_RETRAIN_COMMAND = [sys.executable, str(BASE_DIR / "manage.py"), "triage_retrain"]
# Below this confidence the department model's answer gives way to the category's default department.
TRIAGE_DEPARTMENT_MIN_CONFIDENCE = float(os.environ.get("TRIAGE_DEPARTMENT_MIN_CONFIDENCE", "0.4"))

# --- partitions (PostgreSQL) -------------------------------------------------------------------
# Demands and their events are partitioned by month (wangge/demands/partitioning/, docs/scaling.md,
# "Partitions"): the one list of the partitioned models, their tables and partition keys. Not an
# operator's setting: the schema (migration demands 0016) and the database backend follow it.
WANGGE_PARTITIONED = (
    ("demands.Demand", "demands_demand", "created_at"),
    ("demands.DemandEvent", "demands_demandevent", "at"),
)
# The worker keeps this month and this many next ones created.
WANGGE_PARTITION_MONTHS_AHEAD = int(os.environ.get("WANGGE_PARTITION_MONTHS_AHEAD", "3"))

# --- worker ---------------------------------------------------------------------------------
# Every pass of `run_worker` (wangge.core.worker), by dotted path, called in this order with no
# arguments: each app registers its own background work here, so the worker imports no domain.
# The sweeps come before the outbox, so the messages they enqueue leave in the same pass; the
# long jobs (exports, registry imports) come last, so they never delay a message.
WANGGE_WORKER_HOOKS = [
    "wangge.demands.partitioning.months.partitions_ahead_pass",
    "wangge.demands.sweep.sweep_once",
    "wangge.opengov.services.disclosure_sweep",
    "wangge.facilities.services.facilities_sweep",
    "wangge.governance.services.governance_pass",
    "wangge.notifications.services.outbox_pass",
    "wangge.dashboards.services.rollup_refresh_recent",
    "wangge.triage.hot.hot_issues_pass",
    "wangge.dashboards.services.export_jobs_run",
    "wangge.registry.importing.jobs.import_jobs_run",
    "wangge.wechat.photos.wechat_photos_pass",
    "wangge.core.ratelimit.ratelimit_prune",
    "wangge.triage.training.retrain_pass",
]

# --- start-up ---------------------------------------------------------------------------------
# Called once when a web process starts (config/wsgi.py, config/asgi.py; not migrate, commands or
# tests): what must be in memory before the first request. The triage models load here, so a
# request never loads one (wangge/triage/runtime.py).
WANGGE_STARTUP_HOOKS = [
    "wangge.triage.runtime.preload",
]

# --- hot issues (热点问题), grouped by the worker and read by the pages (wangge.triage.hot) ------------
# Each pass puts the new demands in hot clusters (wangge.triage.hotclusters), then regroups sets by cluster.
# Sets kept: the city-wide one and one per area of these levels, for each window (days).
TRIAGE_HOT_LEVELS = ("city", "town")
TRIAGE_HOT_DAYS = (7, 30, 90)
# A set of the shortest window is regrouped after this long; a longer window after as long as it takes
# to move by the same share of itself (hot.refresh_period: 900 s → 7 days 15 min, 30 days 64 min, 90 days 3.2 h).
TRIAGE_HOT_REFRESH_SECONDS = int(os.environ.get("TRIAGE_HOT_REFRESH_SECONDS", "900"))
# A pass regroups stale sets until this many seconds are spent (at least one set per pass).
TRIAGE_HOT_PASS_SECONDS = float(os.environ.get("TRIAGE_HOT_PASS_SECONDS", "1"))
# A set older than this is not shown; the page groups live instead (the worker has stopped).
TRIAGE_HOT_MAX_AGE_SECONDS = int(os.environ.get("TRIAGE_HOT_MAX_AGE_SECONDS", "3600"))
# Before the worker's first set of a kept area and window, a page groups only this many of the newest demands.
TRIAGE_HOT_LIVE_ROWS = int(os.environ.get("TRIAGE_HOT_LIVE_ROWS", "2000"))

# --- governance topics (每月一题) and proactive tasks (未诉先办) ---------------------------------
# A new demand is linked to an active topic of its category and place when its text is this similar
# to one of the topic's demands (the duplicate finder's measure and threshold, docs/glossary.md).
GOVERNANCE_AUTOLINK_THRESHOLD = float(os.environ.get("GOVERNANCE_AUTOLINK_THRESHOLD", "0.45"))
# A facility that failed this many checklist items within this many days gets one proactive task for
# its grid (a public toilet failing three times in a month needs someone to look at the cause).
GOVERNANCE_FACILITY_FAILURES = int(os.environ.get("GOVERNANCE_FACILITY_FAILURES", "3"))
GOVERNANCE_FACILITY_WINDOW_DAYS = int(os.environ.get("GOVERNANCE_FACILITY_WINDOW_DAYS", "30"))

# --- dashboards -----------------------------------------------------------------------------
# Changed demands are found by new event ids. The ids below the highest read that a refresh did not
# see (handed out but not yet committed, or rolled back) are read again by the next refreshes for this
# many seconds (wangge/dashboards/frontier.py).
DASHBOARD_ROLLUP_PENDING_SECONDS = int(os.environ.get("DASHBOARD_ROLLUP_PENDING_SECONDS", "3600"))
# This many ids below the last refresh's highest are read again when the ids it did not see are not
# known (the first refresh after a full build or an upgrade); today's live figures read what it reads.
DASHBOARD_ROLLUP_ID_MARGIN = int(os.environ.get("DASHBOARD_ROLLUP_ID_MARGIN", "1000"))
# The first build (rollup_rebuild) computes the facts in the database, this many demands a
# statement, and on PostgreSQL raises its transaction's work_mem to this (hash joins over all demands).
DASHBOARD_ROLLUP_BUILD_CHUNK = int(os.environ.get("DASHBOARD_ROLLUP_BUILD_CHUNK", "200000"))
DASHBOARD_ROLLUP_BUILD_WORK_MEM = os.environ.get("DASHBOARD_ROLLUP_BUILD_WORK_MEM", "256MB")
# Monthly ranking (红黑榜): areas with fewer demands in the month are listed but not ranked.
# map.json's open and overdue counts per area are grouped over every open demand below the area
# (seconds at millions): each area's counts are kept this long in the cache (0: always live; the
# tests share one in-process cache between databases, so they count live).
DASHBOARD_MAP_CACHE_SECONDS = int(
    os.environ.get("DASHBOARD_MAP_CACHE_SECONDS", "0" if os.environ.get("PYTEST_VERSION") else "30")
)
DASHBOARD_RANKING_MIN_DEMANDS = int(os.environ.get("DASHBOARD_RANKING_MIN_DEMANDS", "1"))
DASHBOARD_CONSOLE_PAGE_SIZE = int(os.environ.get("DASHBOARD_CONSOLE_PAGE_SIZE", "30"))
# Exports are written here (served only by the scoped download view, never as /media/).
DASHBOARD_EXPORT_DIR = "exports"

# --- demo ---------------------------------------------------------------------------------
# Each app's demo data, loaded by `seed_demo` after the area tree: `seed(city_area) -> counts`.
WANGGE_DEMO_HOOKS = [
    "wangge.onestop.demo.seed",
    "wangge.parking.demo.seed",
    "wangge.facilities.demo.seed",
    "wangge.projects.demo.seed",
    "wangge.opengov.demo.seed",
    "wangge.visits.demo.seed",
    "wangge.demands.demo.seed",
    "wangge.triage.demo.seed",
    "wangge.governance.demo.seed",
]

# --- triage in demands ----------------------------------------------------------------------
# The demand pages ask triage through callables named here, so demands never imports triage:
# open demands nearby that look the same (the resident's report page, the staff detail page),
# and where a person's confirmation or correction of a suggested category is kept as training data.
WANGGE_TRIAGE_DUPLICATES = os.environ.get("WANGGE_TRIAGE_DUPLICATES", "wangge.triage.services.duplicate_candidates")
WANGGE_TRIAGE_FEEDBACK = os.environ.get("WANGGE_TRIAGE_FEEDBACK", "wangge.triage.services.triage_feedback")
# Every unmasked view of a reporter's phone is written here (demands.services.demand_reporter_phone_reveal).
WANGGE_PII_LOG = "wangge.dashboards.services.pii_access_log"
# Following a demand someone else reported is limited per client IP like the report page.
WANGGE_FOLLOW_RATE = os.environ.get("WANGGE_FOLLOW_RATE", WANGGE_REPORT_RATE)

# --- opengov --------------------------------------------------------------------------------
# Attachments of disclosure items (PDF, images, Word, Excel, OFD): the size cap of one file.
OPENGOV_MAX_ATTACHMENT_BYTES = int(os.environ.get("OPENGOV_MAX_ATTACHMENT_BYTES", str(10 * 1024 * 1024)))
# The channel of "item overdue" messages to the responsible level (the staff channel by default).
OPENGOV_NOTIFY_CHANNEL = os.environ.get("OPENGOV_NOTIFY_CHANNEL", "wechat")

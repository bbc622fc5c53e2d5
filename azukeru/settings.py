"""Settings of the Azukeru PRO administrator console.

Everything that differs between machines comes from the environment (or a
`.env` file beside manage.py) through django-environ. With no configuration at
all the console runs in development mode on SQLite under var/.
`DJANGO_ENV=production` switches to the production posture: SECRET_KEY and
ALLOWED_HOSTS are then required and `manage.py check --deploy` is clean.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from core.siteurl import parse_site_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise environ.ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = DJANGO_ENV == "production"

# Off unless a developer turns it on (DEBUG=true): with it, Django answers a missing
# page with the list of the console's URLs and a failure with its traceback, in place
# of the console's error pages (core/errorpages.py). `make serve` and the demo run
# without it.
DEBUG = env.bool("DEBUG", default=False)
if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")  # required: no default in production
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "core.errorpages.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "azukeru.apps.AxesConfig",  # django-axes, named in Japanese and English
    "csp",
    "core",
    "accounts",
    "devicekeys",
    "csvimport",
    "api",
    "ssf",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "twostep",
    "django_tasks",
    "azukeru.apps.TasksConfig",  # django-tasks-db, likewise
    "notifications",
    "audit",
]

MIDDLEWARE = [
    # /healthz and /readyz, before anything that needs a session, a host or HTTPS.
    "core.health.HealthCheckMiddleware",
    # The app API's edge: no cookie read under /api/, and every error answered in
    # JSON, also those Django makes before or without a view: api/middleware.py.
    "api.middleware.ApiEdgeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CsrfViewMiddleware, which reads the body for the token: see core/uploads.py.
    "core.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed its second step.
    "django_otp.middleware.OTPMiddleware",
    "audit.context.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # An address too long (414) and the page of every error answered without one
    # (405, 429, ...), in the viewer's language: core/errorpages.py.
    "core.errorpages.ErrorPageMiddleware",
    "accounts.middleware.SessionLimitsMiddleware",
    # After the session limits: a user's request ends here when their device is refused.
    "devicekeys.middleware.DeviceCheckMiddleware",
    # An administrator or support staff member with a second factor goes no further
    # than its step until it is passed (twostep/middleware.py).
    "twostep.middleware.TwoStepMiddleware",
    # A completed sign-in leaves its known-device cookie (accounts/known_device.py).
    "accounts.known_device_middleware.KnownDeviceMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # A service's NotFound (a row deleted meanwhile) becomes the 404 page: core/http.py.
    "core.http.NotFoundMiddleware",
    # AxesMiddleware must stay last: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "azukeru.urls"
WSGI_APPLICATION = "azukeru.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "azukeru.context_processors.console",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# SQLite under var/ by default; DATABASE_URL=postgres://... for production.
# For a PostgreSQL server on a unix socket: postgres://USER@/NAME?host=/socket/dir
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'azukeru.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if "DATABASE_URL" not in env.ENVIRON:
        VAR_DIR.mkdir(exist_ok=True)
    # Writers queue for the lock instead of failing with "database is locked";
    # WAL lets readers go on while one writer commits.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Straight to PostgreSQL (the default), queries are bound on the server and a query
    # run twice on a connection becomes a prepared statement: parsed and planned once.
    # The token introspection of every app request runs 1.4 times as fast for it
    # (docs/PERFORMANCE.md). Behind PgBouncer in transaction pooling, where a
    # connection's prepared statements and server-side cursors do not survive the
    # transaction, DATABASE_POOLER=pgbouncer turns both off.
    DATABASE_POOLER = env.str("DATABASE_POOLER", default="none")
    if DATABASE_POOLER not in {"none", "pgbouncer"}:
        raise environ.ImproperlyConfigured("DATABASE_POOLER must be 'none' or 'pgbouncer'.")
    if DATABASE_POOLER == "pgbouncer":
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    else:
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": 2}
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -----------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first, so that a locked-out login ID + IP is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "accounts.auth.ConsoleBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# The guide's password rules (accounts/password_validation.py), in the order the
# guide lists them, plus Django's list of commonly used passwords.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.password_validation.LengthValidator"},
    {"NAME": "accounts.password_validation.CharacterKindsValidator"},
    {"NAME": "accounts.password_validation.LoginIdValidator"},
    {"NAME": "accounts.password_validation.CommonEnglishWordValidator"},
    {"NAME": "accounts.password_validation.RepeatedOrSequentialValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions live in the database so that any web process can serve any request.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_TIMEOUT = timedelta(minutes=env.int("SESSION_IDLE_MINUTES", default=30))
SESSION_ABSOLUTE_LIFETIME = timedelta(hours=env.int("SESSION_LIFETIME_HOURS", default=12))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_LIFETIME.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# The client's address (core/clientip.py, its one reader): how many proxies in front of
# the console append to X-Forwarded-For. 0: the header is ignored entirely (no client can
# forge its address); N: the client is the N-th entry from the right. README's production
# section and docs/OPERATIONS.md say what to set behind the documented proxy.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Sign-in throttling (django-axes, stored in the database): after AXES_FAILURE_LIMIT
# failures of one login ID from one IP within the cool-off period, that pair is
# refused for the cool-off period.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the sign-in form's field name
AXES_USERNAME_CALLABLE = "accounts.auth.axes_username"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "core.clientip.client_address"  # the one reader of the address
AXES_VERBOSE = False
# django-axes keeps the query and form of a failed attempt: never a password or a key.
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "ip_address",
    "current_password",
    "password_confirm",
    "key",
    "device_key",
    "token",
    "client_secret",
    # The browser's CSRF token: shown on the support site, it would let a page forge
    # that browser's forms.
    "csrfmiddlewaretoken",
]
# The account-wide ceiling (accounts/throttling.py), beside the per-address lockout
# above: from the ACCOUNT_FAILURE_LIMIT-th failed sign-in of one login ID from any
# addresses, without a quiet ACCOUNT_FAILURE_WINDOW between them, the login ID waits
# ACCOUNT_FAILURE_DELAY before its next try, doubled at each further failure and never
# longer than the window; its administrator is mailed once. NIST SP 800-63B asks for a
# limit of at most 100 consecutive failures of one account.
ACCOUNT_FAILURE_LIMIT = env.int("ACCOUNT_FAILURE_LIMIT", default=20)
ACCOUNT_FAILURE_WINDOW = timedelta(minutes=env.int("ACCOUNT_FAILURE_WINDOW_MINUTES", default=60))
ACCOUNT_FAILURE_DELAY = timedelta(minutes=env.int("ACCOUNT_FAILURE_DELAY_MINUTES", default=1))
# The known-device cookie (accounts/known_device.py): a browser that completed a sign-in
# of an account keeps proof of it this long, and the ceiling above does not hold it back
# for failures that came from elsewhere.
KNOWN_DEVICE_LIFETIME = timedelta(days=env.int("KNOWN_DEVICE_DAYS", default=180))
# Device authentication at sign-in (devicekeys): after this many wrong 端末認証キー of
# one contract from one IP address within AXES_COOLOFF_TIME, whatever the login IDs,
# that address may enter no key of that contract until the period has passed.
DEVICE_KEY_IP_FAILURE_LIMIT = env.int("DEVICE_KEY_IP_FAILURE_LIMIT", default=10)

# --- Two-step verification (twostep/) ----------------------------------------------
# Administrators may add an authenticator app (TOTP) and passkeys; with
# TWO_STEP_REQUIRED every administrator must, before doing anything else. Support
# staff always must. Passkeys are bound to a domain: WEBAUTHN_RP_ID is the console's
# host name (a name, not an IP address: http://localhost:8000 in development) and
# WEBAUTHN_ORIGINS the origins it is reached at.
TWO_STEP_REQUIRED = env.bool("TWO_STEP_REQUIRED", default=False)
# Sensitive changes (the mail address, removing a factor, new recovery codes, creating
# an app's credentials) ask again for the password or the second factor when the
# session's last proof is older than this (twostep.guards.sudo_required).
SUDO_MAX_AGE = timedelta(minutes=env.int("SUDO_MAX_AGE_MINUTES", default=10))
OTP_TOTP_ISSUER = env.str("SERVICE_NAME", default="フレッツ・あずけ～る PRO")
# In production both default to the first of ALLOWED_HOSTS, over https.
OTP_WEBAUTHN_RP_ID = env.str(
    "WEBAUTHN_RP_ID", default=ALLOWED_HOSTS[0] if PRODUCTION and ALLOWED_HOSTS else "localhost"
)
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "WEBAUTHN_ORIGINS",
    default=[f"https://{OTP_WEBAUTHN_RP_ID}" if PRODUCTION else "http://localhost:8000"],
)
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False  # a passkey is a second factor only
# Password reset by mail: a link is valid for an hour, and only until it is used.
PASSWORD_RESET_TIMEOUT = 60 * 60
# メールアドレス変更: the confirmation link is valid for 24 hours.
EMAIL_CHANGE_TIMEOUT = timedelta(hours=24)

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Tokyo"
USE_TZ = True

# --- Static files -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production, WhiteNoise serves straight from the apps' and static/ folders.
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = VAR_DIR / "media"

# --- Mail -------------------------------------------------------------------------
# SITE_URL: the console's address as its users reach it (scheme, host, port; no path),
# e.g. https://console.example.jp. Every link in a mail is built from it
# (core.siteurl.site_url), never from the request's Host header. Required in production.
SITE_URL = parse_site_url(
    env.str("SITE_URL") if PRODUCTION else env.str("SITE_URL", default="http://localhost:8000")
)
# API_ACCESS_TOKEN_SECONDS: how long an app's access token opens the storage service
# (docs/API.md); the app gets the next one with its refresh token. A resource server
# caches an introspection answer no longer than its `exp`, so this bounds how long a
# 停止 can take to reach it without a pushed event.
API_ACCESS_TOKEN_SECONDS = env.int("API_ACCESS_TOKEN_SECONDS", default=300)
# EMAIL_URL: smtp+tls://user:password@host:587, smtps://..., consolemail://
# Without it, development writes each mail as a file under var/mail/ for the reader.
if env.str("EMAIL_URL", default="") or PRODUCTION:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # a hung mail server never hangs a worker
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@azukeru.example.jp")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Background work (notifications/, csvimport/) -----------------------------------
# Mails are recorded in the outbox table with the change that causes them and
# delivered after commit by a task (the Django Tasks API of django-tasks); CSV imports
# are tasks too, and so are the security events pushed to the storage service (ssf/).
# The ORM backend keeps the queue in this database. Two queues, so that a mail or an
# event never waits behind an import: "default" (mail and events, and a failed one's
# next attempt, queued for its time) and "imports". `manage.py db_worker` runs the
# tasks of the queues it is given (bin/serve: one on "default", one on
# "imports,default"); `manage.py sweep
# --every 60` is the net: it re-queues mails whose task was lost and fails import
# jobs whose worker died (docs/OPERATIONS.md).
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "imports"],
    }
}

# --- Security events (ssf/): the Shared Signals transmitter --------------------------
# SSF_SIGNING_KEYS_FILE: a JSON Web Key Set of private keys (RSA or EC P-256) that
# every web and worker process reads; the first key signs the Security Event Tokens,
# all are published at /api/ssf/jwks (rotation: docs/OPERATIONS.md). Outside
# production it defaults to var/ssf-signing-keys.json, created with a new key on
# first use. In production it has no default: without it the transmitter is off.
SSF_SIGNING_KEYS_FILE = env.str(
    "SSF_SIGNING_KEYS_FILE",
    default="" if PRODUCTION else str(VAR_DIR / "ssf-signing-keys.json"),
)
SSF_GENERATE_DEVELOPMENT_KEY = not PRODUCTION
# Receivers at http:// or at a loopback or private address: for local tests only,
# never in production (a stream could otherwise make the console post into its own
# network).
SSF_ALLOW_INSECURE_RECEIVERS = not PRODUCTION and env.bool(
    "SSF_ALLOW_INSECURE_RECEIVERS", default=True
)

# --- Audit log (audit/) -------------------------------------------------------------
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=400)

# --- What the frame shows (and every mail) ------------------------------------------
# The guide's words by default, translated on English pages. An operator's own value
# (SERVICE_NAME, ...) is shown on every page, or on English pages its *_EN value when
# one is set (core/support.py).
SERVICE_NAME = env.str("SERVICE_NAME", default="") or _("フレッツ・あずけ～る PRO")
SUPPORT_CONTACT_NAME = env.str("SUPPORT_CONTACT_NAME", default="") or _(
    "フレッツ・あずけ～るに関するお問い合わせセンター"
)
SUPPORT_PHONE = env.str("SUPPORT_PHONE", default="0120-612808")
SUPPORT_HOURS = env.str("SUPPORT_HOURS", default="") or _(
    "午前9:00～午後9:00（年末年始を除き、年中無休）"
)
SERVICE_NAME_EN = env.str("SERVICE_NAME_EN", default="")
SUPPORT_CONTACT_NAME_EN = env.str("SUPPORT_CONTACT_NAME_EN", default="")
SUPPORT_HOURS_EN = env.str("SUPPORT_HOURS_EN", default="")

# --- Security headers ---------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True

# --- Logging: to stderr, never a password or a key ----------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

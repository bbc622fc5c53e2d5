"""Settings of the storage service (tests only). Everything it needs to know of the
console comes from the environment the test gives it:

- CONSOLE_URL: the console's address (its SITE_URL);
- STORAGE_CLIENT_ID / STORAGE_CLIENT_SECRET: its API client (api_client_create);
- STORAGE_DATABASE: its own SQLite file;
- STORAGE_URL: its own address, where the console pushes events.

DOT runs on its defaults except the two settings a resource server must have (where
to introspect and with which credentials) and its validator class (validators.py:
DOT's own, remembering beside each cached token the session it belongs to)."""

import os

CONSOLE_URL = os.environ["CONSOLE_URL"]
STORAGE_URL = os.environ["STORAGE_URL"]
CLIENT_ID = os.environ["STORAGE_CLIENT_ID"]
CLIENT_SECRET = os.environ["STORAGE_CLIENT_SECRET"]

SECRET_KEY = "storage-service-of-the-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
USE_TZ = True
ROOT_URLCONF = "tests.storage_service.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "oauth2_provider",
    "tests.storage_service",
]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["STORAGE_DATABASE"],
        "OPTIONS": {"timeout": 20},
    }
}
OAUTH2_PROVIDER = {
    "RESOURCE_SERVER_INTROSPECTION_URL": f"{CONSOLE_URL}/api/oauth/introspect",
    "RESOURCE_SERVER_INTROSPECTION_CREDENTIALS": (CLIENT_ID, CLIENT_SECRET),
    "OAUTH2_VALIDATOR_CLASS": "tests.storage_service.validators.SessionValidator",
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

"""The console's own address, for every link that leaves it (mails; later an OAuth
issuer): the SITE_URL setting, never the request's Host header, which a client
chooses (a password-reset link to a host of the attacker's choosing would hand them
its token).

SITE_URL is an absolute http or https URL of scheme, host and optional port, with no
path, query or fragment (the console answers at the root of its host), kept without
a trailing slash.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def parse_site_url(value: str) -> str:
    """SITE_URL as settings keep it (no trailing slash), or ImproperlyConfigured naming
    what is wrong with it."""
    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (a port that is no number raises ValueError)
    except ValueError as error:
        raise ImproperlyConfigured(f"SITE_URL is no URL: {error}") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(
            "SITE_URL must be an absolute http:// or https:// URL, such as "
            "https://console.example.jp"
        )
    if parts.path not in ("", "/") or "?" in value or "#" in value:
        raise ImproperlyConfigured(
            "SITE_URL is the scheme and host (and port) only: no path, query or fragment."
        )
    if parts.username is not None or parts.password is not None:
        raise ImproperlyConfigured("SITE_URL must carry no user name or password.")
    return f"{parts.scheme}://{parts.netloc}"


def site_url(path: str) -> str:
    """The absolute URL of `path` (a path of this console, as reverse() gives it)."""
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"site_url() takes a path of this site, not {path!r}")
    return settings.SITE_URL + path

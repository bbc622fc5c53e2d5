"""The device credential: what a browser keeps once it has registered a key.

A registered browser holds a random token (256 bits from `secrets`) in a
long-lived cookie: HttpOnly, SameSite=Lax, Secure wherever the session cookie
is (production). The database keeps only its SHA-256 (`DeviceKey.credential_hash`,
unique and indexed); a token that random needs no salt or slow hash to be safe
from a stolen table. The key itself is never put in a cookie.

One browser may be registered for several login IDs (a shared office PC), so the
cookie holds up to MAX_TOKENS tokens, newest first, separated by dots. Only the
request and response are touched here; the database is the services' business.
"""

import hashlib
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

COOKIE_NAME = "azukeru_device"
COOKIE_MAX_AGE = timedelta(days=400)  # the longest a browser keeps a cookie
TOKEN_BYTES = 32
MAX_TOKENS = 10
_SEPARATOR = "."
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32)


# An app's access token bound to a key starts with this prefix (api.rules.new_token);
# a browser's cookie token has none, so neither can be presented as the other (the
# hash covers the whole token). App tokens are their app registration's
# (api.models.AppToken, looked up by that hash).
APP_TOKEN_PREFIX = "azd_"  # noqa: S105 (a prefix, not a secret)


def new_token() -> str:
    """A browser's new credential: 256 random bits."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens(request) -> list[str]:
    """The well-formed tokens the browser sent, newest first (anything else is ignored)."""
    value = request.COOKIES.get(COOKIE_NAME, "")
    found = [token for token in value.split(_SEPARATOR) if _TOKEN.fullmatch(token)]
    return found[:MAX_TOKENS]


def token_hashes(request) -> list[str]:
    return [token_hash(token) for token in tokens(request)]


def _store(response, kept: list[str]) -> None:
    if not kept:
        response.delete_cookie(COOKIE_NAME, samesite="Lax")
        return
    response.set_cookie(
        COOKIE_NAME,
        _SEPARATOR.join(kept[:MAX_TOKENS]),
        max_age=int(COOKIE_MAX_AGE.total_seconds()),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


@sensitive_variables("token")
def add(request, response, token: str) -> None:
    """Give the browser `token`, keeping the tokens it holds for other login IDs."""
    _store(response, [token, *(kept for kept in tokens(request) if kept != token)])


def remove(request, response, hashed: str) -> None:
    """Take back the token whose hash is `hashed` (its key was reissued or deleted)."""
    held = tokens(request)
    kept = [token for token in held if token_hash(token) != hashed]
    if kept != held:
        _store(response, kept)

"""An app registration's tokens (api.rules, "Its tokens"): issued in pairs, an access
token and a refresh token, of which only the SHA-256 is kept (api.models.AppToken).
The grant (api.registrations) and the refresh (api.services) issue them here alone."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from api import rules
from api.models import AppRegistration, AppToken
from api.rules import Kind, TokenKind
from devicekeys import credentials


@dataclass(frozen=True)
class IssuedTokens:
    """What the token endpoint answers (RFC 6749 §5.1); the strings exist nowhere else."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int


def access_lifetime() -> timedelta:
    return timedelta(seconds=settings.API_ACCESS_TOKEN_SECONDS)


@sensitive_variables("access", "refresh")
def app_tokens_issue(registration: AppRegistration, *, now: datetime) -> IssuedTokens:
    """A new access token (expiring after API_ACCESS_TOKEN_SECONDS) and refresh token
    for `registration`, in one INSERT."""
    access = rules.new_token(rules.ACCESS_TOKEN_PREFIXES[Kind(registration.kind)])
    refresh = rules.new_token(rules.REFRESH_TOKEN_PREFIX)
    AppToken.objects.bulk_create(
        [
            AppToken(
                registration=registration,
                kind=TokenKind.ACCESS,
                token_hash=credentials.token_hash(access),
                issued_at=now,
                expires_at=now + access_lifetime(),
            ),
            AppToken(
                registration=registration,
                kind=TokenKind.REFRESH,
                token_hash=credentials.token_hash(refresh),
                issued_at=now,
            ),
        ]
    )
    return IssuedTokens(
        access_token=access, refresh_token=refresh, expires_in=settings.API_ACCESS_TOKEN_SECONDS
    )

"""The parameters of the API's endpoints, checked as forms: each error carries the
OAuth 2.0 error code it becomes (RFC 6749 §5.2)."""

from django import forms
from django.core.exceptions import ValidationError

from api.rules import SCOPE
from devicekeys import rules

GRANT_TYPE = "urn:azukeru:params:oauth:grant-type:device-key"
# RFC 6749 §4.3, taken as the device-key grant (the same parameters, device_key an
# extension parameter), so that stock clients' password flow works (docs/API.md).
PASSWORD_GRANT = "password"  # noqa: S105 (a grant type, not a password)
REFRESH_GRANT = "refresh_token"
GRANT_TYPES = (GRANT_TYPE, PASSWORD_GRANT, REFRESH_GRANT)
# The errors the token endpoint can answer with, most telling first.
OAUTH_ERRORS = (
    "unsupported_grant_type",
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "invalid_scope",
)


class OAuthForm(forms.Form):
    """A form whose fields are required by default and whose errors map to OAuth codes:
    a missing or over-long parameter is invalid_request, other codes are set by
    the field's own clean method."""

    def oauth_error(self) -> tuple[str, str]:
        """The first OAuth error of the bound, invalid form, and a description."""
        found = {}
        for name, errors in self.errors.as_data().items():
            for error in errors:
                code = error.code if error.code in OAUTH_ERRORS else "invalid_request"
                found.setdefault(code, f"{name}: {_describe(error)}")
        code = next(code for code in OAUTH_ERRORS if code in found)
        return code, found[code]


def _describe(error: ValidationError) -> str:
    return {
        "required": "missing",
        "max_length": "too long",
        "unsupported_grant_type": "not supported",
        "invalid_client": "unknown client",
    }.get(error.code, "not valid")


def _app_client(form):
    """client_id: one of the apps' public clients (devicekeys.rules.APP_CLIENTS)."""
    value = form.cleaned_data["client_id"]
    if value not in rules.APP_CLIENTS:
        raise ValidationError("unknown client", code="invalid_client")
    return rules.Client(value)


class TokenRequestForm(OAuthForm):
    """POST /api/oauth/token: the device-key grant (RFC 6749 §4.5)."""

    grant_type = forms.CharField(max_length=100)
    client_id = forms.CharField(max_length=32)
    username = forms.CharField(max_length=254)
    password = forms.CharField(max_length=128, strip=False)
    device_key = forms.CharField(max_length=4 * rules.KEY_LENGTH, required=False)
    device_name = forms.CharField(max_length=4 * rules.DEVICE_NAME_MAX_LENGTH, required=False)

    def clean_grant_type(self):
        if self.cleaned_data["grant_type"] not in (GRANT_TYPE, PASSWORD_GRANT):
            raise ValidationError("unsupported", code="unsupported_grant_type")
        return self.cleaned_data["grant_type"]

    clean_client_id = _app_client

    def clean_device_key(self):
        """Read as the sign-in page reads it; a malformed key is refused without
        counting (invalid_grant, as any wrong key)."""
        value = rules.normalize_entered_key(self.cleaned_data["device_key"])
        if value and not rules.is_well_formed_key(value):
            raise ValidationError("malformed", code="invalid_grant")
        return value

    def clean_device_name(self):
        name = self.cleaned_data["device_name"]
        return rules.clean_device_name(name) if name.strip() else ""


class TokenForm(OAuthForm):
    """POST /api/oauth/introspect and /api/oauth/revoke: `token`."""

    token = forms.CharField(max_length=200)
    token_type_hint = forms.CharField(max_length=40, required=False)


class RevokeForm(TokenForm):
    """POST /api/oauth/revoke: an app (a public client) sends its client_id."""

    client_id = forms.CharField(max_length=32)
    clean_client_id = _app_client


class RefreshForm(OAuthForm):
    """POST /api/oauth/token with grant_type=refresh_token (RFC 6749 §6). `scope`, if
    given, can only be the one scope there is."""

    grant_type = forms.CharField(max_length=100)
    client_id = forms.CharField(max_length=32)
    refresh_token = forms.CharField(max_length=200)
    scope = forms.CharField(max_length=100, required=False)
    clean_client_id = _app_client

    def clean_scope(self):
        value = self.cleaned_data["scope"]
        if value and value != SCOPE:
            raise ValidationError("invalid scope", code="invalid_scope")
        return value

"""The app API's endpoints (docs/API.md): OAuth 2.0 formats, JSON answers, never a
page. Each view: parameters → form → one service call → JSON.

No cookie opens anything here (api/middleware.py drops them; CSRF does not apply:
every view is csrf_exempt), no session is made, and every answer is JSON with
`Cache-Control: no-store` (also the errors Django makes itself: api/middleware.py).
Passwords, keys and tokens are sensitive parameters: no error report shows them.
"""

import math
from datetime import timedelta

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from accounts import throttling
from accounts.exceptions import AccountThrottled
from accounts.models import Role
from api import services
from api.clientauth import REALM
from api.clientauth import basic_credentials as _basic_credentials
from api.errors import json_response, oauth_error
from api.forms import GRANT_TYPES, REFRESH_GRANT, RefreshForm, RevokeForm, TokenRequestForm
from api.rules import SCOPE
from api.tokens import IssuedTokens
from core.clientip import client_address
from core.siteurl import site_url
from devicekeys import signin
from devicekeys.exceptions import NoKeyWaiting, TooManyEntries, WrongKey
from devicekeys.services import device_key_enter

MAX_BODY = 16 * 1024  # no parameter of these endpoints needs more
MAX_TOKEN_LENGTH = 200  # the longest token the console gives is about 70 characters
FORM = "application/x-www-form-urlencoded"
INVALID_GRANT = "The login ID, the password or the device authentication key is not valid."
INVALID_REFRESH = "The refresh token is not valid: sign in again."


def throttled(wait: timedelta) -> JsonResponse:
    """429 with Retry-After: too many failures of this login ID, address or contract."""
    seconds = max(math.ceil(wait.total_seconds()), 1)
    return oauth_error(
        "slow_down",
        "Too many failed attempts. Try again later.",
        status=429,
        headers={"Retry-After": str(seconds)},
    )


def _parameters(request):
    """The form parameters of a POST, or the error to answer: another method, another
    body than a form, a body over MAX_BODY, or a parameter given twice (RFC 6749 §3.2)."""
    if request.method != "POST":
        response = oauth_error("invalid_request", "Use POST.", status=405)
        response["Allow"] = "POST"
        return None, response
    if request.content_type != FORM:
        return None, oauth_error("invalid_request", f"Send the parameters as {FORM}.")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = MAX_BODY + 1
    if length > MAX_BODY:
        return None, oauth_error("invalid_request", "The request is too large.", status=413)
    if any(len(values) > 1 for _name, values in request.POST.lists()):
        return None, oauth_error("invalid_request", "A parameter was given more than once.")
    return request.POST, None


def _form_error(form):
    code, description = form.oauth_error()
    if code == "invalid_grant":  # a malformed key: told as any wrong key
        description = INVALID_GRANT
    if code == "invalid_client":
        return _client_refused(description)
    return oauth_error(code, description)


@csrf_exempt
@sensitive_post_parameters("password", "device_key", "refresh_token")
def token(request):
    """POST /api/oauth/token: an app or tool registers with the login ID, its password
    and a 端末認証キー (the device-key grant, or the same as RFC 6749's password
    grant), and gets an access token and a refresh token; or gets the next pair with
    its refresh token (RFC 6749 §6)."""
    params, refused = _parameters(request)
    if refused:
        return refused
    if params.get("grant_type") == REFRESH_GRANT:
        return _refresh(params)
    return _device_key_grant(request, params)


@sensitive_variables("params", "tokens")
def _refresh(params):
    form = RefreshForm(params)
    if not form.is_valid():
        return _form_error(form)
    tokens = services.app_token_refresh(
        refresh_token=form.cleaned_data["refresh_token"], client=form.cleaned_data["client_id"]
    )
    if tokens is None:
        return oauth_error("invalid_grant", INVALID_REFRESH)
    return _token(tokens)


@sensitive_variables("params", "data", "enrollment", "tokens")
def _device_key_grant(request, params):
    form = TokenRequestForm(params)
    if not form.is_valid():
        return _form_error(form)
    data = form.cleaned_data
    try:
        user = throttling.check_password(
            request, login_id=data["username"], password=data["password"]
        )
    except AccountThrottled as waiting:
        return throttled(waiting.wait)
    if user is None or user.role != Role.USER:
        # One answer for an unknown login ID, a wrong password and any wrong key or
        # state below: no oracle. (A lockout by django-axes is answered by its
        # callable, accounts.views.locked_out: 429.)
        return oauth_error("invalid_grant", INVALID_GRANT)
    client, name = data["client_id"], data["device_name"]
    if not signin.device_auth_applies(user):
        tokens = services.account_token_issue(
            user=user, client=client, device_name=name, actor=user, ip=client_address(request)
        )
        return _token(tokens)
    try:
        if not data["device_key"]:
            raise NoKeyWaiting
        enrollment = device_key_enter(
            contract=user.contract,
            actor=user,
            user=user,
            entered=data["device_key"],
            ip=client_address(request),
            user_agent=signin.client_user_agent(request),
            client=client,
            device_name=name,
        )
    except WrongKey:
        return oauth_error("invalid_grant", INVALID_GRANT)
    except NoKeyWaiting:
        services.app_registration_refused(user=user, client=client)
        return oauth_error("invalid_grant", INVALID_GRANT)
    except TooManyEntries as waiting:
        return throttled(waiting.retry_after)
    return _token(enrollment.app_tokens)


@sensitive_variables("tokens")
def _token(tokens: IssuedTokens) -> JsonResponse:
    """RFC 6749 §5.1."""
    return json_response(
        {
            "access_token": tokens.access_token,
            "token_type": "Bearer",
            "expires_in": tokens.expires_in,
            "refresh_token": tokens.refresh_token,
            "scope": SCOPE,
        }
    )


def _client_refused(description: str = "Authenticate with the client ID and secret (HTTP Basic)."):
    """invalid_client: 401 with the scheme to authenticate by (RFC 6749 §5.2)."""
    return oauth_error(
        "invalid_client",
        description,
        status=401,
        headers={"WWW-Authenticate": f'Basic realm="{REALM}"'},
    )


@csrf_exempt
@sensitive_post_parameters("token")
@sensitive_variables("params", "client", "token")
def introspect(request):
    """POST /api/oauth/introspect (RFC 7662), for the storage service: is this token
    active, and whose is it. The storage service calls it on every request of every
    app: the token is read from the form without a Form (one parameter, its length
    bounded), and the client's credentials are checked in the token's own query."""
    params, refused = _parameters(request)
    if refused:
        return refused
    client = _basic_credentials(request)
    if client is None:
        return _client_refused()
    token = params.get("token", "")
    well_formed = 0 < len(token) <= MAX_TOKEN_LENGTH
    # The client is checked first, also for a request without a usable token (whose
    # query then reads the client alone).
    answer = services.token_introspect(
        token if well_formed else "", client_id=client[0], client_secret=client[1]
    )
    if answer is None:
        return _client_refused()
    if not well_formed:
        return oauth_error("invalid_request", "token: missing or too long")
    return json_response(answer)


@csrf_exempt
@sensitive_post_parameters("token")
def revoke(request):
    """POST /api/oauth/revoke (RFC 7009), by the app (a public client, named by its
    client_id): its sign-out, with its access or its refresh token. token_type_hint
    is read but not needed: the token's own row says what it is."""
    params, refused = _parameters(request)
    if refused:
        return refused
    form = RevokeForm(params)
    if not form.is_valid():
        return _form_error(form)
    data = form.cleaned_data
    services.app_token_revoke(token=data["token"], client=data["client_id"])
    # Also for a token that opened nothing or is another client's (RFC 7009 §2.2).
    return json_response({})


@csrf_exempt
@sensitive_variables("access")
def device_status(request):
    """GET /api/device/status with the app's token (RFC 6750): whether it opens the
    service, and if not why, in the language of Accept-Language."""
    if request.method not in ("GET", "HEAD"):
        response = oauth_error("invalid_request", "Use GET.", status=405)
        response["Allow"] = "GET, HEAD"
        return response
    scheme, _space, access = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not access.strip():
        return json_response(
            {"error": "invalid_request", "error_description": "Send the access token."},
            status=401,
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
        )
    status = services.device_status(access.strip()[:200], ip=client_address(request))
    if status is None:
        return json_response(
            {"error": "invalid_token", "error_description": "The access token is not known."},
            status=401,
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"'},
        )
    return json_response({"state": status.state, "message": status.message})


@csrf_exempt
def metadata(request):
    """GET /.well-known/oauth-authorization-server (RFC 8414): where the endpoints are
    and what they accept, so that a client library configures itself. The issuer is
    SITE_URL, the address this document is served under. There is no authorization
    endpoint: `response_types_supported` is ["none"], the one response type that
    gives nothing (RFC 8414 requires the member; an empty list is refused by client
    libraries' validation)."""
    if request.method not in ("GET", "HEAD"):
        response = oauth_error("invalid_request", "Use GET.", status=405)
        response["Allow"] = "GET, HEAD"
        return response
    return json_response(
        {
            "issuer": settings.SITE_URL,
            "token_endpoint": site_url(reverse("api:token")),
            "introspection_endpoint": site_url(reverse("api:introspect")),
            "revocation_endpoint": site_url(reverse("api:revoke")),
            "grant_types_supported": list(GRANT_TYPES),
            "response_types_supported": ["none"],
            "scopes_supported": [SCOPE],
            "token_endpoint_auth_methods_supported": ["none"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
            "revocation_endpoint_auth_methods_supported": ["none"],
        }
    )

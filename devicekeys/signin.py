"""Device authentication at sign-in: the step between a right password and a session.

When a user ID (利用者) of a contract whose アクセス設定 requires device authentication
gives the right password, the browser is let in only with a device credential
(devicekeys.credentials) of a registered key of theirs that is 利用中. Without
one, no session is created yet: the session holds only a *pending sign-in*, a
signed value (the user's id, a hash derived from their password hash, where to go
next) valid for PENDING_MAX_AGE, and the browser is sent to the key step. Only a
key registered there, or a valid credential, leads to Django's login().

Every signed-in session of a user ID records what it signed in with (BOUND): the
key's id and its credential hash, or None where no device check applied. The
request check (devicekeys.middleware) compares that with the key on every request.
Administrators and support staff sign in with their password only.
"""

from dataclasses import dataclass

from django.contrib.auth import login
from django.core import signing
from django.shortcuts import redirect
from django.utils.crypto import constant_time_compare
from django.views.decorators.debug import sensitive_variables

from accounts.middleware import stamp_sign_in
from accounts.models import Role, User
from devicekeys import credentials, rules
from devicekeys.models import DeviceKey
from devicekeys.selectors import access_setting_get, device_keys_with_credentials
from devicekeys.services import Enrollment

PENDING = "_device_pending"
BOUND = "_device_key"
PENDING_MAX_AGE = 10 * 60  # seconds between the password and the key
_SALT = "devicekeys.signin.pending"
BACKEND = "accounts.auth.ConsoleBackend"


@dataclass(frozen=True)
class Pending:
    """A sign-in waiting for its key: who, where to go next, and why the key is asked
    (None: this browser is not registered for the login ID; STOPPED: its key is 停止)."""

    user: User
    next_url: str
    why: rules.Refusal | None


def client_user_agent(request) -> str:
    return request.headers.get("User-Agent", "")


def device_auth_applies(user: User) -> bool:
    """Whether this account signs in with a device: a user ID of a contract whose
    アクセス設定 requires it (the default). Never an administrator: they cannot lock
    themselves out of the console."""
    if user.role != Role.USER:
        return False
    return access_setting_get(contract=user.contract).device_auth_required


def after_password(request, user: User, *, next_url: str):
    """The password step succeeded: sign in, or hold a pending sign-in and ask for a key."""
    if not device_auth_applies(user):
        return _sign_in(request, user, next_url=next_url, key=None)
    keys = device_keys_with_credentials(user=user, hashes=credentials.token_hashes(request))
    usable = [key for key in keys if key.state == rules.IN_USE]
    if usable:
        return _sign_in(request, user, next_url=next_url, key=usable[0])
    stopped = any(key.state == rules.STOPPED_IN_USE for key in keys)
    request.session.cycle_key()  # nothing of a session from before the password stays usable
    request.session[PENDING] = signing.dumps(
        {
            "user": user.pk,
            "auth": user.get_session_auth_hash(),
            "next": next_url,
            "why": rules.Refusal.STOPPED.value if stopped else None,
        },
        salt=_SALT,
    )
    return redirect("signin:device-key")


def pending(request) -> Pending | None:
    """The pending sign-in of this session, or None when there is none, it expired, or
    the account changed since (deleted, disabled, new password)."""
    try:
        data = signing.loads(request.session.get(PENDING, ""), salt=_SALT, max_age=PENDING_MAX_AGE)
    except signing.BadSignature:
        return None
    user = User.objects.select_related("contract").filter(pk=data["user"], is_active=True).first()
    if user is None or not constant_time_compare(user.get_session_auth_hash(), data["auth"]):
        return None
    why = rules.Refusal(data["why"]) if data["why"] else None
    return Pending(user=user, next_url=data["next"], why=why)


def abandon(request) -> None:
    request.session.pop(PENDING, None)


@sensitive_variables("enrollment")
def finish(request, waiting: Pending, enrollment: Enrollment):
    """The key step registered this browser: sign in and hand the browser its credential."""
    response = _sign_in(request, waiting.user, next_url=waiting.next_url, key=enrollment.key)
    credentials.add(request, response, enrollment.token)
    return response


def _sign_in(request, user: User, *, next_url: str, key: DeviceKey | None):
    abandon(request)
    login(request, user, backend=BACKEND)  # rotates the session key
    stamp_sign_in(request)
    request.session[BOUND] = {"id": key.pk, "hash": key.credential_hash} if key else None
    return redirect(next_url)

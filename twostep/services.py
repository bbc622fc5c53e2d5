"""二段階認証: one function per operation on an account's second factors.

The second factors are django-otp devices: one authenticator app (TOTPDevice), any
number of passkeys (django-otp-webauthn's WebAuthnCredential), and one set of
RECOVERY_CODES recovery codes (a StaticDevice named "recovery"), each code usable
once. Only administrators and support staff have them; a user ID's second factor
is the device key. Every enrolment, removal, use of a recovery code and failed
code is in ログ管理; a reset by support staff also mails the account. Each enrolment
(recovery codes too) and a reset ends the account's sessions that have not passed the
second step (twostep.sessions).

Wrong codes are throttled by django-otp itself: after each failure in a row a device
waits 1, 2, 4, 8 … seconds (OTP_TOTP_THROTTLE_FACTOR, OTP_STATIC_THROTTLE_FACTOR) and
meanwhile checks no code, the right one neither. A code typed then is not called wrong:
CodeThrottled says until when to wait.
"""

import logging
import time
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django_otp import devices_for_user
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import Actor, Role, User
from audit import services as audit
from audit.actions import Action
from core.exceptions import NotFound
from notifications import kinds
from notifications.services import notify

logger = logging.getLogger(__name__)

RECOVERY_CODES = 10
RECOVERY_CODES_FEW = 3  # this many left or fewer: the console asks for new ones
RECOVERY = "recovery"  # the name of the StaticDevice that holds the recovery codes
TOTP_NAME = "authenticator"
APP_CODE_DIGITS = 6  # TOTPDevice's default, the one totp_begin creates
# What each kind of device is called in ログ管理's changes ("method").
METHOD_TOTP, METHOD_PASSKEY, METHOD_RECOVERY = "totp", "passkey", "recovery"


class PasskeyNotFound(NotFound):
    """The passkey is not (or no longer) one of this account's."""


class CodeThrottled(Exception):
    """The code was not checked: a device that could take it is still waiting after
    wrong codes (django-otp's throttle), until `until`."""

    def __init__(self, until: datetime):
        super().__init__(until)
        self.until = until


class CodeUsed(Exception):
    """The code is one the authenticator app showed for a moment whose code was already
    taken (a code is accepted once): right, but used; the app's next code will do."""


def _already_taken(device: TOTPDevice, token: str) -> bool:
    """Whether `token` is the app's code of a time step the device already took a code
    of, within the steps it accepts around now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = time.time()
    for offset in range(-device.tolerance, device.tolerance + 1):
        totp.time = now + offset * device.step
        if totp.t() <= device.last_t and totp.token() == int(token):
            return True
    return False


def _waiting_until(device) -> datetime | None:
    """When django-otp's throttle lets `device` check a code again, or None if it does."""
    allowed, why = device.verify_is_allowed()
    return None if allowed else why["locked_until"]


def applies(user) -> bool:
    """Whether this account may have second factors: administrators and support staff."""
    return user.is_authenticated and user.role in (Role.ADMINISTRATOR, Role.SUPPORT)


def required(user) -> bool:
    """Whether this account must have a second factor before it may do anything:
    support staff always; administrators where TWO_STEP_REQUIRED is set."""
    if not applies(user):
        return False
    return user.role == Role.SUPPORT or settings.TWO_STEP_REQUIRED


def enrolled(user) -> bool:
    """Whether the account has a confirmed second factor (recovery codes alone do not
    count: they back up another)."""
    return any(
        device.confirmed and not isinstance(device, StaticDevice)
        for device in devices_for_user(user, confirmed=True)
    )


def _record(action: Action, user: User, actor: Actor, method: str = "") -> None:
    audit.record(
        action,
        contract=user.contract,
        actor=actor,
        target=user.login_id,
        changes={"method": ["", method]} if method else None,
    )


def _factors_changed(user: User) -> None:
    """Count a change of the account's factors that ends its sessions which have not
    passed the second step (twostep.sessions); `user` gets the new count."""
    User.objects.filter(pk=user.pk).update(factors_version=F("factors_version") + 1)
    user.refresh_from_db(fields=["factors_version"])


# --- The authenticator app ----------------------------------------------------------


@transaction.atomic
def totp_begin(*, user: User) -> TOTPDevice:
    """An authenticator app to enrol: a new secret, unconfirmed until a code of it is
    given (totp_confirm). An earlier unconfirmed one is replaced."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


@transaction.atomic
def totp_confirm(*, user: User, token: str, actor: Actor) -> TOTPDevice | None:
    """The code of the app being enrolled: right, the app replaces any earlier one and
    is the account's second factor (returned); wrong, None (and ログ管理)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        return None
    if until := _waiting_until(device):
        raise CodeThrottled(until)
    if not device.verify_token(token):
        _record(Action.TWO_STEP_FAILED, user, actor, METHOD_TOTP)
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    _factors_changed(user)
    _record(Action.TWO_STEP_ENROLLED, user, actor, METHOD_TOTP)
    return device


@transaction.atomic
def totp_remove(*, user: User, actor: Actor) -> bool:
    """Remove the account's authenticator app. Returns whether there was one."""
    deleted, _by_model = TOTPDevice.objects.filter(user=user).delete()
    if deleted:
        _record(Action.TWO_STEP_REMOVED, user, actor, METHOD_TOTP)
    return bool(deleted)


# --- Passkeys -----------------------------------------------------------------------


def passkey_list(*, user: User):
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at")


@transaction.atomic
def passkey_registered(*, user: User, device: WebAuthnCredential, actor: Actor) -> None:
    """A passkey was registered (django-otp-webauthn's ceremony): it gets a name and a
    ログ管理 entry."""
    count = passkey_list(user=user).count()
    WebAuthnCredential.objects.filter(pk=device.pk).update(name=f"Passkey {count}")
    _factors_changed(user)
    _record(Action.TWO_STEP_ENROLLED, user, actor, METHOD_PASSKEY)


def _own_passkey(user: User, pk: int) -> WebAuthnCredential:
    found = WebAuthnCredential.objects.filter(user=user, pk=pk).first()
    if found is None:
        raise PasskeyNotFound
    return found


@transaction.atomic
def passkey_rename(*, user: User, pk: int, name: str, actor: Actor) -> WebAuthnCredential:
    passkey = _own_passkey(user, pk)
    passkey.name = name.strip()[:64]
    passkey.save(update_fields=["name"])
    return passkey


@transaction.atomic
def passkey_delete(*, user: User, pk: int, actor: Actor) -> None:
    _own_passkey(user, pk).delete()
    _record(Action.TWO_STEP_REMOVED, user, actor, METHOD_PASSKEY)


# --- Recovery codes -------------------------------------------------------------------


@transaction.atomic
def recovery_codes_renew(*, user: User, actor: Actor) -> list[str]:
    """RECOVERY_CODES new recovery codes, each usable once; the earlier ones stop
    working. Returns them: they are shown once and kept nowhere else in clear."""
    StaticDevice.objects.filter(user=user, name=RECOVERY).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    _factors_changed(user)
    _record(Action.RECOVERY_CODES_RENEWED, user, actor)
    return codes


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY).count()


def recovery_codes_are_current(*, user: User, codes: list[str]) -> bool:
    """Whether `codes` are all recovery codes of the account still to be used (the page
    that showed them is still true): the download of that page returns only these, so
    that no code is ever fetched again after it was shown."""
    if not codes or len(codes) > RECOVERY_CODES or len(set(codes)) < len(codes):
        return False
    current = StaticToken.objects.filter(device__user=user, device__name=RECOVERY, token__in=codes)
    return current.count() == len(codes)


# --- The second step of the sign-in ----------------------------------------------------


def _is_app_code(token: str) -> bool:
    """Whether a typed code has the shape of the authenticator app's (6 digits); a
    recovery code never has it (8 letters and digits, StaticToken.random_token). So a
    code goes to the one kind of device that could take it, and a wrong recovery code
    does not make the app wait, nor a wrong app code the recovery codes."""
    return token.isdigit() and len(token) == APP_CODE_DIGITS


def code_verify(*, user: User, token: str):
    """A code typed at the second step: the authenticator app's, or a recovery code
    (used up). Returns the device that took it, or None for a wrong code; raises
    CodeThrottled when no device took it and one that could was still waiting after
    wrong codes (django-otp's throttle: it checked nothing), CodeUsed for the app's
    code of a moment already used. ログ管理 records a pass and a failure alike (a
    throttled or used code is a failure)."""
    token = "".join(token.split())[:16]
    kind = TOTPDevice if _is_app_code(token) else StaticDevice
    waiting, taken = [], False
    with transaction.atomic():
        for device in devices_for_user(user, for_verify=True):
            if not isinstance(device, kind):
                continue  # a passkey answers its own ceremony; each code fits one kind
            if until := _waiting_until(device):
                waiting.append(until)
            elif token and device.verify_token(token):
                is_recovery = isinstance(device, StaticDevice)
                action = Action.RECOVERY_CODE_USED if is_recovery else Action.TWO_STEP_PASSED
                _record(action, user, user, METHOD_RECOVERY if is_recovery else METHOD_TOTP)
                return device
            elif kind is TOTPDevice and token:
                taken = taken or _already_taken(device, token)
        _record(Action.TWO_STEP_FAILED, user, user)
    if waiting:
        raise CodeThrottled(max(waiting))
    if taken:
        raise CodeUsed
    return None


def passkey_verified(*, user: User) -> None:
    """A passkey answered the second step (django-otp-webauthn's ceremony)."""
    with transaction.atomic():
        _record(Action.TWO_STEP_PASSED, user, user, METHOD_PASSKEY)


# --- Support ---------------------------------------------------------------------------


@transaction.atomic
def two_step_reset(*, user: User, actor: Actor) -> int:
    """Support staff remove every second factor of an administrator who lost them (a
    lost phone): the administrator signs in with the password alone again, and is
    asked to enrol where two-step verification is required. Mailed to the account.
    Returns how many devices were removed."""
    removed = 0
    for device in devices_for_user(user, confirmed=None):
        device.delete()
        removed += 1
    _factors_changed(user)
    _record(Action.TWO_STEP_RESET, user, actor)
    notify(kinds.TWO_STEP_RESET, user=user)
    return removed

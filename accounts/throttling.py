"""The account-wide ceiling on failed sign-ins, beside django-axes' per-address lockout.

django-axes refuses a (login ID, IP address) pair after AXES_FAILURE_LIMIT failures
within AXES_COOLOFF_TIME. An attacker with many addresses gets that many guesses
from each; this ceiling counts the failures of one account from any address:

- each failure of an existing account counts (an unknown login ID keeps no row);
  a run of failures ends at a right password or after ACCOUNT_FAILURE_WINDOW without
  a failure, counted from the end of the last delay;
- from the ACCOUNT_FAILURE_LIMIT-th failure of a run, the login ID may sign in (or
  have its password checked anywhere) only after a delay: ACCOUNT_FAILURE_DELAY,
  doubled at each further failure, never longer than the window, so that a
  stranger can never lock the owner out for longer than the window at a time;
- an attempt during the delay is refused before any password is read: it is not a
  failure, counts nowhere and does not lengthen the delay;
- the first time a run reaches the limit, the administrator of the contract (an
  administrator or support staff themselves) is mailed, and ログ管理 records each
  delay;
- a browser that has proved itself for the account (accounts.known_device: its
  known-device cookie, or a user ID's registered device key in use) is not held back by
  the delay: failures from elsewhere cannot lock the owner out of their own browser.
  Its own failures count as any other (towards the run and its delay) and also for
  itself: from its ACCOUNT_FAILURE_LIMIT-th failure of the run it waits like any other
  browser, so a stolen cookie buys no more guesses than the ceiling allows.

docs/SECURITY.md says how the two limits combine.
"""

import math
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import known_device
from accounts.exceptions import AccountThrottled
from accounts.models import PasswordResetRequest, Role, SignInFailures, User
from audit import services as audit
from audit.actions import Action
from core.actors import System
from notifications import kinds
from notifications.services import notify

CEILING = System("sign-in ceiling")
REFUSED = _(
    "このログインIDはログインの失敗が続いたため、一時的にログインを制限しています。"
    "%(minutes)d分後にもう一度お試しください。"
)


def refused_message(wait: timedelta) -> str:
    """What the sign-in page (and every other password check) says during a delay."""
    return REFUSED % {"minutes": max(math.ceil(wait.total_seconds() / 60), 1)}


def check_password(request, *, login_id: str, password: str) -> User | None:
    """The account of this login ID and password, or None, checked the way a sign-in
    is: the ceiling first (AccountThrottled during a delay, and no password is read),
    then Django's authenticate() through django-axes, so that a wrong password counts
    as a failed sign-in of the account (per address and here), locks alike (django-axes
    then sets request.axes_locked_out) and is recorded in ログ管理. The one way the
    console checks a password outside the sign-in form: a password change's current
    password, the app API's token endpoint (an app presents no known-device cookie)."""
    wait = refused_for(login_id, request)
    if wait:
        raise AccountThrottled(wait)
    return authenticate(request, username=login_id, password=password)


def verify_password(request, *, user: User, password: str) -> bool:
    """Whether `password` is `user`'s (check_password, for a signed-in account)."""
    return check_password(request, login_id=user.login_id, password=password) == user


def refused_for(login_id: str, request=None) -> timedelta | None:
    """How long this login ID must wait before it may sign in again from the browser
    of `request`, or None (always None for a browser that proved itself for the account
    and has not itself reached the limit in this run)."""
    row = (
        SignInFailures.objects.filter(user__in=User.objects.with_login_id(login_id))
        .select_related("user")
        .first()
    )
    if row is None or row.refused_until is None:
        return None
    wait = row.refused_until - timezone.now()
    if wait <= timedelta(0):
        return None
    device = known_device.device_of(request, row.user) if request is not None else None
    if device is not None and _own_failures(row, device) < settings.ACCOUNT_FAILURE_LIMIT:
        return None
    return wait


def delay_after(failures: int) -> timedelta | None:
    """The delay after the `failures`-th failure of a run (None below the limit)."""
    over = failures - settings.ACCOUNT_FAILURE_LIMIT
    if over < 0:
        return None
    delay = settings.ACCOUNT_FAILURE_DELAY * 2 ** min(over, 32)
    return min(delay, settings.ACCOUNT_FAILURE_WINDOW)


@transaction.atomic
def count_failure(login_id: str, request=None) -> None:
    """A sign-in (or a password check) of this login ID failed, in the browser of
    `request` when there is one."""
    user = User.objects.with_login_id(login_id).select_related("contract").first()
    if user is None:
        return
    device = known_device.device_of(request, user) if request is not None else None
    SignInFailures.objects.bulk_create([SignInFailures(user=user)], ignore_conflicts=True)
    row = SignInFailures.objects.select_for_update().get(user=user)
    now = timezone.now()
    last = max(filter(None, [row.last_failure_at, row.refused_until]), default=None)
    if last and now - last > settings.ACCOUNT_FAILURE_WINDOW:  # quiet for a window: a new run
        row.failures, row.refused_until, row.notified_at = 0, None, None
        row.known_device_failures = {}
    row.failures += 1
    if device is not None:
        row.known_device_failures[device] = _own_failures(row, device) + 1
    row.last_failure_at = now
    delay = delay_after(row.failures)
    if delay is not None:
        row.refused_until = now + delay
        audit.record(
            Action.ACCOUNT_THROTTLED,
            contract=user.contract,
            actor=CEILING,
            target=user.login_id,
            changes={
                "failures": ["", row.failures],
                "delay_minutes": ["", _minutes(delay)],
            },
        )
        if row.notified_at is None:
            row.notified_at = now
            notify(
                kinds.SIGN_IN_FAILURES,
                user=_told(user),
                target_login_id=user.login_id,
                failures=row.failures,
                window_minutes=_minutes(settings.ACCOUNT_FAILURE_WINDOW),
            )
    row.save()


def _own_failures(row: SignInFailures, device: str) -> int:
    """The failures of the run made from this known device."""
    return row.known_device_failures.get(device, 0)


def reset(user: User) -> None:
    """A right password at the sign-in page ends the run of failures."""
    SignInFailures.objects.filter(user=user).delete()


def _told(user: User) -> User:
    """Who is mailed about an account's failures: the contract's administrator for a
    user ID, the account itself for an administrator or support staff."""
    if user.role != Role.USER:
        return user
    return User.objects.for_contract(user.contract).get(role=Role.ADMINISTRATOR)


def _minutes(delay: timedelta) -> int:
    return max(int(delay.total_seconds() // 60), 1)


# --- パスワードをお忘れの方 -------------------------------------------------------------

RESET_WINDOW = timedelta(hours=1)
RESETS_PER_LOGIN_ID = 3
RESETS_PER_ADDRESS = 10


def reset_allowed(login_id: str, ip: str | None) -> bool:
    """Whether a password reset mail may go for this login ID from this address now:
    at most RESETS_PER_LOGIN_ID an hour for one login ID, RESETS_PER_ADDRESS an hour from
    one address, whatever the login IDs. Each request counts, known login ID or not
    (the answer is the same either way). Rows older than the window go."""
    since = timezone.now() - RESET_WINDOW
    PasswordResetRequest.objects.filter(at__lt=since).delete()
    login_id = login_id.strip().lower()[:254]
    recent = PasswordResetRequest.objects.filter(at__gte=since)
    allowed = (
        recent.filter(login_id=login_id).count() < RESETS_PER_LOGIN_ID
        and recent.filter(ip=ip).count() < RESETS_PER_ADDRESS
    )
    PasswordResetRequest.objects.create(login_id=login_id, ip=ip)
    return allowed

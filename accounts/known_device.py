"""The known-device cookie: a browser that has proved itself for an account (OWASP's
"device cookies" defence against lockout by strangers).

When a sign-in completes (the password, and the key step or the second step where
they apply) the browser gets a signed cookie bound to the account. The account-wide
ceiling (accounts.throttling) does not hold such a browser back for failures that came
from elsewhere, so that a stranger's guesses can never lock the owner out of their own
browser; the browser's own failures still count against it.

- **Bound to the account**: each entry holds the account's id and a check value, an
  HMAC (SECRET_KEY, this module's salt) of the account's password hash: a new password
  (a change or a reset) ends every cookie issued before it, a stolen one included.
  The check is compared in constant time; the whole value is signed
  (django.core.signing), so no entry can be forged or moved to another account.
- **Which browser**: each entry carries a random device id (kept across sign-ins), by
  which the ceiling counts that browser's own failures.
- **Lifetime**: KNOWN_DEVICE_LIFETIME (months) from the entry's last sign-in; the
  cookie outlives sign-out and the session. HttpOnly, SameSite=Lax, Secure exactly
  when the session cookie is.
- **A shared browser** (an office PC) keeps entries for up to MAX_ACCOUNTS accounts,
  newest first.

A user ID's registered device key in use is the same kind of proof: `device_of` also
answers for a browser holding the credential of such a key (devicekeys.credentials).

Only the request and the response are read and written here (and the account's keys,
for that credential); the ceiling's counts live in accounts.throttling.
"""

import secrets
import time

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import Role, User
from devicekeys import credentials, rules
from devicekeys.selectors import device_keys_with_credentials

COOKIE_NAME = "azukeru_known"
MAX_ACCOUNTS = 10
_SALT = "accounts.known_device"
_ENTRY = (int, str, str, int)  # account id, device id, check value, issued (epoch seconds)
_KEY_DEVICE = "key-{pk}"  # a device key in use, as a device of the ceiling's count


def device_of(request, user: User) -> str | None:
    """The id by which this browser has proved itself for `user`: its known-device
    entry for the account, or, for a user ID, a registered device key in use whose
    credential it holds; None when it has proved nothing."""
    now = time.time()
    check = _check(user)
    for pk, device, checked, issued in _entries(request):
        fresh = now - issued <= _lifetime()
        if pk == user.pk and fresh and constant_time_compare(checked, check):
            return device
    if user.role == Role.USER:
        keys = device_keys_with_credentials(user=user, hashes=credentials.token_hashes(request))
        for key in keys:
            if key.state == rules.IN_USE:
                return _KEY_DEVICE.format(pk=key.pk)
    return None


def issue(request, response, user: User) -> None:
    """A sign-in of `user` completed in this browser: give it (again) the account's
    entry, keeping its entries of other accounts that are still valid."""
    now = int(time.time())
    held = _entries(request)
    device = next((entry[1] for entry in held if entry[0] == user.pk), None)
    others = [entry for entry in held if entry[0] != user.pk and now - entry[3] <= _lifetime()]
    entries = [[user.pk, device or secrets.token_urlsafe(12), _check(user), now], *others]
    response.set_cookie(
        COOKIE_NAME,
        signing.dumps(entries[:MAX_ACCOUNTS], salt=_SALT),
        max_age=int(_lifetime()),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _entries(request) -> list[list]:
    """The well-formed entries of the browser's signed cookie (none when it is missing,
    tampered with or older than the lifetime)."""
    try:
        value = signing.loads(request.COOKIES.get(COOKIE_NAME, ""), salt=_SALT, max_age=_lifetime())
    except signing.BadSignature:
        return []
    if not isinstance(value, list):
        return []
    return [entry for entry in value if _well_formed(entry)]


def _well_formed(entry) -> bool:
    return (
        isinstance(entry, list)
        and len(entry) == len(_ENTRY)
        and all(isinstance(part, kind) for part, kind in zip(entry, _ENTRY, strict=True))
    )


def _check(user: User) -> str:
    """The value that binds an entry to the account's current password."""
    return salted_hmac(_SALT, user.password, algorithm="sha256").hexdigest()


def _lifetime() -> float:
    return settings.KNOWN_DEVICE_LIFETIME.total_seconds()

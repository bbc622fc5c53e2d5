"""Domain exceptions of device authentication keys. Views turn them into
messages; the limit of keys per contract is core.exceptions.LimitReached."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import NotFound


class DeviceKeyNotFound(NotFound):
    """The key is not (or no longer) one of this contract's."""

    message = _("この端末認証キーは見つかりません。すでに削除された可能性があります。")


class InvalidTransition(Exception):
    """The status rules (devicekeys.rules) refuse this action on this key, or by this caller."""

    def __init__(self, action, state, by):
        self.action, self.state, self.by = action, state, by
        super().__init__(f"{by} may not {action} a key in state {state}")


class KeyEntryRefused(Exception):
    """An entered device authentication key registered nothing (the sign-in flow)."""


class WrongKey(KeyEntryRefused):
    """Not a key waiting for this login ID; `remaining` more wrong entries are allowed.
    At 0 the login ID's waiting keys have just become 無効."""

    def __init__(self, remaining: int):
        self.remaining = remaining
        super().__init__(f"wrong key, {remaining} entries left")


class NoKeyWaiting(KeyEntryRefused):
    """The login ID has no key that a device could register (利用中 and unregistered)."""


class TooManyEntries(KeyEntryRefused):
    """Too many wrong keys of this contract from this IP address lately: no key is
    compared now; `retry_after` (a timedelta) says when one may be again."""

    def __init__(self, retry_after):
        self.retry_after = retry_after
        super().__init__(f"too many wrong keys, retry after {retry_after}")

"""Domain exceptions of contracts and user IDs (the shared ones are in
core.exceptions). Views turn them into form errors or messages, manage.py
commands into CommandError."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import NotFound


class AccountThrottled(Exception):
    """The account-wide ceiling (accounts.throttling) refuses a password check for
    `wait` (a timedelta) more: too many failed sign-ins of the account lately."""

    def __init__(self, wait):
        self.wait = wait
        super().__init__(f"account throttled for {wait}")


class UserNotFound(NotFound):
    """The user ID is not (or no longer) one of this contract's."""

    message = _("この利用者IDは見つかりません。すでに削除された可能性があります。")

"""Domain exceptions of the app API. Views turn them into their answers."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import NotFound


class AppRegistrationNotFound(NotFound):
    """The app sign-in is not (or no longer) one of this login ID's in this contract."""

    message = _("このアプリのログインは見つかりません。すでに削除された可能性があります。")

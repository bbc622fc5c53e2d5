"""The domain exceptions every app shares. Services raise them; each front end
turns them into its own answer: a view into a 404 or a message next to the form,
Django admin into a message, a manage.py command into CommandError."""

from django.utils.translation import gettext_lazy as _


class LimitReached(Exception):
    """A contract already holds the most rows of a kind that it may hold
    (core.limits: 999 user IDs, 999 device keys). Its text is the limit's message."""


class NotFound(Exception):
    """The row a service was asked to change is not there: deleted meanwhile, or
    another contract's (the two are never told apart). core.http turns it into 404
    for every view; Django admin and commands show `message`. The apps subclass it
    per entity, each with its own message."""

    message = _("対象が見つかりません。すでに削除された可能性があります。")

    def __str__(self):
        return str(self.message)

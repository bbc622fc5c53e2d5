"""Domain exceptions of the console. Views turn them into form errors or
messages, manage.py commands into CommandError."""


class LimitReached(Exception):
    """A contract already holds the most rows of a kind that it may hold."""


class ImportInProgress(Exception):
    """A CSV import of this contract is already queued or running."""


class StorageFull(Exception):
    """The server has no room left to store what was sent (a full disk)."""

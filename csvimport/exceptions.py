"""Domain exceptions of the CSV import. The views turn them into messages."""


class ImportInProgress(Exception):
    """A CSV import of this contract is already queued or running."""


class StorageFull(Exception):
    """The server has no room left to store what was sent (a full disk)."""

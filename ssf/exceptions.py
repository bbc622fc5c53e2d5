class StreamNotFound(Exception):
    """No stream of this id belongs to the API client (none, or another client's)."""


class StreamLimitReached(Exception):
    """The API client has as many streams as it may have."""


class VerificationTooSoon(Exception):
    """A verification was asked for sooner than min_verification_interval after the last."""

    def __init__(self, wait_seconds: int):
        super().__init__(wait_seconds)
        self.wait_seconds = wait_seconds


class WorkerLost(Exception):
    """Recorded on a delivery task row whose worker died before it finished (the sweep
    closes such rows; the event itself is pushed again from its row)."""

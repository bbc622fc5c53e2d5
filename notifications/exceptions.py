class WorkerLost(Exception):
    """Recorded on a delivery task row whose worker died before it finished (the
    sweep closes such rows; the mail itself is delivered again from the outbox)."""

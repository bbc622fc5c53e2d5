"""The client's address: the one place that reads it from a request."""


def client_address(request) -> str | None:
    """The address of the client that sent `request`, or None when unknown."""
    return request.META.get("REMOTE_ADDR") or None

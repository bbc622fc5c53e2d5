"""How the storage service authenticates: its API client's ID and secret in HTTP
Basic (RFC 6749 §2.3.1), for introspection (api.views) and the event streams
(ssf.views) alike, and the one answer when they are missing or wrong."""

import base64
from urllib.parse import unquote

from django.views.decorators.debug import sensitive_variables

from api import services
from api.errors import oauth_error
from api.models import ApiClient

REALM = "Azukeru PRO"


@sensitive_variables("secret")
def basic_credentials(request) -> tuple[str, str] | None:
    """The client ID and secret of HTTP Basic (RFC 6749 §2.3.1), or None."""
    scheme, _space, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon or len(client_id) > 200 or len(secret) > 200:
        return None
    return unquote(client_id), unquote(secret)


@sensitive_variables("credentials")
def authenticated_client(request) -> ApiClient | None:
    """The active API client whose credentials the request carries, or None."""
    credentials = basic_credentials(request)
    if credentials is None:
        return None
    return services.api_client_authenticate(client_id=credentials[0], client_secret=credentials[1])


def client_refused():
    """401 invalid_client with the challenge RFC 6749 §5.2 asks for."""
    return oauth_error(
        "invalid_client",
        "Authenticate with the client ID and secret (HTTP Basic).",
        status=401,
        headers={"WWW-Authenticate": f'Basic realm="{REALM}"'},
    )

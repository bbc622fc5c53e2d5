"""The storage service's Shared Signals receiver (OpenID SSF 1.0, RFC 8935 push,
RFC 8417 Security Event Tokens, CAEP events). Everything it knows of the transmitter
comes from the console's /.well-known/ssf-configuration; each SET is verified with
joserfc against the keys of its `jwks_uri`, and its `iss` and `aud` are checked."""

import functools
import secrets
import time

import requests
from django.conf import settings
from django.db import transaction
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from oauth2_provider.models import AccessToken

from tests.storage_service.models import ReceivedEvent, Stream

PUSH = "urn:ietf:rfc:8935"
SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
CREDENTIAL_CHANGE = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
VERIFICATION = "https://schemas.openid.net/secevent/ssf/event-type/verification"
SET_TYPE = "secevent+jwt"  # RFC 8417 §2.3: the header's explicit type
ALGORITHMS = ["ES256", "RS256", "PS256", "EdDSA"]  # signatures with a public key only
TIMEOUT = 10

_keys: KeySet | None = None


class Refused(Exception):
    """A SET not accepted; `code` is RFC 8935 §2.3's error code."""

    def __init__(self, code: str, description: str):
        super().__init__(description)
        self.code = code
        self.description = description


@functools.cache
def configuration() -> dict:
    response = requests.get(
        f"{settings.CONSOLE_URL}/.well-known/ssf-configuration", timeout=TIMEOUT
    )
    response.raise_for_status()
    return response.json()


def _key_set(*, refresh: bool = False) -> KeySet:
    """The transmitter's keys, fetched again when a SET names a key not among them
    (the console rotated its key)."""
    global _keys
    if _keys is None or refresh:
        response = requests.get(configuration()["jwks_uri"], timeout=TIMEOUT)
        response.raise_for_status()
        _keys = KeySet.import_key_set(response.json())
    return _keys


def verify(body: bytes) -> dict:
    """The claims of a pushed SET, or Refused."""
    try:
        try:
            token = jwt.decode(body, _key_set(), algorithms=ALGORITHMS)
        except (JoseError, ValueError):
            token = jwt.decode(body, _key_set(refresh=True), algorithms=ALGORITHMS)
    except (JoseError, ValueError) as error:
        raise Refused("invalid_key", "The signature does not verify.") from error
    if token.header.get("typ") != SET_TYPE:
        raise Refused("invalid_request", "Not a Security Event Token.")
    claims = token.claims
    if claims.get("iss") != configuration()["issuer"]:
        raise Refused("invalid_issuer", "Unknown issuer.")
    audience = claims.get("aud")
    if settings.CLIENT_ID not in (audience if isinstance(audience, list) else [audience]):
        raise Refused("invalid_audience", "Not for this receiver.")
    if not isinstance(claims.get("events"), dict) or not claims.get("jti"):
        raise Refused("invalid_request", "Not a Security Event Token.")
    return claims


@transaction.atomic
def receive(claims: dict) -> ReceivedEvent | None:
    """Act on a verified SET, once per `jti`: a session revoked drops the cached
    tokens of that session (the console's app registration, introspection's `sid`); a
    credential change drops those of the login ID (`sub`), whose next request is then
    introspected again; verification marks the stream verified."""
    if ReceivedEvent.objects.filter(jti=claims["jti"]).exists():
        return None
    [(event_type, event)] = claims["events"].items()
    subject = claims.get("sub_id") or event.get("subject") or {}
    dropped = AccessToken.objects.none()
    if event_type == SESSION_REVOKED:
        session = subject.get("session", subject)
        dropped = AccessToken.objects.filter(cachedsession__sid=session.get("id", ""))
    elif event_type == CREDENTIAL_CHANGE:
        user = subject.get("user", subject)
        dropped = AccessToken.objects.filter(cachedsession__sub=user.get("sub", ""))
    elif event_type == VERIFICATION:
        Stream.objects.filter(verification_state=event.get("state", "")).update(verified=True)
    _total, by_model = dropped.delete()  # with the CachedSession rows beside them
    return ReceivedEvent.objects.create(
        jti=claims["jti"],
        event_type=event_type,
        subject=subject,
        received_at=time.time(),
        dropped=by_model.get(AccessToken._meta.label, 0),
    )


def subscribe() -> Stream:
    """Create a stream at the console (SSF 1.0 §8.1.1, with this service's API client
    credentials) for push to this service, and ask for its verification event."""
    config = configuration()
    credentials = (settings.CLIENT_ID, settings.CLIENT_SECRET)
    response = requests.post(
        config["configuration_endpoint"],
        auth=credentials,
        json={
            "delivery": {"method": PUSH, "endpoint_url": f"{settings.STORAGE_URL}/ssf/events"},
            "events_requested": [SESSION_REVOKED, CREDENTIAL_CHANGE],
            "description": "storage service",
        },
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    stream = Stream.objects.create(
        stream_id=response.json()["stream_id"], verification_state=secrets.token_urlsafe(16)
    )
    response = requests.post(
        config["verification_endpoint"],
        auth=credentials,
        json={"stream_id": stream.stream_id, "state": stream.verification_state},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return stream

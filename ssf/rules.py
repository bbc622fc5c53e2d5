"""Pure rules of the Shared Signals transmitter: no database, no request, no network.

- Which events the console sends, and what each SET says (SSF 1.0, CAEP 1.0,
  RFC 8417 claims, RFC 9493 subjects).
- Which receiver URLs a stream may push to.
- When a failed delivery is tried again (RFC 8935 answers).
"""

import ipaddress
import json
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import models
from django.utils.translation import gettext_lazy as _

SPEC_VERSION = "1_0"
PUSH = "urn:ietf:rfc:8935"
CAEP = "https://schemas.openid.net/secevent/caep/event-type/"
SESSION_REVOKED = CAEP + "session-revoked"
CREDENTIAL_CHANGE = CAEP + "credential-change"
VERIFICATION = "https://schemas.openid.net/secevent/ssf/event-type/verification"
# What a receiver may ask for; the verification event is sent whatever it asked.
SUPPORTED_EVENTS = (SESSION_REVOKED, CREDENTIAL_CHANGE)

MAX_STREAMS_PER_CLIENT = 10
MIN_VERIFICATION_INTERVAL = 30  # seconds between two verification requests of a stream
MAX_URL_LENGTH = 2000
MAX_AUTHORIZATION_LENGTH = 1000
MAX_DESCRIPTION_LENGTH = 200
MAX_STATE_LENGTH = 200
MAX_REASON_LENGTH = 200
MAX_EVENTS_REQUESTED = 20
MAX_EVENT_TYPE_LENGTH = 200


def new_stream_id() -> str:
    return secrets.token_urlsafe(16)


def is_stream_id(value) -> bool:
    """Whether `value` can be a stream id at all (what new_stream_id makes)."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 64
        and value.isascii()
        and all(char.isalnum() or char in "-_" for char in value)
    )


def new_jti() -> str:
    return secrets.token_hex(16)


class StreamStatus(models.TextChoices):
    """SSF 1.0 §8.1.2: enabled streams get events; paused ones keep them until
    enabled again; disabled ones get none."""

    ENABLED = "enabled", _("有効")
    PAUSED = "paused", _("一時停止")
    DISABLED = "disabled", _("無効")


class Initiator(models.TextChoices):
    """CAEP 1.0 `initiating_entity`."""

    ADMIN = "admin"
    USER = "user"
    POLICY = "policy"
    SYSTEM = "system"


def events_delivered(requested: list[str]) -> list[str]:
    """The events a stream gets: those it asked for that the console sends."""
    return [event for event in SUPPORTED_EVENTS if event in requested]


# --- Subjects (RFC 9493) and the SETs -------------------------------------------------


def user_subject(issuer: str, user_id: int) -> dict:
    """The login ID as introspection names it (`sub`), under the console as issuer."""
    return {"format": "iss_sub", "iss": issuer, "sub": str(user_id)}


def session_subject(issuer: str, user_id: int | None, session_id: str) -> dict:
    """An app registration: introspection's `sid`, and the login ID it belongs to."""
    subject = {"format": "complex"}
    if user_id is not None:
        subject["user"] = user_subject(issuer, user_id)
    subject["session"] = {"format": "opaque", "id": session_id}
    return subject


def caep_event(*, occurred: datetime, initiator: Initiator, reason: dict[str, str]) -> dict:
    """The members every CAEP event of the console carries."""
    return {
        "event_timestamp": int(occurred.timestamp()),
        "initiating_entity": initiator.value,
        "reason_admin": reason,
    }


def credential_change(*, occurred: datetime, initiator: Initiator, reason: dict) -> dict:
    """CAEP credential-change of a password (changed, or set again through a reset)."""
    return {
        "credential_type": "password",
        "change_type": "update",
        **caep_event(occurred=occurred, initiator=initiator, reason=reason),
    }


def set_claims(*, issuer: str, audience: str, jti: str, issued: datetime, subject, events):
    """RFC 8417 claims with SSF 1.0's `sub_id`."""
    return {
        "iss": issuer,
        "aud": audience,
        "iat": int(issued.timestamp()),
        "jti": jti,
        "sub_id": subject,
        "events": events,
    }


# --- Receiver URLs --------------------------------------------------------------------

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class ReceiverUrlError(ValueError):
    pass


def check_receiver_url(url: str, *, allow_insecure: bool) -> str:
    """The push endpoint as given, or ReceiverUrlError saying what is wrong: an
    absolute https URL to a public host (http and loopback or private addresses only
    when `allow_insecure`, for local tests)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise ReceiverUrlError(f"endpoint_url must be a URL of at most {MAX_URL_LENGTH} chars")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port that is no number raises ValueError)
    except ValueError as error:
        raise ReceiverUrlError("endpoint_url is no URL") from error
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ReceiverUrlError("endpoint_url must be an absolute https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ReceiverUrlError("endpoint_url must carry no user name or password")
    if parts.fragment or any(ord(char) < 0x21 or ord(char) > 0x7E for char in url):
        raise ReceiverUrlError("endpoint_url must be a plain ASCII URL without fragment")
    if allow_insecure:
        return url
    if parts.scheme != "https":
        raise ReceiverUrlError("endpoint_url must use https")
    if is_local_host(parts.hostname):
        raise ReceiverUrlError("endpoint_url must name a public host, not a local address")
    return url


def is_local_host(host: str) -> bool:
    """A name or address of this machine or of a private network."""
    host = host.lower().rstrip(".")
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


# --- Delivery (RFC 8935) --------------------------------------------------------------

# After the 1st, 2nd, ... failed attempt; after the last one the event is failed.
RETRY_DELAYS = (
    timedelta(seconds=10),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
TIMEOUT = 10  # seconds a receiver has to answer one push
# An attempt not finished this long after it started belongs to a worker that died.
ATTEMPT_LEASE = timedelta(minutes=2)
REQUEUE_AFTER = timedelta(minutes=5)


def next_attempt_at(*, attempts: int, now: datetime) -> datetime | None:
    """The time of the next attempt after `attempts` failed ones, or None to give up."""
    return now + RETRY_DELAYS[attempts - 1] if attempts < MAX_ATTEMPTS else None


def delivered(status: int) -> bool:
    """RFC 8935 §2.2: the receiver accepted the SET (202; any 2xx is taken as yes)."""
    return 200 <= status < 300


def refusal(status: int, body: bytes) -> tuple[bool, str]:
    """Whether a receiver's answer other than success is final, and its words for
    support staff. 400 is the receiver's judgement of the SET (RFC 8935 §2.3, its
    `err`): sending it again cannot help. Anything else (429, 5xx, a receiver being
    set up: 401, 404) is tried again."""
    described = f"HTTP {status}"
    try:
        answer = json.loads(body[:4096])
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("err"), str):
        described += f" err={answer['err'][:64]}"
        if isinstance(answer.get("description"), str):
            described += f": {answer['description'][:200]}"
    return status == 400, described


# --- Stream configuration (SSF 1.0 §8.1.1) ----------------------------------------------


class ConfigError(ValueError):
    """A stream configuration the console does not take; the message says why."""


# Set by the transmitter: ignored when a receiver sends them back (SSF 1.0 §8.1.1.3).
TRANSMITTER_SUPPLIED = frozenset(
    {
        "stream_id",
        "iss",
        "aud",
        "events_supported",
        "events_delivered",
        "min_verification_interval",
        "inactivity_timeout",
    }
)


def stream_config(body, *, allow_insecure: bool, partial: bool) -> dict:
    """The stream fields a receiver's configuration sets: `endpoint_url`,
    `authorization_header`, `events_requested`, `description` (only those given when
    `partial`, for PATCH). Raises ConfigError."""
    if not isinstance(body, dict):
        raise ConfigError("The body must be a JSON object.")
    fields = {}
    if "delivery" in body or not partial:
        delivery = body.get("delivery")
        if not isinstance(delivery, dict):
            raise ConfigError("delivery: an object with method and endpoint_url is required")
        if delivery.get("method") != PUSH:
            raise ConfigError(f"delivery.method: only {PUSH} (push) is supported")
        fields["endpoint_url"] = _receiver_url(delivery.get("endpoint_url"), allow_insecure)
        authorization = delivery.get("authorization_header", "")
        if not isinstance(authorization, str) or len(authorization) > MAX_AUTHORIZATION_LENGTH:
            raise ConfigError("delivery.authorization_header: a string, at most 1000 chars")
        if any(ord(char) < 0x20 or ord(char) > 0x7E for char in authorization):
            raise ConfigError("delivery.authorization_header: printable ASCII only")
        fields["authorization_header"] = authorization
    if "events_requested" in body or not partial:
        requested = body.get("events_requested", [])
        if not isinstance(requested, list) or len(requested) > MAX_EVENTS_REQUESTED:
            raise ConfigError("events_requested: a list of at most 20 event type URIs")
        for event in requested:
            _text(event, "events_requested", MAX_EVENT_TYPE_LENGTH)
        fields["events_requested"] = list(dict.fromkeys(requested))
    if "description" in body or not partial:
        fields["description"] = _text(
            body.get("description", ""), "description", MAX_DESCRIPTION_LENGTH
        )
    return fields


def _text(value, name: str, limit: int) -> str:
    """A string of at most `limit` characters without control characters (which no
    database column takes alike: PostgreSQL refuses NUL), or ConfigError."""
    if not isinstance(value, str) or len(value) > limit:
        raise ConfigError(f"{name}: a string of at most {limit} characters")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise ConfigError(f"{name}: no control characters")
    return value


def _receiver_url(url, allow_insecure: bool) -> str:
    try:
        return check_receiver_url(url, allow_insecure=allow_insecure)
    except ReceiverUrlError as error:
        raise ConfigError(f"delivery.{error}") from error


def stream_status(body) -> tuple[StreamStatus, str]:
    """The status and reason a status update (SSF 1.0 §8.1.2.2) asks for."""
    status = body.get("status") if isinstance(body, dict) else None
    if status not in StreamStatus.values:
        raise ConfigError("status: one of enabled, paused, disabled")
    return StreamStatus(status), _text(body.get("reason", ""), "reason", MAX_REASON_LENGTH)


def verification_state(body) -> str:
    """The `state` a verification request (SSF 1.0 §8.1.4.2) asks to have echoed."""
    if not isinstance(body, dict):
        raise ConfigError("The body must be a JSON object.")
    return _text(body.get("state", ""), "state", MAX_STATE_LENGTH)

"""One push (RFC 8935) of one security event, as the delivery task runs it: claim
the row (core.outbox: never two attempts at once, never again once delivered), sign
the SET with the key first at this moment, POST it to the stream's receiver outside
any transaction, and record what became of it.

- 2xx (202 as RFC 8935 says): delivered.
- 400: the receiver refused the SET (its `err` recorded); final.
- Anything else, a timeout or no connection: tried again after rules.RETRY_DELAYS,
  at most rules.MAX_ATTEMPTS times.

urllib of the standard library speaks HTTP; redirects are not followed (a receiver
may not send the SET elsewhere), and a receiver name that resolves to a loopback or
private address is refused unless SSF_ALLOW_INSECURE_RECEIVERS.
"""

import http.client
import logging
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from core.outbox import Status
from ssf import keys, rules
from ssf.models import SecurityEvent

logger = logging.getLogger(__name__)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx answer stays an HTTPError: tried again later


_OPENER = urllib.request.build_opener(_NoRedirects)


class Refused(Exception):
    def __init__(self, description: str, *, final: bool):
        super().__init__(description)
        self.final = final


def deliver(event_id: int) -> str:
    """Make one attempt at the event if it is due; return what became of it."""
    now = timezone.now()
    if not SecurityEvent.objects.sendable().claim(event_id, now):
        return "skipped"
    event = SecurityEvent.objects.select_related("stream").get(pk=event_id)
    try:
        push(event.stream, keys.sign(event.claims))
    except Refused as refusal:
        return _record_failure(event, str(refusal), final=refusal.final)
    SecurityEvent.objects.filter(pk=event.pk).update(
        status=Status.SENT, sent_at=timezone.now(), last_error=""
    )
    logger.info("Security event %s delivered on attempt %s", event.jti, event.attempts)
    return Status.SENT.value


def push(stream, token: str) -> None:
    """POST the SET to the stream's receiver; Refused unless it was accepted."""
    host = urlsplit(stream.endpoint_url).hostname or ""
    if not settings.SSF_ALLOW_INSECURE_RECEIVERS and _resolves_locally(host):
        raise Refused("The receiver's host resolves to a local address.", final=True)
    headers = {"Content-Type": "application/secevent+jwt", "Accept": "application/json"}
    if stream.authorization_header:
        headers["Authorization"] = stream.authorization_header
    request = urllib.request.Request(  # noqa: S310 (https, or http with the switch: rules)
        stream.endpoint_url, data=token.encode(), headers=headers, method="POST"
    )
    try:
        with _OPENER.open(request, timeout=rules.TIMEOUT) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status, body = error.code, _body(error)
        if not rules.delivered(status):
            final, description = rules.refusal(status, body)
            raise Refused(description, final=final) from error
    except (OSError, ValueError, http.client.HTTPException) as error:
        # No connection, a timeout, TLS, a bad URL, an answer that is no HTTP.
        raise Refused(f"{type(error).__name__}: {error}"[:500], final=False) from error
    if not rules.delivered(status):
        raise Refused(f"HTTP {status}", final=False)


def _body(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read(4096)
    except OSError:
        return b""


def _resolves_locally(host: str) -> bool:
    if rules.is_local_host(host):
        return True
    try:
        addresses = socket.getaddrinfo(host, None)
    except OSError:
        return False  # unknown: the push itself fails and is tried again
    return any(rules.is_local_host(address[4][0]) for address in addresses)


def _record_failure(event: SecurityEvent, description: str, *, final: bool) -> str:
    retry_at = None if final else rules.next_attempt_at(attempts=event.attempts, now=timezone.now())
    outcome = SecurityEvent.objects.record_failure(event.pk, retry_at=retry_at, reason=description)
    log = logger.error if outcome == Status.FAILED else logger.warning
    log(
        "Security event %s to stream %s, attempt %s: %s (%s)",
        event.jti,
        event.stream.stream_id,
        event.attempts,
        description,
        outcome,
    )
    return outcome.value

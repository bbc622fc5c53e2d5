"""The Shared Signals transmitter's operations (docs/API.md, "Events"): the streams
an API client manages, and the events recorded for them.

- Streams: `stream_create`, `stream_change`, `stream_delete`, `stream_status_change`,
  `stream_verify`, each for the API client's own streams only (another client's
  stream id is StreamNotFound, as a missing one).
- Events: `sessions_revoked` (api.registrations, for each app registration an event
  suspended or ended) and `credential_changed` (accounts.services, a new password).
  Each records one SecurityEvent per stream that asked for its type, in the caller's
  transaction, and queues its delivery on commit (core.outbox): a rolled-back change
  pushes nothing, a committed one is pushed by a worker, never by the request.

This module sits below the services of accounts, devicekeys and api (it imports
none of them), so that they call it inside their own transaction.
"""

import json
import logging
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone, translation

from accounts.models import Actor, Role, User
from api.models import ApiClient
from api.rules import Event
from core import outbox, taskrows
from core.actors import Anonymous
from ssf import keys, rules, selectors
from ssf.exceptions import StreamLimitReached, VerificationTooSoon, WorkerLost
from ssf.models import SecurityEvent, Stream
from ssf.rules import Initiator, StreamStatus
from ssf.tasks import deliver_event, enqueue_delivery

logger = logging.getLogger(__name__)

SWEEP_BATCH = 1000
# The events of the console's own policy rather than of a person.
POLICY_EVENTS = frozenset({Event.KEY_REQUIRED})


# --- Streams ----------------------------------------------------------------------------


def _locked_stream(client: ApiClient, stream_id: str) -> Stream:
    return selectors.stream_get(client=client, stream_id=stream_id, lock=True)


def _set(stream: Stream, fields: dict) -> None:
    for name, value in fields.items():
        setattr(stream, name, value)
    stream.events_delivered = json.dumps(rules.events_delivered(stream.events_requested))
    stream.updated_at = timezone.now()


@transaction.atomic
def stream_create(*, client: ApiClient, actor: Actor, config: dict) -> Stream:
    """A new stream of `client` with the fields of rules.stream_config."""
    ApiClient.objects.select_for_update().filter(pk=client.pk).first()
    if Stream.objects.of_client(client).count() >= rules.MAX_STREAMS_PER_CLIENT:
        raise StreamLimitReached
    stream = Stream(client=client)
    _set(stream, config)
    stream.save()
    logger.info("SSF stream %s created by %s for %s", stream.stream_id, actor, client.client_id)
    return stream


@transaction.atomic
def stream_change(*, client: ApiClient, actor: Actor, stream_id: str, config: dict) -> Stream:
    """Update (the fields given) or replace (all of them) a stream's configuration."""
    stream = _locked_stream(client, stream_id)
    _set(stream, config)
    stream.save()
    logger.info("SSF stream %s changed by %s", stream.stream_id, actor)
    return stream


@transaction.atomic
def stream_delete(*, client: ApiClient, actor: Actor, stream_id: str) -> None:
    """The stream ends, and with it every event not yet delivered to it."""
    _locked_stream(client, stream_id).delete()
    logger.info("SSF stream %s deleted by %s", stream_id, actor)


@transaction.atomic
def stream_status_change(
    *, client: ApiClient, actor: Actor, stream_id: str, status: StreamStatus, reason: str
) -> Stream:
    """Enable, pause or disable a stream. A paused stream keeps its events and gets
    them once enabled again; a disabled one gets no more, and loses those waiting."""
    stream = _locked_stream(client, stream_id)
    stream.status, stream.status_reason, stream.updated_at = status, reason, timezone.now()
    stream.save(update_fields=["status", "status_reason", "updated_at"])
    waiting = SecurityEvent.objects.filter(stream=stream, status=outbox.Status.PENDING)
    if status == StreamStatus.DISABLED:
        waiting.delete()
    elif status == StreamStatus.ENABLED:
        now = timezone.now()
        ids = list(waiting.values_list("pk", flat=True))
        waiting.update(next_attempt_at=now, enqueued_at=now)
        for pk in ids:
            _enqueue_on_commit(pk)
    logger.info("SSF stream %s %s by %s", stream.stream_id, status, actor)
    return stream


@transaction.atomic
def stream_verify(
    *, client: ApiClient, actor: Actor, stream_id: str, state: str
) -> SecurityEvent | None:
    """Push the verification event (SSF 1.0 §8.1.4) with `state` to the stream, at
    most once per rules.MIN_VERIFICATION_INTERVAL (a disabled stream gets none;
    a paused one once enabled). Returns the event, or None."""
    stream = _locked_stream(client, stream_id)
    now = timezone.now()
    interval = timedelta(seconds=rules.MIN_VERIFICATION_INTERVAL)
    if stream.last_verification_at and now < stream.last_verification_at + interval:
        wait = stream.last_verification_at + interval - now
        raise VerificationTooSoon(max(int(wait.total_seconds()) + 1, 1))
    stream.last_verification_at = now
    stream.save(update_fields=["last_verification_at"])
    logger.info("SSF stream %s verification asked by %s", stream.stream_id, actor)
    if stream.status == StreamStatus.DISABLED:
        return None
    subject = {"format": "opaque", "id": stream.stream_id}
    event = {"state": state} if state else {}
    (row,) = _record([stream], rules.VERIFICATION, [(subject, event)], now)
    return row


# --- Events -------------------------------------------------------------------------------


def initiator(actor, event: Event | None = None) -> Initiator:
    """CAEP's initiating_entity of what `actor` did."""
    if event in POLICY_EVENTS:
        return Initiator.POLICY
    if isinstance(actor, User):
        administers = actor.role == Role.ADMINISTRATOR or actor.is_staff
        return Initiator.ADMIN if administers else Initiator.USER
    if isinstance(actor, Anonymous):  # a password reset link
        return Initiator.USER
    return Initiator.SYSTEM  # a command, the worker, the sweep


def reason(label) -> dict[str, str]:
    """CAEP's reason_admin: the model's words, in every language of the console."""
    words = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            words[code] = str(label)
    return words


def sessions_revoked(*, registrations: Iterable, event: Event, actor: Actor) -> int:
    """CAEP session-revoked for each app registration in `registrations` (suspended or
    ended by `event`) to each stream that asked for it; returns how many recorded."""
    registrations = list(registrations)
    streams = _receiving(rules.SESSION_REVOKED) if registrations else []
    if not streams:
        return 0
    now = timezone.now()
    body = rules.caep_event(
        occurred=now, initiator=initiator(actor, event), reason=reason(event.label)
    )
    subjects = [
        (rules.session_subject(settings.SITE_URL, row.user_id, row.public_id), body)
        for row in registrations
    ]
    return len(_record(streams, rules.SESSION_REVOKED, subjects, now))


def credential_changed(*, user: User, event: Event, actor: Actor) -> int:
    """CAEP credential-change of `user`'s password (`event`: changed or reset) to each
    stream that asked for it; returns how many recorded."""
    streams = _receiving(rules.CREDENTIAL_CHANGE)
    if not streams:
        return 0
    now = timezone.now()
    body = rules.credential_change(
        occurred=now, initiator=initiator(actor, event), reason=reason(event.label)
    )
    subject = rules.user_subject(settings.SITE_URL, user.pk)
    return len(_record(streams, rules.CREDENTIAL_CHANGE, [(subject, body)], now))


def _receiving(event_type: str) -> list[Stream]:
    """The streams that asked for `event_type`; none while the transmitter is off (no
    signing key)."""
    if not keys.enabled():
        return []
    return list(Stream.objects.receiving(event_type).select_related("client"))


def _record(streams, event_type: str, subjects: list, now) -> list[SecurityEvent]:
    """One SecurityEvent per stream and subject, queued for delivery on commit."""
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("Security events are recorded inside the change.")
    rows = []
    for stream in streams:
        for subject, event in subjects:
            jti = rules.new_jti()
            claims = rules.set_claims(
                issuer=settings.SITE_URL,
                audience=stream.client.client_id,
                jti=jti,
                issued=now,
                subject=subject,
                events={event_type: event},
            )
            rows.append(
                SecurityEvent(
                    stream=stream,
                    jti=jti,
                    event_type=event_type,
                    claims=claims,
                    created_at=now,
                    next_attempt_at=now,
                    enqueued_at=now if stream.status == StreamStatus.ENABLED else None,
                )
            )
    rows = SecurityEvent.objects.bulk_create(rows)
    for row in rows:
        if row.enqueued_at is not None:
            _enqueue_on_commit(row.pk)
    return rows


def _enqueue_on_commit(event_id: int) -> None:
    # robust: a queue that refuses the task must not fail the committed change; the
    # sweep queues it again after rules.REQUEUE_AFTER.
    transaction.on_commit(partial(enqueue_delivery, event_id), robust=True)


def events_sweep() -> int:
    """Queue a delivery task for every due event that has none to come (core.outbox),
    and close the task rows of workers that died. Returns how many were queued."""
    ids = outbox.sweep(SecurityEvent.objects.sendable(), enqueue_delivery, batch=SWEEP_BATCH)
    if ids:
        logger.info("Sweep queued security events %s", ids)
    taskrows.close_lost(
        deliver_event, WorkerLost, started_at__lte=timezone.now() - rules.ATTEMPT_LEASE
    )
    return len(ids)

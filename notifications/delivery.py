"""One delivery attempt of one outbox row, as the delivery task runs it.

The row is the source of truth, so an attempt is safe to run any number of
times, by any number of workers:

1. Claim: one conditional UPDATE moves a due row to `sending`. A row already
   sent or failed, not yet due, or claimed by a live attempt is left alone (the
   idempotency check: a task run twice does not send twice once the mail got
   through).
2. Send through Django's mail framework (EMAIL_URL), outside any transaction.
3. Record: `sent` (and wipe secrets such as a device key from the row), or
   `pending` with the next attempt time, or `failed`.

A worker that dies between 1 and 3 leaves the row `sending`; once its attempt
outlives schedule.ATTEMPT_LEASE the row is due again and the sweep queues it:
the mail is delivered at least once, never lost.
"""

import logging

from django.db.models import F
from django.utils import timezone

from notifications import schedule
from notifications.kinds import SECRET_CONTEXT
from notifications.models import Notification, Status
from notifications.rendering import build_message

logger = logging.getLogger(__name__)


def deliver(notification_id: int) -> str:
    """Make one attempt at the mail if it is due; return what became of it."""
    now = timezone.now()
    claimed = (
        Notification.objects.filter(pk=notification_id)
        .due(now)
        .update(status=Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now)
    )
    if not claimed:
        return "skipped"
    notification = Notification.objects.get(pk=notification_id)
    try:
        build_message(notification).send()
    except Exception as error:
        return _record_failure(notification, error)
    _record_sent(notification)
    return Status.SENT.value


def _record_sent(notification: Notification) -> None:
    context = {k: v for k, v in notification.context.items() if k not in SECRET_CONTEXT}
    # Unconditional: whatever another attempt recorded meanwhile, this one got through.
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.SENT, sent_at=timezone.now(), context=context, last_error=""
    )
    logger.info(
        "Notification %s (%s) sent on attempt %s",
        notification.pk,
        notification.kind,
        notification.attempts,
    )


def _record_failure(notification: Notification, error: Exception) -> str:
    now = timezone.now()
    reason = schedule.describe(error)
    retry_at = None
    if not schedule.is_permanent(error):
        retry_at = schedule.next_attempt_at(
            queued_at=notification.queued_at, attempts=notification.attempts, now=now
        )
    # Only this attempt's own claim is overwritten, never a later success.
    row = Notification.objects.filter(pk=notification.pk, status=Status.SENDING)
    if retry_at is None:
        row.update(status=Status.FAILED, failed_at=now, last_error=reason)
        logger.error(
            "Notification %s (%s) failed after %s attempts: %s",
            notification.pk,
            notification.kind,
            notification.attempts,
            reason,
        )
        return Status.FAILED.value
    row.update(status=Status.PENDING, next_attempt_at=retry_at, last_error=reason)
    logger.warning(
        "Notification %s (%s) attempt %s failed, next at %s: %s",
        notification.pk,
        notification.kind,
        notification.attempts,
        retry_at.isoformat(timespec="seconds"),
        reason,
    )
    return Status.PENDING.value

"""One delivery attempt of one outbox row, as the delivery task runs it: claim the
row, send it through Django's mail framework (EMAIL_URL), record what became of it
(sent, when it also wipes secrets such as a device key from the row). The claim and
the record are core.outbox's, shared with the security events of ssf/: safe to run
any number of times, by any number of workers, and a mail whose worker died
mid-attempt is delivered again once schedule.ATTEMPT_LEASE has passed.
"""

import logging

from django.utils import timezone

from notifications import schedule
from notifications.kinds import SECRET_CONTEXT
from notifications.models import Notification, Status
from notifications.rendering import build_message

logger = logging.getLogger(__name__)


def deliver(notification_id: int) -> str:
    """Make one attempt at the mail if it is due; return what became of it."""
    now = timezone.now()
    if not Notification.objects.claim(notification_id, now):
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
    outcome = Notification.objects.record_failure(notification.pk, retry_at=retry_at, reason=reason)
    if outcome == Status.FAILED:
        logger.error(
            "Notification %s (%s) failed after %s attempts: %s",
            notification.pk,
            notification.kind,
            notification.attempts,
            reason,
        )
        return Status.FAILED.value
    logger.warning(
        "Notification %s (%s) attempt %s failed, next at %s: %s",
        notification.pk,
        notification.kind,
        notification.attempts,
        retry_at.isoformat(timespec="seconds"),
        reason,
    )
    return Status.PENDING.value

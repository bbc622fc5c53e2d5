"""The delivery task (Django Tasks API). It carries only the outbox row's id:
no address, no content, no secret ever sits in the task queue.

Mail has the queue MAIL_QUEUE to itself (azukeru/settings.py, TASKS): a worker that
takes it never sits in a CSV import, so a mail never waits behind one.
"""

import logging

from django_tasks import task

from notifications import delivery
from notifications.models import Notification, Status

logger = logging.getLogger(__name__)

MAIL_QUEUE = "default"


@task(queue_name=MAIL_QUEUE)
def deliver_notification(notification_id: int) -> str:
    outcome = delivery.deliver(notification_id)
    if outcome == Status.PENDING:
        queue_retry(notification_id)
    return outcome


def enqueue_delivery(notification_id: int) -> None:
    deliver_notification.enqueue(notification_id=notification_id)


def queue_retry(notification_id: int) -> bool:
    """Queue the next attempt of a mail that failed for its time (`run_after`), so
    that the worker alone tries again; return whether it was queued. The row records
    the task as queued for then, so the sweep leaves it alone unless the task is lost
    (schedule.REQUEUE_AFTER past its time). A backend that cannot defer a task leaves
    the retry to the sweep."""
    if not deliver_notification.get_backend().supports_defer:
        return False
    row = Notification.objects.filter(pk=notification_id, status=Status.PENDING)
    retry_at = row.values_list("next_attempt_at", flat=True).first()
    if retry_at is None:
        return False
    row.filter(next_attempt_at=retry_at).update(enqueued_at=retry_at)
    try:
        deliver_notification.using(run_after=retry_at).enqueue(notification_id=notification_id)
    except Exception:
        # The queue briefly away: the sweep queues the retry once it is overdue.
        logger.exception("Retry of notification %s not queued", notification_id)
        row.update(enqueued_at=None)
        return False
    return True

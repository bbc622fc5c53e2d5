"""The delivery task (Django Tasks API). It carries only the outbox row's id:
no address, no content, no secret ever sits in the task queue.

Mail has the queue MAIL_QUEUE to itself (azukeru/settings.py, TASKS): a worker that
takes it never sits in a CSV import, so a mail never waits behind one.
"""

from django_tasks import task

from core import outbox
from notifications import delivery
from notifications.models import Notification, Status

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
    """Queue the next attempt of a mail that failed for its time (core.outbox)."""
    return outbox.queue_retry(
        deliver_notification,
        Notification.objects.all(),
        notification_id,
        notification_id=notification_id,
    )

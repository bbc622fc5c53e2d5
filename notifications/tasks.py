"""The delivery task (Django Tasks API). It carries only the outbox row's id:
no address, no content, no secret ever sits in the task queue."""

from django_tasks import task

from notifications import delivery


@task()
def deliver_notification(notification_id: int) -> str:
    return delivery.deliver(notification_id)


def enqueue_delivery(notification_id: int) -> None:
    deliver_notification.enqueue(notification_id=notification_id)

"""The delivery task of security events (Django Tasks API). It carries only the
event row's id. Events share the queue "default" with mail: both are short pushes
that must not wait behind a CSV import, and every worker that bin/serve and
docs/OPERATIONS.md run already takes that queue.
"""

from django_tasks import task

from core import outbox
from ssf import delivery
from ssf.models import SecurityEvent

EVENTS_QUEUE = "default"


@task(queue_name=EVENTS_QUEUE)
def deliver_event(event_id: int) -> str:
    outcome = delivery.deliver(event_id)
    if outcome == outbox.Status.PENDING:
        outbox.queue_retry(deliver_event, SecurityEvent.objects.all(), event_id, event_id=event_id)
    return outcome


def enqueue_delivery(event_id: int) -> None:
    deliver_event.enqueue(event_id=event_id)

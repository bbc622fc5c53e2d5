"""Notification mail: the one entry point every feature calls, and the outbox's
operations (resend, sweep).

Calling it, from a service function that owns the transaction::

    from notifications import kinds
    from notifications.services import notify

    @transaction.atomic
    def user_delete(*, contract, actor, user):
        ...
        notify(kinds.USER_DELETED, user=user)  # snapshots the user: delete it after
        user.delete()

- `notify(kind, *, user, **context)` records the mail in the outbox in the
  caller's transaction (outside `transaction.atomic()` it raises
  TransactionManagementError) and queues its delivery with
  `transaction.on_commit`. A rolled-back change leaves no mail; a committed one
  is delivered by a worker, retried for 24 hours, and otherwise shown as failed
  to support staff. The caller never waits for the mail server.
- Kinds (`notifications.kinds`, also plain strings) and their context:
  `user_created`, `user_deleted`: none; `user_changed`: `changed_fields` (field
  names of accounts.User such as "email", shown as their labels in the
  recipient's language; other strings are shown as given) and
  `password_changed` (bool); `device_key_issued`, `device_key_reissued`: `key`
  and `device_name` (str, both required); `device_key_registered` (to the
  administrator): `key_login_id`, `device_name` and `ip_address` (str, all
  required). Any other name, a password above all, raises TypeError.
- The mail goes to `user.email` in `user.language` ("ja" or "en"; anything else
  gets Japanese).

In tests: tests/conftest.py runs every test with the ImmediateBackend of
django-tasks (its autouse fixture `_deliver_mail_on_commit`), so the delivery
task runs as soon as the commit callbacks run, with no worker::

    def test_deleting_mails_the_user(..., mailoutbox, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            user_delete(contract=contract, actor=admin, user=user)
        assert mailoutbox[0].to == ["taro@example.jp"]
        assert "削除" in mailoutbox[0].subject

Without `execute=True` the callbacks never run (the test's transaction never
commits): nothing is sent, which is how to assert "no mail"; the outbox row
(`notifications.models.Notification`) exists all the same until the test ends.
Tests of delivery itself (the database queue, the worker, retries) switch
TASKS back to the database backend: tests/notifications/.
"""

import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from accounts.models import Actor, Contract, Role, User
from audit import services as audit
from audit.actions import Action as AuditAction
from core import outbox, taskrows
from notifications import schedule
from notifications.exceptions import WorkerLost
from notifications.kinds import clean_context
from notifications.models import Notification, Status
from notifications.tasks import deliver_notification, enqueue_delivery

logger = logging.getLogger(__name__)

SWEEP_BATCH = 1000


def notify(kind: str, *, user, recipient: str = "", **context) -> Notification:
    """Record a mail to `user` in the current transaction; it is delivered after commit.
    `recipient` sends it to another address than the account's (the confirmation of a
    new mail address, before it is the account's)."""
    kind, context = clean_context(kind, context)
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError(
            "notify() must be called inside the transaction.atomic() of the change."
        )
    now = timezone.now()
    notification = Notification.objects.create(
        kind=kind,
        contract_id=user.contract_id,
        login_id=user.login_id,
        recipient=recipient or user.email,
        language=_mail_language(user.language),
        administrator_login_id=_administrator_login_id(user),
        context=context,
        created_at=now,
        queued_at=now,
        next_attempt_at=now,
        enqueued_at=now,  # by the commit callback below
    )
    _enqueue_on_commit(notification.pk)
    return notification


@transaction.atomic
def notification_resend(*, notifications, actor: Actor) -> int:
    """Queue the failed mails among `notifications` again, with a fresh 24-hour retry
    period; return how many. Mails not failed are left as they are."""
    now = timezone.now()
    failed = list(
        notifications.filter(status=Status.FAILED).values_list("pk", "contract_id", "login_id")
    )
    ids = [pk for pk, _contract, _login in failed]
    for pk, contract_id, login_id in failed:
        audit.record(
            AuditAction.MAIL_RESENT,
            contract=Contract(pk=contract_id) if contract_id else None,
            actor=actor,
            target=login_id,
            changes={"notification": ["", pk]},
        )
    Notification.objects.filter(pk__in=ids, status=Status.FAILED).update(
        status=Status.PENDING,
        attempts=0,
        queued_at=now,
        next_attempt_at=now,
        enqueued_at=now,
        last_attempt_at=None,
        failed_at=None,
    )
    for pk in ids:
        _enqueue_on_commit(pk)
    logger.info(
        "Failed notifications %s queued again by %s",
        ids,
        actor.login_id if isinstance(actor, User) else actor,
    )
    return len(ids)


def outbox_sweep() -> int:
    """Queue a delivery task for every due mail that has none to come: retries whose
    time has come, mails whose worker died mid-attempt, and mails whose task was
    lost between commit and queue. Return how many were queued.

    Safe to run from any number of processes at once: a mail queued twice is
    still sent once (see notifications.delivery).
    """
    ids = outbox.sweep(Notification.objects.all(), enqueue_delivery, batch=SWEEP_BATCH)
    if ids:
        logger.info("Sweep queued notifications %s", ids)
    _close_abandoned_task_rows(timezone.now())
    return len(ids)


def _enqueue_on_commit(notification_id: int) -> None:
    # robust: a queue that refuses the task must not fail the committed change;
    # the sweep queues it again after schedule.REQUEUE_AFTER.
    transaction.on_commit(partial(enqueue_delivery, notification_id), robust=True)


def _close_abandoned_task_rows(now) -> None:
    """Close the delivery task rows a dead worker left RUNNING (core.taskrows); the
    mail itself was queued again above, from the outbox."""
    taskrows.close_lost(
        deliver_notification, WorkerLost, started_at__lte=now - schedule.ATTEMPT_LEASE
    )


def _mail_language(language: str) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def _administrator_login_id(user: User) -> str:
    if user.contract_id is None:
        return ""
    if user.role == Role.ADMINISTRATOR:
        return user.login_id
    administrator = User.objects.for_contract(user.contract).filter(role=Role.ADMINISTRATOR)
    return administrator.values_list("login_id", flat=True).first() or ""

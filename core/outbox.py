"""The outbox pattern that mail (notifications/) and security events (ssf/) share.

A row is written in the transaction of the change that causes it, and a task is
queued on commit with nothing but the row's id. The row is the source of truth of
its delivery, so an attempt is safe to run any number of times, by any number of
workers:

1. Claim: one conditional UPDATE (`claim`) moves a due row to `sending`. A row
   already sent or failed, not yet due, or claimed by a live attempt is left alone:
   a task run twice does not send twice once the first got through.
2. Send, outside any transaction.
3. Record: `sent`, or `pending` with the next attempt's time, or `failed`; only the
   attempt's own claim is overwritten (`record_failure`).

A worker that dies between 1 and 3 leaves the row `sending`; once its attempt
outlives the lease the row is due again and the app's sweep step queues it: delivered
at least once, never lost. Each model names its lease and its re-queue delay
(`ATTEMPT_LEASE`, `REQUEUE_AFTER` on the queryset class).
"""

import logging
from datetime import datetime, timedelta

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class Status(models.TextChoices):
    PENDING = "pending", _("送信待ち")
    SENDING = "sending", _("送信中")
    SENT = "sent", _("送信済み")
    FAILED = "failed", _("送信失敗")


class OutboxRow(models.Model):
    """The columns of an outbox row's delivery, alike for every outbox."""

    status = models.CharField(
        _("状態"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("発生日時"), default=timezone.now)
    enqueued_at = models.DateTimeField(_("タスク登録日時"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("次回送信日時"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("送信試行回数"), default=0)
    last_attempt_at = models.DateTimeField(_("最終送信試行日時"), null=True, blank=True)
    last_error = models.TextField(_("最後のエラー"), blank=True)
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True)
    failed_at = models.DateTimeField(_("送信失敗日時"), null=True, blank=True)

    class Meta:
        abstract = True


class OutboxQuerySet(models.QuerySet):
    ATTEMPT_LEASE = timedelta(minutes=5)
    REQUEUE_AFTER = timedelta(minutes=5)

    def due(self, now):
        """Rows an attempt should start on now: waiting ones whose time has come,
        and ones whose last attempt outlived its lease (the worker died)."""
        return self.filter(
            Q(status=Status.PENDING, next_attempt_at__lte=now)
            | Q(status=Status.SENDING, last_attempt_at__lte=now - self.ATTEMPT_LEASE)
        )

    def without_queued_task(self, now):
        """Rows with no delivery task still to come: none was queued since the last
        attempt started, or the one queued is presumed lost."""
        return self.filter(
            Q(enqueued_at__isnull=True)
            | Q(last_attempt_at__isnull=False, enqueued_at__lte=F("last_attempt_at"))
            | Q(enqueued_at__lte=now - self.REQUEUE_AFTER)
        )

    def claim(self, pk, now) -> bool:
        """Take the row `pk` for one attempt if it is due; whether it was taken."""
        return bool(
            self.filter(pk=pk)
            .due(now)
            .update(status=Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now)
        )

    def record_failure(self, pk, *, retry_at: datetime | None, reason: str) -> Status:
        """The end of a failed attempt: `pending` until `retry_at`, or `failed` when
        None. Only the attempt's own claim is overwritten, never a later success."""
        row = self.filter(pk=pk, status=Status.SENDING)
        if retry_at is None:
            row.update(status=Status.FAILED, failed_at=timezone.now(), last_error=reason)
            return Status.FAILED
        row.update(status=Status.PENDING, next_attempt_at=retry_at, last_error=reason)
        return Status.PENDING


def queue_retry(task, rows, pk, **task_kwargs) -> bool:
    """Queue the next attempt of the row `pk` (of the queryset `rows`) that failed for
    its time, through `task` deferred to it (`run_after`), so that the worker alone
    tries again; return whether it was queued. The row records the task as queued for
    then, so the sweep leaves it alone unless the task is lost (REQUEUE_AFTER past its
    time). A backend that cannot defer a task leaves the retry to the sweep."""
    if not task.get_backend().supports_defer:
        return False
    row = rows.filter(pk=pk, status=Status.PENDING)
    retry_at = row.values_list("next_attempt_at", flat=True).first()
    if retry_at is None:
        return False
    row.filter(next_attempt_at=retry_at).update(enqueued_at=retry_at)
    try:
        task.using(run_after=retry_at).enqueue(**task_kwargs)
    except Exception:
        # The queue briefly away: the sweep queues the retry once it is overdue.
        logger.exception("Retry of %s %s not queued", rows.model.__name__, pk)
        row.update(enqueued_at=None)
        return False
    return True


def sweep(rows, enqueue, *, batch: int) -> list:
    """Queue a delivery task (`enqueue(pk)`) for every due row of `rows` that has none
    to come: retries whose time has come, rows whose worker died mid-attempt, and rows
    whose task was lost between commit and queue. Returns their ids. Safe to run from
    any number of processes at once: a row queued twice is still sent once."""
    now = timezone.now()
    ids = list(
        rows.due(now)
        .without_queued_task(now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch]
    )
    rows.filter(pk__in=ids).update(enqueued_at=now)
    for pk in ids:
        enqueue(pk)
    return ids

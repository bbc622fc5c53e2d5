"""The console's CSV imports: an uploaded file becomes an ImportJob, the task
worker (`manage.py db_worker` on the queue "imports", mail first) runs it through
the import service (csvimport.services.user_import), and the job's row carries the
progress and the result to the screens.

    upload ─▶ import_job_start: ImportJob (queued, file in the row) ─ commit ─▶ task
    db_worker ─▶ run_import_job ─▶ import_job_run: claim (running) ─▶ user_import,
    progress written to the row (its heartbeat) ─▶ the job's end (file cleared)

The task carries only the job's id: the file, with its passwords, stays in the
job's row and never sits in the task queue.
"""

import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from functools import partial

from django.db import DatabaseError, IntegrityError, OperationalError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from accounts.models import Contract, ImportJob, ImportStatus, User
from core import taskrows
from core.actors import WORKER
from csvimport.exceptions import ImportInProgress, StorageFull
from csvimport.services import ImportObserver, ImportResult, user_import

logger = logging.getLogger(__name__)

# A queue of their own (azukeru/settings.py, TASKS): an import keeps its worker busy
# for up to a couple of minutes, and the mail's worker never takes one. A worker of
# every queue (`--queue-name '*'`) still takes the mails first (priority).
IMPORT_QUEUE = "imports"
IMPORT_PRIORITY = -10
# How often a job writes its progress at most, in seconds.
PROGRESS_INTERVAL = 1.0
# How often the worker holding a job refreshes its heartbeat, in seconds, whatever the
# import is doing: well within ImportJob.RUNNING_LEASE (2 minutes).
HEARTBEAT_INTERVAL = 20.0

IMPORT_IN_PROGRESS = _(
    "この契約のCSVインポートを処理しています。終わってから、もう一度お試しください。"
)
STORAGE_FULL = _(
    "サーバーの空き容量が不足しているため、ファイルを受け付けられませんでした"
    "（利用者IDは作成されていません）。時間をおいて、もう一度お試しください。"
)


class ImportJobLost(Exception):
    """The job is no longer this worker's to finish: it was given up as abandoned (also
    recorded by the sweep on the task row of a worker that died while running it)."""


def import_job_start(
    *,
    contract: Contract,
    actor: User,
    file_name: str,
    content: bytes,
    encoding: str = "auto",
    notify_users: bool = False,
    dry_run: bool = False,
    language: str = "ja",
) -> ImportJob:
    """Store an uploaded file as a job and queue its task (after commit); return at
    once. One job at a time per contract: raise ImportInProgress otherwise. A database
    with no space left for the file raises StorageFull, and nothing is stored."""
    with _storage_full_refused(contract), transaction.atomic():
        import_jobs_fail_abandoned(contract=contract)
        if ImportJob.objects.for_contract(contract).active().exists():
            raise ImportInProgress(IMPORT_IN_PROGRESS)
        try:
            with transaction.atomic():
                job = ImportJob.objects.create(
                    contract=contract,
                    actor=actor,
                    file_name=file_name[:255],
                    content=content,
                    encoding=encoding,
                    notify_users=notify_users,
                    dry_run=dry_run,
                    language=language,
                )
        except IntegrityError as error:  # another upload of the same contract won the race
            raise ImportInProgress(IMPORT_IN_PROGRESS) from error
        # robust: a queue that refuses the task leaves the job queued; it is given up
        # after ImportJob.QUEUED_LEASE and the administrator can start again.
        transaction.on_commit(partial(enqueue_import_job, job.pk), robust=True)
        return job


@contextmanager
def _storage_full_refused(contract: Contract):
    """Turn "no space left" from the database (the file is stored in the job's row,
    so this is the write of the upload; also its commit) into StorageFull. Any other
    database error stays an error: a server error page, and its traceback in the log."""
    try:
        yield
    except OperationalError as error:
        if not _is_storage_full(error):
            raise
        # Only the kind of error is logged, never its text (no data of the file).
        logger.error(
            "CSV upload of contract %s refused: the database has no space left (%s)",
            contract.pk,
            type(error.__cause__ or error).__name__,
        )
        raise StorageFull(STORAGE_FULL) from error


def _is_storage_full(error: OperationalError) -> bool:
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) == "53100":  # PostgreSQL's disk_full
        return True
    if getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return True
    return "database or disk is full" in str(error)  # SQLite's text of SQLITE_FULL


def import_job_run(*, job_id: int) -> str:
    """Run a queued job (the task's body): claim it, import, record the outcome.
    A job already taken or given up is left alone. Returns the final status."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        return "skipped"
    job = ImportJob.objects.select_related("contract", "actor").get(pk=job_id)
    content, job.content = bytes(job.content), None
    progress = _JobProgress(job_id)
    try:
        with _Heartbeat(job_id):
            result = user_import(
                contract=job.contract,
                actor=job.actor or WORKER,
                content=content,
                encoding=job.encoding,
                notify_users=job.notify_users,
                dry_run=job.dry_run,
                file_name=job.file_name,
                observer=progress,
            )
    except ImportJobLost:
        logger.warning("Import job %s was given up while it ran; nothing was created", job_id)
        return ImportStatus.FAILED
    except BaseException as error:
        # The message of the error is not logged: only its kind (no data of the file).
        logger.error("Import job %s failed (%s); nothing was created", job_id, type(error).__name__)
        ImportJob.objects.filter(pk=job_id, status=ImportStatus.RUNNING).update(
            status=ImportStatus.FAILED, content=None, finished_at=timezone.now()
        )
        raise
    logger.info(
        "Import job %s: %d line(s), %d created, %d problem(s)",
        job_id,
        result.lines,
        result.created,
        len(result.problems),
    )
    return progress.status


class _Heartbeat:
    """While this worker holds a job, a thread refreshes the job's heartbeat every
    HEARTBEAT_INTERVAL, whatever the import is doing (a long line, the hashing, the
    final transaction): the lease (ImportJob.RUNNING_LEASE) runs out only when the
    worker is gone, never while it still works. The thread stops when the job ends
    or is no longer running, and closes its own database connection."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"import-job-{job_id}-heartbeat", daemon=True
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        running = ImportJob.objects.filter(pk=self.job_id, status=ImportStatus.RUNNING)
        try:
            while not self._stop.wait(HEARTBEAT_INTERVAL):
                try:
                    if not running.update(heartbeat_at=timezone.now()):
                        return  # ended, or given up: nothing more to keep alive
                except DatabaseError as error:  # the database busy or away a moment
                    logger.warning(
                        "Import job %s: heartbeat not written (%s)",
                        self.job_id,
                        type(error).__name__,
                    )
        finally:
            connections.close_all()  # this thread's connections only


class _JobProgress(ImportObserver):
    """Writes the progress of a running job to its row (at most every
    PROGRESS_INTERVAL, which is also its heartbeat), and its end."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.status = ImportStatus.RUNNING
        self._written = 0.0

    def _write(self, *, force: bool = False, **values) -> None:
        now = time.monotonic()
        if not force and now - self._written < PROGRESS_INTERVAL:
            return
        self._written = now
        running = ImportJob.objects.filter(pk=self.job_id, status=ImportStatus.RUNNING)
        if not running.update(heartbeat_at=timezone.now(), **values):
            raise ImportJobLost(self.job_id)

    def started(self, *, lines: int) -> None:
        self._write(force=True, lines_total=lines)

    def checked(self, count: int, total: int) -> None:
        self._write(force=count == total, lines_checked=count)

    def prepared(self, count: int, total: int) -> None:
        self._write(force=count == total, users_prepared=count)

    def finishing(self, result: ImportResult) -> None:
        self.status = ImportStatus.REJECTED if result.problems else ImportStatus.SUCCEEDED
        self._write(
            force=True,
            status=self.status,
            content=None,
            finished_at=timezone.now(),
            lines_total=result.lines,
            users_created=result.created,
            created_lines=[
                {"line": n, "login_id": login_id} for n, login_id in result.created_lines
            ],
            detected_encoding=result.encoding,
            problems=[problem.as_dict() for problem in result.problems],
        )


def import_jobs_fail_abandoned(*, contract: Contract) -> int:
    """Mark the contract's jobs that no worker is running any more as failed (and
    drop their files): a running job whose heartbeat stopped RUNNING_LEASE ago, a
    queued one no worker took within QUEUED_LEASE. Nothing of such a job was
    committed: its users and its end are one transaction. Returns how many."""
    return _fail_abandoned(ImportJob.objects.for_contract(contract))


def import_jobs_sweep() -> int:
    """import_jobs_fail_abandoned for every contract: a step of `manage.py sweep`, so
    that a dead worker's job is failed within a minute of its lease, whether or not
    anyone opens the import screen."""
    return _fail_abandoned(ImportJob.objects.all())


def _fail_abandoned(jobs) -> int:
    now = timezone.now()
    abandoned = list(jobs.abandoned(now).values_list("pk", "contract_id"))
    if not abandoned:
        return 0
    ids = [pk for pk, _contract in abandoned]
    count = (
        ImportJob.objects.filter(pk__in=ids)
        .abandoned(now)
        .update(status=ImportStatus.FAILED, content=None, finished_at=now)
    )
    for pk, contract_id in abandoned:
        logger.warning("Import job %s of contract %s given up: no worker", pk, contract_id)
    # and the task rows their dead workers left RUNNING
    taskrows.close_lost(run_import_job, ImportJobLost, args_kwargs__kwargs__job_id__in=ids)
    return count


@task(queue_name=IMPORT_QUEUE, priority=IMPORT_PRIORITY)
def run_import_job(job_id: int) -> str:
    """The task: run the queued job `job_id` (import_job_run)."""
    return import_job_run(job_id=job_id)


def enqueue_import_job(job_id: int) -> None:
    run_import_job.enqueue(job_id=job_id)

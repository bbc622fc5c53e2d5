"""CSVインポート: user IDs created from a CSV file, all or nothing.

`user_import` is the one import service. `manage.py import_users` calls it in
the foreground; the console stores the upload as an ImportJob
(`import_job_start`) and the task worker calls it through `import_job_run`.

    read the file (accounts.csv_format) ─▶ check every line ─▶ any problem? ─▶ report
                                                               │ no
    hash the passwords (both cores) ─▶ one transaction: contract lock, check again,
    bulk_create, audit entry, "user_created" mails ─▶ commit

- Every line is checked with the rules of the creation screen
  (`services.user_field_errors`: the model fields' validators and every password
  validator), plus the login IDs against each other (case-insensitively) and
  against the whole service in one query, plus the 999 limit. Nothing is
  re-implemented here.
- Hashing (Argon2, about 0.1 s a password) is most of the time; it runs before
  the transaction, so the contract and, on SQLite, the database are locked for
  the insert only. The login IDs and the limit are checked again under the
  contract's lock, so a user ID created meanwhile is reported, never duplicated.
- A worker that dies at any point leaves nothing: the users, the audit entry,
  the mails and the job's end are one transaction.
- No password reaches the report, a log line or a repr: the report holds line
  numbers, login IDs, columns and messages, and a message quoting part of a
  password (a common word, a run such as 1234) has it masked.
"""

import logging
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts import csv_format, services
from accounts.csv_format import FileRejected, ImportLine, Problem
from accounts.exceptions import ImportInProgress, StorageFull
from accounts.models import Contract, ImportJob, ImportStatus, User
from accounts.selectors import login_ids_taken, user_count
from audit import services as audit
from audit.actions import Action
from notifications.services import notify

logger = logging.getLogger(__name__)

# Threads hashing passwords at once. One Argon2 hash with Django's parameters
# (parallelism 8) already runs on several threads; two hashes side by side keep
# both cores of the reference machine busy (ARCHITECTURE.md has the measurement).
HASH_THREADS = 2
# How often a job writes its progress (and heartbeat) at most, in seconds.
PROGRESS_INTERVAL = 1.0

IMPORT_IN_PROGRESS = _(
    "この契約のCSVインポートを処理しています。終わってから、もう一度お試しください。"
)
STORAGE_FULL = _(
    "サーバーの空き容量が不足しているため、ファイルを受け付けられませんでした"
    "（利用者IDは作成されていません）。時間をおいて、もう一度お試しください。"
)
DUPLICATE_IN_FILE = _("%(line)d行目と同じログインIDです（大文字・小文字は区別しません）。")
LIMIT_EXCEEDED = _(
    "利用者IDは1契約につき%(limit)d個まで作成できます。現在%(existing)d個あるため、"
    "あと%(room)d個までしか作成できませんが、このファイルには%(lines)d行あります。"
)
# The model fields whose errors belong to a column of the file; the nickname
# starts as the mail address, so its errors are the mail address's.
COLUMN_OF_FIELD = {"login_id": "login_id", "password": "password", "email": "email"}
COLUMN_OF_FIELD["nickname"] = "email"


class ImportObserver:
    """What an import reports while it runs; each method does nothing by default."""

    def started(self, *, lines: int) -> None:
        """The file was read: `lines` non-blank lines."""

    def checked(self, count: int, total: int) -> None:
        """`count` of `total` lines have been checked."""

    def prepared(self, count: int, total: int) -> None:
        """`count` of `total` user IDs are ready to be created (password hashed)."""

    def finishing(self, result: "ImportResult") -> None:
        """Called once with the result; when user IDs are created, inside their
        transaction, so that whatever it writes commits (or not) with them."""


@dataclass
class ImportResult:
    lines: int  # non-blank lines of the file
    problems: list[Problem] = field(default_factory=list)
    created: int = 0
    dry_run: bool = False
    encoding: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Candidate:
    line: ImportLine
    user: User


def user_import(
    *,
    contract: Contract,
    actor: User | None,
    content: bytes,
    encoding: str = "auto",
    notify_users: bool = False,
    dry_run: bool = False,
    file_name: str = "",
    observer: ImportObserver | None = None,
) -> ImportResult:
    """CSVインポート: create a user ID (利用者) for every line of the file, or none.

    With dry_run (確認のみ), check everything and create nothing. With
    notify_users (各利用者IDのメールアドレスに通知する), each created user gets the
    "user ID created" mail after commit. The result lists the problems (nothing
    was created) or the number created.
    """
    observer = observer or ImportObserver()
    try:
        parsed = csv_format.read(content, encoding)
    except FileRejected as rejected:
        result = ImportResult(lines=0, problems=[Problem(rejected.line, "", str(rejected))])
        observer.finishing(result)
        return result
    result = ImportResult(lines=parsed.records, dry_run=dry_run, encoding=parsed.encoding)
    observer.started(lines=parsed.records)
    candidates, result.problems = _check_lines(contract, parsed, observer)
    result.problems += _check_service(contract, candidates, lines=parsed.records - parsed.header)
    if result.problems or dry_run:
        result.problems.sort(key=_report_order)
        observer.finishing(result)
        return result

    hashes = hash_passwords([c.line.password for c in candidates], on_progress=observer.prepared)
    for candidate, hashed in zip(candidates, hashes, strict=True):
        candidate.user.password = hashed
    with transaction.atomic():
        Contract.objects.lock(contract)
        result.problems = _check_service(contract, candidates, lines=len(candidates))
        if not result.problems:
            result.problems = _create(candidates)
        if result.problems:
            result.problems.sort(key=_report_order)
        else:
            result.created = len(candidates)
            audit.record(
                Action.USERS_IMPORTED,
                contract=contract,
                actor=actor,
                target=file_name,
                changes={"lines": ["", result.lines], "created": ["", result.created]},
            )
            if notify_users:
                for candidate in candidates:
                    notify("user_created", user=candidate.user)
        observer.finishing(result)
    return result


def _check_lines(contract, parsed, observer) -> tuple[list[_Candidate], list[Problem]]:
    """Each line against the rules of the creation screen, and the login IDs of the
    file against each other. Returns the lines that passed, and the problems."""
    problems = list(parsed.problems)
    candidates = []
    first_line: dict[str, int] = {}
    total = len(parsed.lines)
    for count, line in enumerate(parsed.lines, 1):
        user = services.user_candidate(contract, login_id=line.login_id, email=line.email)
        errors = services.user_field_errors(user, password=line.password)
        problems += _problems_of(line, errors)
        if "login_id" not in errors:
            key = user.login_id.lower()
            if key in first_line:
                message = DUPLICATE_IN_FILE % {"line": first_line[key]}
                problems.append(Problem(line.line, "login_id", message, line.login_id))
            else:
                first_line[key] = line.line
        if not errors:
            candidates.append(_Candidate(line, user))
        observer.checked(count, total)
    return candidates, problems


def _check_service(contract, candidates: list[_Candidate], *, lines: int) -> list[Problem]:
    """The login IDs against every account of the service (one query) and the limit
    (the contract's user IDs and the file's lines together)."""
    taken = login_ids_taken(c.user.login_id for c in candidates)
    problems = [
        Problem(c.line.line, "login_id", str(services.LOGIN_ID_TAKEN), c.line.login_id)
        for c in candidates
        if c.user.login_id.lower() in taken
    ]
    existing = user_count(contract)
    if existing + lines > Contract.USER_LIMIT:
        values = {
            "limit": Contract.USER_LIMIT,
            "existing": existing,
            "room": max(Contract.USER_LIMIT - existing, 0),
            "lines": lines,
        }
        problems.append(Problem(None, "", LIMIT_EXCEEDED % values))
    return problems


def _create(candidates: list[_Candidate]) -> list[Problem]:
    """Insert every user at once. A login ID that another contract took between the
    check and the insert (the contract lock does not cover other contracts) rolls
    the insert back and is reported like any taken login ID."""
    try:
        with transaction.atomic():
            User.objects.bulk_create([c.user for c in candidates])
    except IntegrityError:
        taken = login_ids_taken(c.user.login_id for c in candidates)
        if not taken:
            raise
        return [
            Problem(c.line.line, "login_id", str(services.LOGIN_ID_TAKEN), c.line.login_id)
            for c in candidates
            if c.user.login_id.lower() in taken
        ]
    return []


def _problems_of(line: ImportLine, errors: dict[str, list[ValidationError]]) -> list[Problem]:
    problems = []
    for field_name, field_errors in errors.items():
        column = COLUMN_OF_FIELD.get(field_name, "")
        for error in field_errors:
            problem = Problem(line.line, column, _message(error, line.password), line.login_id)
            if problem not in problems:
                problems.append(problem)
    return problems


def _message(error: ValidationError, password: str) -> str:
    """The error's message, with any quoted part of the password masked."""
    params = dict(error.params or {})
    for name, value in params.items():
        if isinstance(value, str) and value and value.lower() in password.lower():
            params[name] = "*" * len(value)
    return str(error.message % params if params else error.message)


def _report_order(problem: Problem):
    columns = ("", *csv_format.COLUMNS)
    return (problem.line or 0, columns.index(problem.column))


def hash_passwords(passwords: list[str], *, on_progress=None) -> list[str]:
    """Django's make_password for each, HASH_THREADS at a time, in order."""
    hashes = []
    pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="hash")
    try:
        for hashed in pool.map(make_password, passwords):
            hashes.append(hashed)
            if on_progress:
                on_progress(len(hashes), len(passwords))
    finally:
        # On an error (the job given up, the worker stopping) the rest is not hashed.
        pool.shutdown(wait=True, cancel_futures=True)
    return hashes


# --- The console's jobs ---------------------------------------------------------------


class ImportJobLost(Exception):
    """The job is no longer this worker's to finish: it was given up as abandoned."""


def import_job_start(
    *,
    contract: Contract,
    actor: User | None,
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
        from accounts.tasks import enqueue_import_job

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
        with translation.override(job.language):
            result = user_import(
                contract=job.contract,
                actor=job.actor,
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
            detected_encoding=result.encoding,
            problems=[problem.as_dict() for problem in result.problems],
        )


def import_jobs_fail_abandoned(*, contract: Contract) -> int:
    """Mark the contract's jobs that no worker is running any more as failed (and
    drop their files): a running job whose heartbeat stopped RUNNING_LEASE ago, a
    queued one no worker took within QUEUED_LEASE. Nothing of such a job was
    committed: its users and its end are one transaction. Returns how many."""
    now = timezone.now()
    count = (
        ImportJob.objects.for_contract(contract)
        .abandoned(now)
        .update(status=ImportStatus.FAILED, content=None, finished_at=now)
    )
    if count:
        logger.warning("%d import job(s) of contract %s given up: no worker", count, contract.pk)
    return count

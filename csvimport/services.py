"""CSVインポート: user IDs created from a CSV file, all or nothing.

`user_import` is the one import service. `manage.py import_users` calls it in
the foreground; the console stores the upload as an ImportJob
(csvimport.tasks.import_job_start) and the task worker calls it through
csvimport.tasks.import_job_run.

    read the file (csvimport.format) ─▶ check every line ─▶ any problem? ─▶ report
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

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import USERS_PER_CONTRACT, Actor, Contract, User
from accounts.selectors import login_ids_taken, user_count
from audit import services as audit
from audit.actions import Action
from csvimport import format as csv_format
from csvimport.format import FileRejected, ImportLine, Problem, says
from notifications.services import notify

# Threads hashing passwords at once. One Argon2 hash with Django's parameters
# (parallelism 8) already runs on several threads; two hashes side by side keep
# both cores of the reference machine busy (ARCHITECTURE.md has the measurement).
HASH_THREADS = 2

DUPLICATE_IN_FILE = _("%(line)d行目と同じログインIDです（大文字・小文字は区別しません）。")
# Said after the limit's own rule (USERS_PER_CONTRACT.rule).
LIMIT_EXCEEDED = _(
    "現在%(existing)d個あるため、あと%(room)d個までしか作成できませんが、"
    "このファイルには%(lines)d行あります。"
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
    # (line, login ID) of each user ID created, in the file's order
    created_lines: list[tuple[int, str]] = field(default_factory=list)
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
    actor: Actor,
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
        result = ImportResult(lines=0, problems=[Problem(rejected.line, "", rejected.message)])
        observer.finishing(result)
        return result
    result = ImportResult(lines=parsed.records, dry_run=dry_run, encoding=parsed.encoding)
    observer.started(lines=parsed.records)
    candidates, result.problems = _check_lines(contract, parsed, observer)
    result.problems += _check_service(contract, candidates, lines=parsed.records)
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
            result.created_lines = [(c.line.line, c.user.login_id) for c in candidates]
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
        # The rules' messages in no language: the report keeps them untranslated (says).
        with translation.override(None):
            errors = services.user_field_errors(user, password=line.password)
        problems += _problems_of(line, errors)
        if "login_id" not in errors:
            key = user.login_id.lower()
            if key in first_line:
                message = says(DUPLICATE_IN_FILE, line=first_line[key])
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
        Problem(c.line.line, "login_id", says(services.LOGIN_ID_TAKEN), c.line.login_id)
        for c in candidates
        if c.user.login_id.lower() in taken
    ]
    existing = user_count(contract)
    if existing + lines > USERS_PER_CONTRACT.maximum:
        values = {"existing": existing, "room": USERS_PER_CONTRACT.room(existing), "lines": lines}
        rule = says(USERS_PER_CONTRACT.rule_text, limit=USERS_PER_CONTRACT.maximum)
        problems.append(Problem(None, "", rule + says(LIMIT_EXCEEDED, **values)))
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
            Problem(c.line.line, "login_id", says(services.LOGIN_ID_TAKEN), c.line.login_id)
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


def _message(error: ValidationError, password: str) -> tuple:
    """The error's message, with any quoted part of the password masked."""
    params = dict(error.params or {})
    for name, value in params.items():
        if isinstance(value, str) and value and value.lower() in password.lower():
            params[name] = "*" * len(value)
    return says(error.message, **params)


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

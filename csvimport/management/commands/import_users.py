import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role, User
from core import actors
from csvimport import format as csv_format
from csvimport.services import ImportObserver, ImportResult, user_import

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "CSVインポート: create the user IDs of a CSV file (ログインID,パスワード,メールアドレス "
        "on every line; a header line and the template's example line are skipped) in "
        "the contract of an administrator, all or none. "
        "Exit status 0: created (or --dry-run found no error); 1: lines rejected, the "
        "report on stderr, nothing created; 2: usage error."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file ('-' for standard input)")
        parser.add_argument(
            "--admin",
            required=True,
            metavar="ADMIN_LOGIN_ID",
            help="the login ID of the administrator whose contract gets the user IDs",
        )
        parser.add_argument(
            "--notify",
            action="store_true",
            help="mail each created user ID (各利用者IDのメールアドレスに通知する)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check every line, create nothing (確認のみ)"
        )
        parser.add_argument(
            "--encoding",
            choices=list(csv_format.ENCODINGS),
            default="auto",
            help="the file's encoding (default: auto: UTF-8 with or without BOM, or CP932)",
        )

    def handle(self, *args, file, admin, notify, dry_run, encoding, **options):
        administrator = (
            User.objects.with_login_id(admin.strip())
            .filter(role=Role.ADMINISTRATOR, contract__isnull=False)
            .select_related("contract")
            .first()
        )
        if administrator is None:
            raise CommandError(f"No administrator with the login ID {admin!r}.", returncode=2)
        content = self._read(file)
        result = user_import(
            contract=administrator.contract,
            actor=actors.command("import_users"),
            content=content,
            encoding=encoding,
            notify_users=notify,
            dry_run=dry_run,
            file_name=Path(file).name if file != "-" else "",
            observer=_TerminalProgress(self.stderr),
        )
        if not result.ok:
            self.stderr.write(_report(result))
            raise CommandError(
                f"{len(result.problems)} problem(s) found; nothing was created.", returncode=1
            )
        if dry_run:
            self.stdout.write(
                f"Dry run: {result.lines} line(s) checked, no error. Nothing created."
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created {result.created} user ID(s) in contract "
                    f"#{administrator.contract_id}"
                    + (", each notified by mail." if notify else ".")
                )
            )

    def _read(self, file: str) -> bytes:
        try:
            if file == "-":
                return sys.stdin.buffer.read(csv_format.MAX_BYTES + 1)
            with open(file, "rb") as handle:
                return handle.read(csv_format.MAX_BYTES + 1)  # more is refused anyway
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}", returncode=2) from None


def _report(result: ImportResult) -> str:
    """One line per problem: line, login ID, column, reason (never a password)."""
    lines = []
    for problem in result.problems:
        where = f"line {problem.line}" if problem.line else "file"
        column = f" [{csv_format.COLUMN_LABELS[problem.column]}]" if problem.column else ""
        login_id = f" {problem.login_id}" if problem.login_id else ""
        lines.append(f"{where}{login_id}{column}: {problem.text()}")
    return "\n".join(lines)


class _TerminalProgress(ImportObserver):
    """A bar redrawn in place on a terminal; elsewhere (a log, a pipe) a plain line
    at every tenth of the way."""

    def __init__(self, stream):
        self.stream = stream
        self.tty = stream.isatty()
        self._shown: dict[str, int] = {}

    def checked(self, count: int, total: int) -> None:
        self._show("checked", count, total)

    def prepared(self, count: int, total: int) -> None:
        self._show("creating", count, total)

    def _show(self, phase: str, count: int, total: int) -> None:
        if self.tty:
            done = BAR_WIDTH * count // max(total, 1)
            bar = "#" * done + "." * (BAR_WIDTH - done)
            end = "\n" if count == total else ""
            self.stream.write(f"\r{phase:<9}[{bar}] {count}/{total}", ending=end)
            self.stream.flush()
            return
        step = count * 10 // max(total, 1)
        if count == total or step > self._shown.get(phase, 0):
            self._shown[phase] = step
            self.stream.write(f"{phase} {count}/{total}")

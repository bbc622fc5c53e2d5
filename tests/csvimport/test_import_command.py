"""manage.py import_users: the same import service in the foreground, its exit
statuses (0 created, 1 rejected, 2 usage) and what it prints."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from csvimport.management.commands.import_users import Command
from tests.csvimport.csvfiles import GOOD, PASSWORDS, csv_bytes, good_file
from tests.csvimport.csvfiles import good_file_with_full_width_spaces as spaced_file


@pytest.fixture
def csv_path(tmp_path):
    def write(content: bytes, name="staff.csv"):
        path = tmp_path / name
        path.write_bytes(content)
        return str(path)

    return write


def run(*args, stdout=None, stderr=None):
    stdout, stderr = stdout or io.StringIO(), stderr or io.StringIO()
    call_command("import_users", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def exit_status(*args) -> int:
    """What the shell sees: manage.py's own handling of CommandError and argparse."""
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["manage.py", "import_users", *args])
        raise SystemExit(0)
    return exited.value.code


def user_ids(contract) -> list[str]:
    return sorted(User.objects.for_contract(contract).users().values_list("login_id", flat=True))


GOOD_IDS = sorted(login_id for login_id, _p, _e in GOOD)


class TestCreated:
    def test_exit_0_creates_and_says_so(self, contract_a, csv_path):
        out, err = run("--admin", "admin-a", csv_path(good_file()))
        assert f"Created 3 user ID(s) in contract #{contract_a.pk}." in out
        assert user_ids(contract_a) == GOOD_IDS
        assert "checked 3/3" in err and "creating 3/3" in err  # plain lines: not a terminal

    def test_exit_status_0(self, contract_a, csv_path):
        assert exit_status("--admin", "ADMIN-A", csv_path(good_file())) == 0

    def test_cp932_named_or_detected(self, contract_a, csv_path):
        path = csv_path(spaced_file("cp932"))
        run("--admin", "admin-a", "--encoding", "cp932", "--dry-run", path)
        run("--admin", "admin-a", path)
        assert user_ids(contract_a) == GOOD_IDS

    def test_notify_mails_each_user(
        self, contract_a, csv_path, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            out, _err = run("--admin", "admin-a", "--notify", csv_path(good_file()))
        assert "each notified by mail" in out
        assert len(mailoutbox) == 3

    def test_dry_run_creates_nothing(self, contract_a, csv_path):
        out, _err = run("--admin", "admin-a", "--dry-run", csv_path(good_file()))
        assert "Dry run: 3 line(s) checked, no error. Nothing created." in out
        assert user_ids(contract_a) == []

    def test_a_terminal_gets_a_bar_redrawn_in_place(self, contract_a, csv_path):
        class Terminal(io.StringIO):
            def isatty(self):
                return True

        _out, err = run("--admin", "admin-a", csv_path(good_file()), stderr=Terminal())
        assert "\rchecked  [" in err and "##############################] 3/3\n" in err


class TestRejected:
    def test_exit_1_with_the_report_on_stderr_and_nothing_created(
        self, contract_a, users_b, csv_path
    ):
        path = csv_path(csv_bytes([GOOD[0], ("jiro-b", PASSWORDS[1], "x@example.jp"), "solo,x"]))
        stderr = io.StringIO()
        with pytest.raises(CommandError) as refused:
            run("--admin", "admin-a", path, stderr=stderr)
        assert refused.value.returncode == 1
        assert "2 problem(s) found; nothing was created." in str(refused.value)
        report = stderr.getvalue()
        assert "line 2 jiro-b [ログインID]: このログインIDは既に使用されています。" in report
        assert "line 3 solo: 項目の数が2個です" in report
        assert all(password not in report for password in PASSWORDS)
        assert user_ids(contract_a) == []

    def test_exit_status_1(self, contract_a, csv_path, capsys):
        assert exit_status("--admin", "admin-a", csv_path(b"\x00\x01binary")) == 1
        assert "line 1: CSVファイルではありません" in capsys.readouterr().err

    def test_a_failed_dry_run_is_1_too(self, contract_a, csv_path):
        with pytest.raises(CommandError) as refused:
            run("--admin", "admin-a", "--dry-run", csv_path(csv_bytes(["abc,x,y"])))
        assert refused.value.returncode == 1


class TestUsageErrors:
    def test_unknown_administrator_is_2(self, contract_a, users_a, csv_path):
        for login_id in ["nobody", "taro-a"]:  # a user ID is not an administrator
            with pytest.raises(CommandError) as refused:
                run("--admin", login_id, csv_path(good_file()))
            assert refused.value.returncode == 2
            assert "No administrator" in str(refused.value)

    def test_unreadable_file_is_2(self, contract_a, tmp_path, capsys):
        assert exit_status("--admin", "admin-a", str(tmp_path / "missing.csv")) == 2
        assert "Cannot read" in capsys.readouterr().err

    def test_missing_arguments_are_2(self, contract_a, capsys):
        assert exit_status("staff.csv") == 2
        assert "--admin" in capsys.readouterr().err

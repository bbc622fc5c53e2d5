"""manage.py create_contract and seed_demo."""

import io

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from accounts.models import Contract, Role, User
from tests.conftest import PASSWORD


@pytest.fixture
def password_env(monkeypatch):
    monkeypatch.setenv("AZUKERU_PASSWORD", PASSWORD)


def create(*args):
    out = io.StringIO()
    call_command("create_contract", *args, stdout=out)
    return out.getvalue()


def test_creates_contract_and_administrator(db, password_env):
    output = create("--login-id", "kanri@shop", "--email", "kanri@shop.example.jp")

    admin = User.objects.get(login_id="kanri@shop")
    assert admin.role == Role.ADMINISTRATOR
    assert admin.contract is not None
    assert check_password(PASSWORD, admin.password)
    assert "kanri@shop" in output
    assert PASSWORD not in output


def test_asks_the_password_twice_without_the_environment_variable(db, monkeypatch):
    monkeypatch.delenv("AZUKERU_PASSWORD", raising=False)
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    monkeypatch.setattr(
        "accounts.management.commands.create_contract.Command.interactive_terminal",
        staticmethod(lambda: True),
    )
    create("--login-id", "kanri2", "--email", "k2@example.jp")
    assert User.objects.filter(login_id="kanri2").exists()


def test_prompted_passwords_that_differ_create_nothing(db, monkeypatch):
    monkeypatch.delenv("AZUKERU_PASSWORD", raising=False)
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    monkeypatch.setattr(
        "accounts.management.commands.create_contract.Command.interactive_terminal",
        staticmethod(lambda: True),
    )
    with pytest.raises(CommandError, match="do not match"):
        create("--login-id", "kanri3", "--email", "k3@example.jp")
    assert not Contract.objects.exists()


@pytest.mark.parametrize(
    "login_id, email, password, message",
    [
        ("ADMIN-A", "x@example.jp", PASSWORD, "既に使用されています"),
        ("abc", "x@example.jp", PASSWORD, "4～60文字"),
        ("kanri san", "x@example.jp", PASSWORD, "半角英数字"),
        ("kanri-ok", "not-an-address", PASSWORD, "email"),
        ("kanri-ok", "x@example.jp", "short", "password"),
        ("kanri-ok", "x@example.jp", "password", "password"),
    ],
)
def test_bad_input_is_refused_and_creates_nothing(
    admin_a, monkeypatch, login_id, email, password, message
):
    monkeypatch.setenv("AZUKERU_PASSWORD", password)
    contracts_before = Contract.objects.count()
    with pytest.raises(CommandError, match=message) as refused:
        create("--login-id", login_id, "--email", email)
    assert "Nothing was created" in str(refused.value)
    assert Contract.objects.count() == contracts_before
    assert User.objects.count() == 1


def test_refusal_exits_with_status_1_and_says_why_on_stderr(admin_a, password_env, capsys):
    utility = ManagementUtility(
        ["manage.py", "create_contract", "--login-id", "admin-a", "--email", "x@example.jp"]
    )
    with pytest.raises(SystemExit) as exit_status:
        utility.execute()
    assert exit_status.value.code == 1
    assert "既に使用されています" in capsys.readouterr().err


def test_seed_demo_seeds_once(db):
    first = io.StringIO()
    call_command("seed_demo", stdout=first)
    assert "demo-admin" in first.getvalue()
    second = io.StringIO()
    call_command("seed_demo", stdout=second)
    assert "no demo contract was added" in second.getvalue()
    assert Contract.objects.count() == 1

"""The checks of `make scale` (bench/scale/data.py) find what they are there to find:
a run is only proof if its checks can fail."""

import pytest
from django.db import transaction

from accounts import services
from bench.scale import data
from notifications.models import Notification

PASSWORD = data.PASSWORD


def empty_ledger(contract_id: int, **fields) -> dict:
    names = [
        "users_created", "users_imported", "users_import_unknown", "imports_succeeded",
        "users_unknown", "users_deleted", "users_deleted_unknown", "keys_issued",
        "keys_unknown", "keys_stopped", "keys_reissued",
    ]  # fmt: skip
    return {"contract_id": contract_id, **{name: [] for name in names}, **fields}


@pytest.fixture
def created(contract_a, admin_a, django_capture_on_commit_callbacks):
    """One user ID made as the console makes it: audit entry and mail (sent)."""
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        user = services.user_create(
            contract=contract_a,
            actor=admin_a,
            login_id="scale-taro",
            password=PASSWORD,
            email="taro@example.jp",
        )
    return user, Notification.objects.get(login_id="scale-taro").pk


def test_a_run_that_lost_nothing_passes(created, admin_a):
    user, mail = created
    ledger = {
        "contracts": {
            admin_a.login_id: empty_ledger(user.contract_id, users_created=[user.login_id])
        }
    }
    found = data.check(
        ledger["contracts"] and ledger, {"received": {str(mail): 1}, "without_id": 0}
    )
    assert found["failures"] == []
    assert found["totals"]["user IDs created"] == 1


def test_a_mail_that_never_arrived_and_one_that_came_twice_are_reported(created, admin_a):
    user, mail = created
    ledger = {
        "contracts": {
            admin_a.login_id: empty_ledger(user.contract_id, users_created=[user.login_id])
        }
    }
    lost = data.check(ledger, {"received": {}, "without_id": 0})
    assert any("never reached the sink" in line for line in lost["failures"])
    twice = data.check(ledger, {"received": {str(mail): 2}, "without_id": 0})
    assert twice["failures"] == [] and twice["mail"]["duplicates"] == 1


def test_a_user_id_nobody_was_told_about_or_one_told_but_missing_is_reported(created, admin_a):
    user, mail = created
    sink = {"received": {str(mail): 1}, "without_id": 0}
    stranger = data.check({"contracts": {admin_a.login_id: empty_ledger(user.contract_id)}}, sink)
    assert any("nobody created" in line for line in stranger["failures"])
    told = empty_ledger(user.contract_id, users_created=[user.login_id, "scale-ghost"])
    missing = data.check({"contracts": {admin_a.login_id: told}}, sink)
    assert any(
        "created but missing" in line and "scale-ghost" in line for line in missing["failures"]
    )

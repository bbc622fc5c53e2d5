"""The checks of `make scale` (bench/scale/data.py) find what they are there to find:
a run is only proof if its checks can fail."""

import pytest
from django.db import transaction

from accounts import services
from bench.scale import data, load
from devicekeys import services as devicekeys
from notifications.models import Notification

PASSWORD = data.PASSWORD


def empty_ledger(contract_id: int, **fields) -> dict:
    """A contract's ledger as the load starts it, with `fields` recorded."""
    return {**load.Record().contract("admin", contract_id), **fields}


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
    # Twice from one attempt: something sent it twice.
    twice = data.check(ledger, {"received": {str(mail): 2}, "without_id": 0})
    assert any("twice from one attempt" in line for line in twice["failures"])
    # Twice after a second attempt (the first one's worker died): counted, not a failure.
    Notification.objects.filter(pk=mail).update(attempts=2)
    again = data.check(ledger, {"received": {str(mail): 2}, "without_id": 0})
    assert again["failures"] == [] and again["mail"]["duplicates"] == 1


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


def test_a_key_stopped_twice_is_reported(created, admin_a, django_capture_on_commit_callbacks):
    user, _mail = created
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        key = devicekeys.device_key_issue(
            contract=user.contract, user=user, device_name="scale-taro", actor=admin_a
        )
    for _ in range(2):
        devicekeys.device_key_stop(contract=user.contract, key=key, actor=admin_a)
        devicekeys.device_key_unstop(contract=user.contract, key=key, actor=admin_a)
    sink = {"received": {str(pk): 1 for pk in Notification.objects.values_list("pk", flat=True)}}
    told = empty_ledger(
        user.contract_id,
        users_created=[user.login_id],
        keys_issued=["scale-taro"],
        keys_stopped=["scale-taro"],
    )
    found = data.check({"contracts": {admin_a.login_id: told}}, {**sink, "without_id": 0})
    assert any("停止" in line and "'scale-taro': 2" in line for line in found["failures"])

"""The device-key services: what each operation leaves in the database and in
the mailbox, the 999-key limit, and the contract boundary."""

import logging
from datetime import timedelta
from functools import partial

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.exceptions import UserNotFound
from audit.actions import Action as AuditAction
from audit.models import AuditEntry
from core.exceptions import LimitReached
from devicekeys import rules, services
from devicekeys.exceptions import DeviceKeyNotFound, InvalidTransition
from devicekeys.models import DeviceKey, WrongEntryCounter
from devicekeys.rules import Status
from tests.parallel import at_the_same_moment, on_postgresql

STOP_OR_REISSUE = (AuditAction.DEVICE_KEY_STOPPED, AuditAction.DEVICE_KEY_REISSUED)

# --- 新規発行 --------------------------------------------------------------------------


def test_issue_gives_an_active_unregistered_key_visible_to_the_administrator(admin_a, users_a):
    taro = users_a[0]
    key = services.device_key_issue(contract=admin_a.contract, user=taro, actor=admin_a)
    key.refresh_from_db()
    assert key.user == taro
    assert key.status == Status.ACTIVE
    assert key.registered_at is None
    assert rules.is_well_formed_key(key.key)
    assert key.shown_key == key.key
    assert abs(key.created_at - timezone.now()) < timedelta(seconds=5)
    assert key.device_name == "端末-1"


def test_issue_mails_the_key_to_the_login_ids_address(
    admin_a, users_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        key = services.device_key_issue(
            contract=admin_a.contract, user=users_a[0], actor=admin_a, device_name="Chrome"
        )
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["taro-a@example.jp"]
    assert key.key in mailoutbox[0].body
    assert "Chrome" in mailoutbox[0].body


def test_one_login_id_may_hold_several_keys(users_a, issue_key):
    for name in ("Chrome", "Chrome-16", "iPhone"):
        issue_key(users_a[0], device_name=name)
    assert users_a[0].device_keys.count() == 3


def test_many_issued_keys_never_collide_within_a_contract(users_a, issue_key):
    keys = [issue_key(users_a[i % 2]).key for i in range(300)]
    assert len(set(keys)) == 300
    assert all(rules.is_well_formed_key(key) for key in keys)


def test_a_drawn_key_already_in_use_in_the_contract_is_drawn_again(users_a, issue_key, monkeypatch):
    first = issue_key(users_a[0])
    draws = iter([first.key, first.key, "Zz9Zz9Zz"])
    monkeypatch.setattr(rules, "generate_key", lambda: next(draws))
    second = issue_key(users_a[1])
    assert second.key == "Zz9Zz9Zz"


def test_the_same_key_may_exist_in_two_contracts_and_keys_are_case_sensitive(
    users_a, users_b, issue_key, monkeypatch
):
    draws = iter(["AbCdEf12", "abcdef12", "AbCdEf12"])
    monkeypatch.setattr(rules, "generate_key", lambda: next(draws))
    assert issue_key(users_a[0]).key == "AbCdEf12"
    assert issue_key(users_a[1]).key == "abcdef12"  # differs only in case: another key
    assert issue_key(users_b[0]).key == "AbCdEf12"  # another contract


def test_the_database_refuses_a_duplicate_key_within_a_contract(key_a):
    twin = DeviceKey(
        contract=key_a.contract,
        user=key_a.user,
        device_name="twin",
        key=key_a.key,
        key_suffix=key_a.key_suffix,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_the_database_refuses_an_unknown_status(key_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        DeviceKey.objects.filter(pk=key_a.pk).update(status="lost")


def test_issue_to_another_contracts_user_is_refused_and_creates_nothing(
    admin_a, users_b, mailoutbox, django_capture_on_commit_callbacks
):
    with pytest.raises(ValidationError) as error, django_capture_on_commit_callbacks(execute=True):
        services.device_key_issue(contract=admin_a.contract, user=users_b[0], actor=admin_a)
    assert "user" in error.value.message_dict
    assert not DeviceKey.objects.exists()
    assert mailoutbox == []


def test_issue_to_the_administrator_is_refused(admin_a):
    with pytest.raises(ValidationError):
        services.device_key_issue(contract=admin_a.contract, user=admin_a, actor=admin_a)


def test_issue_with_a_33_character_name_is_refused(admin_a, users_a):
    with pytest.raises(ValidationError) as error:
        services.device_key_issue(
            contract=admin_a.contract, user=users_a[0], actor=admin_a, device_name="x" * 33
        )
    assert "device_name" in error.value.message_dict
    assert not DeviceKey.objects.exists()


# --- The 999 limit ------------------------------------------------------------------


def test_the_999th_key_is_issued_and_the_1000th_refused(admin_a, users_a, issue_key, fill_keys):
    fill_keys(users_a[0], 998)
    issue_key(users_a[1])
    with pytest.raises(LimitReached) as error:
        issue_key(users_a[1])
    assert "999" in str(error.value)
    assert "削除" in str(error.value)
    assert DeviceKey.objects.for_contract(admin_a.contract).count() == 999


def test_after_deleting_a_key_one_can_be_issued_again(admin_a, users_a, issue_key, fill_keys):
    keys = fill_keys(users_a[0], 999)
    with pytest.raises(LimitReached):
        issue_key(users_a[1])
    services.device_key_delete(contract=admin_a.contract, key=keys[0], actor=admin_a)
    issue_key(users_a[1])
    assert DeviceKey.objects.for_contract(admin_a.contract).count() == 999


def test_one_contract_at_its_limit_does_not_limit_another(users_a, users_b, issue_key, fill_keys):
    fill_keys(users_a[0], 999)
    assert issue_key(users_b[0]).pk


@on_postgresql("needs real row locks and parallel connections; SQLite serialises all writers")
def test_the_limit_holds_when_administrators_issue_at_the_same_moment(admin_a, users_a, fill_keys):
    fill_keys(users_a[0], rules.KEY_LIMIT - 4)
    issue = partial(
        services.device_key_issue, contract=admin_a.contract, user=users_a[1], actor=admin_a
    )
    outcomes = at_the_same_moment(*[issue] * 10)
    outcomes = [
        "issued" if isinstance(o, DeviceKey) else "refused" if isinstance(o, LimitReached) else o
        for o in outcomes
    ]

    assert sorted(outcomes) == ["issued"] * 4 + ["refused"] * 6
    assert DeviceKey.objects.for_contract(admin_a.contract).count() == rules.KEY_LIMIT


# --- 端末名変更 ------------------------------------------------------------------------


def test_rename_trims_and_sends_no_mail(
    admin_a, key_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.device_key_rename(
            contract=admin_a.contract, key=key_a, device_name="  Chrome-20 ", actor=admin_a
        )
    key_a.refresh_from_db()
    assert key_a.device_name == "Chrome-20"
    assert mailoutbox == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 33])
def test_rename_refuses_a_bad_name_and_keeps_the_old_one(admin_a, key_a, name):
    with pytest.raises(ValidationError) as error:
        services.device_key_rename(
            contract=admin_a.contract, key=key_a, device_name=name, actor=admin_a
        )
    assert "device_name" in error.value.message_dict
    key_a.refresh_from_db()
    assert key_a.device_name == "Chrome"


def test_duplicate_device_names_are_allowed(admin_a, users_a, issue_key):
    issue_key(users_a[0], device_name="Chrome")
    assert issue_key(users_a[1], device_name="Chrome").device_name == "Chrome"


# --- 再発行 ----------------------------------------------------------------------------


def _registered_and_invalid_keys(admin_a, users_a, issue_key, register_key):
    registered = register_key(issue_key(users_a[0], device_name="Chrome"))
    stopped = issue_key(users_a[0], device_name="Edge")
    stopped = services.device_key_stop(contract=admin_a.contract, key=stopped, actor=admin_a)
    invalid = issue_key(users_a[0], device_name="Safari")
    for _ in range(rules.WRONG_ENTRY_LIMIT):
        services.device_key_record_wrong_entry(
            contract=admin_a.contract, user=users_a[0], actor=users_a[0], ip="192.0.2.1"
        )
    invalid.refresh_from_db()
    return [registered, stopped, invalid]


def test_reissue_gives_a_new_unregistered_active_key_whatever_the_status(
    admin_a, users_a, issue_key, register_key, mailoutbox, django_capture_on_commit_callbacks
):
    keys = _registered_and_invalid_keys(admin_a, users_a, issue_key, register_key)
    assert [key.status for key in keys] == [Status.ACTIVE, Status.STOPPED, Status.INVALID]
    earlier = timezone.now() - timedelta(days=1)
    DeviceKey.objects.update(created_at=earlier)
    old_values = {key.pk: key.key for key in keys}

    with django_capture_on_commit_callbacks(execute=True):
        for key in keys:
            services.device_key_reissue(contract=admin_a.contract, key=key, actor=admin_a)

    for key in keys:
        key.refresh_from_db()
        assert key.status == Status.ACTIVE
        assert key.registered_at is None
        assert key.key_hash == ""
        assert rules.is_well_formed_key(key.key)
        assert key.key != old_values[key.pk]
        assert key.created_at > earlier
    assert len(mailoutbox) == 3
    for mail, key in zip(mailoutbox, keys, strict=True):
        assert mail.to == ["taro-a@example.jp"]
        assert key.key in mail.body


# --- 停止 / 停止解除 --------------------------------------------------------------------


def test_stop_and_unstop_a_registered_key_without_mail(
    admin_a, key_a, register_key, mailoutbox, django_capture_on_commit_callbacks
):
    register_key(key_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.device_key_stop(contract=admin_a.contract, key=key_a, actor=admin_a)
        key_a.refresh_from_db()
        assert key_a.status == Status.STOPPED
        assert key_a.is_registered  # the device keeps its registration ...
        services.device_key_unstop(contract=admin_a.contract, key=key_a, actor=admin_a)
    key_a.refresh_from_db()
    assert key_a.status == Status.ACTIVE  # ... and works again without a new key
    assert key_a.is_registered
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("prepare", "service"),
    [
        ("stop", services.device_key_stop),  # already stopped
        (None, services.device_key_unstop),  # not stopped
        ("invalid", services.device_key_stop),
        ("invalid", services.device_key_unstop),
    ],
)
def test_refused_status_changes_leave_the_key_as_it_was(admin_a, key_a, prepare, service):
    if prepare == "stop":
        services.device_key_stop(contract=admin_a.contract, key=key_a, actor=admin_a)
    elif prepare == "invalid":
        DeviceKey.objects.filter(pk=key_a.pk).update(status=Status.INVALID)
    key_a.refresh_from_db()
    before = key_a.status
    with pytest.raises(InvalidTransition):
        service(contract=admin_a.contract, key=key_a, actor=admin_a)
    key_a.refresh_from_db()
    assert key_a.status == before


@on_postgresql("needs real row locks and parallel connections; SQLite serialises all writers")
def test_stop_and_reissue_at_the_same_moment_end_as_one_after_the_other(
    admin_a, users_a, issue_key, mailoutbox
):
    contract, rounds = admin_a.contract, 12
    for n in range(rounds):
        key = issue_key(users_a[0], device_name=f"Race-{n}")
        if n % 2:  # 無効: 停止 is refused before 再発行, allowed after it
            DeviceKey.objects.filter(pk=key.pk).update(status=Status.INVALID)
        else:  # registered by a device, whose credential 再発行 must void
            services.device_key_register(
                contract=contract, key=key, actor=key.user, credential_hash=f"{n:064d}"
            )

        stop, reissue = at_the_same_moment(
            partial(services.device_key_stop, contract=contract, key=key, actor=admin_a),
            partial(services.device_key_reissue, contract=contract, key=key, actor=admin_a),
        )

        assert isinstance(reissue, DeviceKey), reissue
        assert isinstance(stop, DeviceKey) or (n % 2 and isinstance(stop, InvalidTransition)), stop
        # The log names what happened, in the order it happened ...
        logged = list(
            AuditEntry.objects.filter(target=f"Race-{n} (taro-a)", action__in=STOP_OR_REISSUE)
            .order_by("pk")
            .values_list("action", flat=True)
        )
        assert sorted(logged) == sorted(
            action
            for action, outcome in zip(STOP_OR_REISSUE, (stop, reissue), strict=True)
            if isinstance(outcome, DeviceKey)
        )
        # ... and the key is in the state the last of them leaves: 利用停止 when 停止 came
        # last, else 利用中; either way unregistered, with the value that was mailed.
        key.refresh_from_db()
        last = rules.STOPPED_NEW if logged[-1] == AuditAction.DEVICE_KEY_STOPPED else rules.NEW
        assert key.state == last
        assert key.key == reissue.key and key.credential_hash == ""
        assert any(key.key in mail.body for mail in mailoutbox)
    assert DeviceKey.objects.for_contract(contract).count() == rounds


# --- 削除 ------------------------------------------------------------------------------


def test_delete_removes_the_key(admin_a, key_a):
    services.device_key_delete(contract=admin_a.contract, key=key_a, actor=admin_a)
    assert not DeviceKey.objects.filter(pk=key_a.pk).exists()


# --- One login ID's keys --------------------------------------------------------------


def test_stop_all_for_user_stops_only_that_users_usable_keys(
    admin_a, users_a, issue_key, register_key
):
    taro, hana = users_a
    keys = _registered_and_invalid_keys(admin_a, users_a, issue_key, register_key)
    fresh = issue_key(taro)
    other = issue_key(hana)

    stopped = services.device_key_stop_all_for_user(
        contract=admin_a.contract, user=taro, actor=admin_a
    )

    assert stopped == 2  # the registered key and the fresh one
    statuses = {k.pk: k.status for k in DeviceKey.objects.all()}
    assert statuses[keys[0].pk] == Status.STOPPED
    assert statuses[fresh.pk] == Status.STOPPED
    assert statuses[keys[1].pk] == Status.STOPPED  # was stopped already
    assert statuses[keys[2].pk] == Status.INVALID  # 無効 stays 無効
    assert statuses[other.pk] == Status.ACTIVE


def test_delete_all_for_user_deletes_only_that_users_keys(admin_a, users_a, issue_key):
    taro, hana = users_a
    for _ in range(3):
        issue_key(taro)
    kept = issue_key(hana)
    assert (
        services.device_key_delete_all_for_user(contract=admin_a.contract, user=taro, actor=admin_a)
        == 3
    )
    assert list(DeviceKey.objects.all()) == [kept]


@pytest.mark.parametrize(
    "service", [services.device_key_stop_all_for_user, services.device_key_delete_all_for_user]
)
def test_another_contracts_user_is_refused(admin_a, key_b, service):
    with pytest.raises(UserNotFound):
        service(contract=admin_a.contract, user=key_b.user, actor=admin_a)
    key_b.refresh_from_db()
    assert key_b.status == Status.ACTIVE


# --- Another contract's key -----------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "extra"),
    [
        (services.device_key_rename, {"device_name": "stolen"}),
        (services.device_key_reissue, {}),
        (services.device_key_stop, {}),
        (services.device_key_unstop, {}),
        (services.device_key_delete, {}),
    ],
)
def test_another_contracts_key_is_not_found_and_nothing_changes(admin_a, key_b, service, extra):
    before = DeviceKey.objects.values().get(pk=key_b.pk)
    with pytest.raises(DeviceKeyNotFound):
        service(contract=admin_a.contract, key=key_b, actor=admin_a, **extra)
    assert DeviceKey.objects.values().get(pk=key_b.pk) == before


# --- Registration and wrong entries (the sign-in flow) --------------------------------


def test_registration_keeps_only_a_salted_hash_and_the_last_two_characters(key_a, register_key):
    value = key_a.key
    key = register_key(key_a)
    key.refresh_from_db()
    assert key.key == ""
    assert value not in key.key_hash
    assert check_password(value, key.key_hash)
    assert key.shown_key == "******" + value[-2:]
    assert key.registered_at is not None
    assert key.status == Status.ACTIVE


def test_two_keys_with_the_same_value_get_different_hashes(
    users_a, users_b, issue_key, register_key, monkeypatch
):
    monkeypatch.setattr(rules, "generate_key", lambda: "SameKey1")
    a = register_key(issue_key(users_a[0]))
    b = register_key(issue_key(users_b[0]))
    assert a.key_hash != b.key_hash  # salted


def test_a_registered_key_cannot_be_registered_again(key_a, register_key):
    register_key(key_a)
    with pytest.raises(InvalidTransition):
        register_key(key_a)


@pytest.mark.parametrize("status", [Status.STOPPED, Status.INVALID])
def test_a_stopped_or_invalid_key_cannot_be_registered(key_a, register_key, status):
    DeviceKey.objects.filter(pk=key_a.pk).update(status=status)
    with pytest.raises(InvalidTransition):
        register_key(key_a)
    key_a.refresh_from_db()
    assert key_a.key == key_a.shown_key  # still in clear, still enterable


def test_three_wrong_entries_of_a_login_id_make_its_waiting_keys_invalid(
    admin_a, users_a, key_a, issue_key, register_key
):
    taro, hana = users_a
    second = issue_key(taro, device_name="Edge")
    registered = register_key(issue_key(taro, device_name="Firefox"))
    hanas = issue_key(hana)

    def wrong_entry():
        return services.device_key_record_wrong_entry(
            contract=admin_a.contract, user=taro, actor=taro, ip="192.0.2.1"
        )

    left = [wrong_entry() for _ in range(rules.WRONG_ENTRY_LIMIT)]
    assert left == [2, 1, 0]
    for key in (key_a, second, registered, hanas):
        key.refresh_from_db()
    assert [key_a.status, second.status] == [Status.INVALID, Status.INVALID]
    counted = AuditEntry.objects.filter(action=AuditAction.DEVICE_KEY_WRONG).order_by("pk")
    assert [entry.changes["wrong_entries"] for entry in counted] == [
        ["0", "1"],
        ["1", "2"],
        ["2", str(rules.WRONG_ENTRY_LIMIT)],
    ]
    assert WrongEntryCounter.objects.get(user=taro).wrong_entries == 0  # counting starts again
    assert registered.status == Status.ACTIVE  # a registered key is not entered again
    assert hanas.status == Status.ACTIVE  # another login ID's count is its own
    # Counting starts again: a key reissued now gets three tries of its own.
    services.device_key_reissue(contract=admin_a.contract, key=key_a, actor=admin_a)
    assert wrong_entry() == 2


def test_the_database_refuses_a_registered_key_kept_in_clear(key_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        DeviceKey.objects.filter(pk=key_a.pk).update(registered_at=timezone.now())


# --- Secrets stay out of logs ---------------------------------------------------------


def test_keys_never_reach_the_log(
    admin_a, users_a, caplog, register_key, mailoutbox, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        key = services.device_key_issue(contract=admin_a.contract, user=users_a[0], actor=admin_a)
        issued = key.key
        key = services.device_key_reissue(contract=admin_a.contract, key=key, actor=admin_a)
        reissued = key.key
        register_key(key)
    assert len(mailoutbox) == 2
    assert "issued" in caplog.text
    assert issued not in caplog.text
    assert reissued not in caplog.text
    assert issued not in str(key) and issued not in repr(key)

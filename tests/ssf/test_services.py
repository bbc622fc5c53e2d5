"""Which changes record which security events: one session-revoked per app
registration suspended or ended, per stream; one credential-change per password;
nothing for 停止解除, nothing for a change that rolls back."""

import pytest
from django.db import transaction

from accounts import services as accounts
from api.models import AppRegistration
from api.rules import State
from api.services import api_client_revoke
from core import actors
from core.outbox import Status
from devicekeys import services as keys
from devicekeys.models import DeviceKey
from ssf import rules
from ssf.models import SecurityEvent
from tests.api.conftest import grant
from tests.ssf.conftest import STATUS, send_json, stream_body

NEW_PASSWORD = "Zt8wKq2Mn5"


@pytest.fixture
def two_streams(storage, other_storage, receiver):
    """A stream of each of two API clients."""
    for client in (storage, other_storage):
        response = send_json(client, "POST", "/api/ssf/streams", stream_body(receiver.url))
        assert response.status_code == 201
    return storage, other_storage


@pytest.fixture
def registration(app_token):
    return AppRegistration.objects.get()


def revoked(**lookups):
    return SecurityEvent.objects.filter(event_type=rules.SESSION_REVOKED, **lookups)


def session_of(event: SecurityEvent) -> str:
    return event.claims["sub_id"]["session"]["id"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (keys.device_key_stop, "端末認証キーの利用停止"),
        (keys.device_key_reissue, "端末認証キーの再発行"),
        (keys.device_key_delete, "端末認証キーの削除"),
    ],
)
def test_a_keys_stop_reissue_and_deletion_revoke_its_registration_on_every_stream(
    two_streams, registration, admin_a, change, reason
):
    change(contract=admin_a.contract, key=DeviceKey.objects.get(), actor=admin_a)
    events = list(revoked())
    assert len(events) == 2
    assert {event.claims["aud"] for event in events} == {
        client.api_client.client_id for client in two_streams
    }
    for event in events:
        assert session_of(event) == registration.public_id
        assert event.claims["sub_id"]["user"]["sub"] == str(registration.user_id)
        body = event.claims["events"][rules.SESSION_REVOKED]
        assert body["initiating_entity"] == "admin"
        assert body["reason_admin"]["ja"] == reason


def test_the_login_ids_deletion_revokes_its_registrations(stream, registration, admin_a):
    accounts.user_delete(contract=admin_a.contract, actor=admin_a, user=registration.user)
    assert [session_of(event) for event in revoked()] == [registration.public_id]


def test_signing_out_everywhere_revokes_each_registration(stream, registration, admin_a):
    accounts.user_sign_out_everywhere(
        contract=admin_a.contract, actor=admin_a, user=registration.user
    )
    (event,) = revoked()
    assert session_of(event) == registration.public_id
    assert (
        "全端末からサインアウト"
        in event.claims["events"][rules.SESSION_REVOKED]["reason_admin"]["ja"]
    )


def test_unstopping_records_nothing(stream, registration, admin_a):
    key = DeviceKey.objects.get()
    keys.device_key_stop(contract=admin_a.contract, key=key, actor=admin_a)
    keys.device_key_unstop(contract=admin_a.contract, key=key, actor=admin_a)
    assert revoked().count() == 1  # the stop's
    assert AppRegistration.objects.get().state == State.ACTIVE


def test_a_change_that_rolls_back_records_and_sends_nothing(
    stream, registration, admin_a, receiver, django_capture_on_commit_callbacks
):
    key = DeviceKey.objects.get()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        keys.device_key_stop(contract=admin_a.contract, key=key, actor=admin_a)
        raise RuntimeError("after the stop, before commit")
    assert not SecurityEvent.objects.exists()
    assert receiver.received == []


def test_a_registration_already_ended_is_not_revoked_again(stream, registration, admin_a):
    key = DeviceKey.objects.get()
    keys.device_key_reissue(contract=admin_a.contract, key=key, actor=admin_a)
    keys.device_key_delete(contract=admin_a.contract, key=key, actor=admin_a)
    assert revoked().count() == 1


def test_a_password_change_is_a_credential_change_of_the_login_id(stream, users_a):
    taro = users_a[0]
    accounts.user_password_change(
        contract=taro.contract, actor=taro, user=taro, password=NEW_PASSWORD
    )
    (event,) = SecurityEvent.objects.filter(event_type=rules.CREDENTIAL_CHANGE)
    assert event.claims["sub_id"] == {
        "format": "iss_sub",
        "iss": event.claims["iss"],
        "sub": str(taro.pk),
    }
    body = event.claims["events"][rules.CREDENTIAL_CHANGE]
    assert body["credential_type"] == "password"
    assert body["change_type"] == "update"
    assert body["initiating_entity"] == "user"


def test_a_password_reset_is_a_credential_change_too(stream, users_a):
    accounts.password_reset_complete(user=users_a[0], password=NEW_PASSWORD)
    (event,) = SecurityEvent.objects.filter(event_type=rules.CREDENTIAL_CHANGE)
    assert (
        event.claims["events"][rules.CREDENTIAL_CHANGE]["reason_admin"]["ja"]
        == "パスワードの再設定"
    )


def test_an_administrator_changing_a_password_is_the_admins_credential_change(
    stream, admin_a, users_a
):
    taro = users_a[0]
    accounts.user_change(
        contract=admin_a.contract,
        actor=admin_a,
        user=taro,
        password=NEW_PASSWORD,
        **{name: getattr(taro, name) for name in ("login_id", "email")},
    )
    (event,) = SecurityEvent.objects.filter(event_type=rules.CREDENTIAL_CHANGE)
    assert event.claims["events"][rules.CREDENTIAL_CHANGE]["initiating_entity"] == "admin"


def test_a_stream_gets_only_the_events_it_asked_for(storage, receiver, registration, admin_a):
    body = stream_body(receiver.url, events=[rules.CREDENTIAL_CHANGE])
    send_json(storage, "POST", "/api/ssf/streams", body)
    keys.device_key_stop(contract=admin_a.contract, key=DeviceKey.objects.get(), actor=admin_a)
    assert not SecurityEvent.objects.exists()


def test_a_disabled_stream_gets_nothing_and_a_paused_one_waits(
    storage, stream, registration, admin_a, receiver, django_capture_on_commit_callbacks
):
    sid = stream["stream_id"]
    send_json(storage, "POST", STATUS, {"stream_id": sid, "status": "paused"})
    key = DeviceKey.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        keys.device_key_stop(contract=admin_a.contract, key=key, actor=admin_a)
    assert revoked().get().status == Status.PENDING
    assert receiver.received == []
    with django_capture_on_commit_callbacks(execute=True):
        send_json(storage, "POST", STATUS, {"stream_id": sid, "status": "enabled"})
    assert revoked().get().status == Status.SENT
    assert len(receiver.received) == 1

    send_json(storage, "POST", STATUS, {"stream_id": sid, "status": "disabled"})
    keys.device_key_unstop(contract=admin_a.contract, key=key, actor=admin_a)
    keys.device_key_stop(contract=admin_a.contract, key=key, actor=admin_a)
    assert revoked().count() == 1


def test_no_stream_no_event(db, registration, admin_a):
    keys.device_key_stop(contract=admin_a.contract, key=DeviceKey.objects.get(), actor=admin_a)
    assert not SecurityEvent.objects.exists()


def test_device_authentication_switched_on_is_the_policys_revocation(
    stream, contract_b, users_b, admin_b
):
    keys.access_setting_change(
        contract=contract_b, actor=admin_b, device_auth_required=False, notify_on_register=False
    )
    assert grant(username="jiro-b").status_code == 200  # an app of the login ID alone
    keys.access_setting_change(
        contract=contract_b, actor=admin_b, device_auth_required=True, notify_on_register=False
    )
    (event,) = revoked()
    assert event.claims["events"][rules.SESSION_REVOKED]["initiating_entity"] == "policy"
    assert session_of(event) == AppRegistration.objects.get().public_id


def test_a_command_is_the_systems_revocation(stream, registration):
    key = DeviceKey.objects.get()
    keys.device_key_stop(contract=key.contract, key=key, actor=actors.command("stop_keys"))
    (event,) = revoked()
    assert event.claims["events"][rules.SESSION_REVOKED]["initiating_entity"] == "system"


def test_a_revoked_clients_streams_get_nothing(storage, stream, registration, admin_a):
    api_client_revoke(client=storage.api_client, actor=admin_a)
    keys.device_key_stop(contract=admin_a.contract, key=DeviceKey.objects.get(), actor=admin_a)
    assert not SecurityEvent.objects.exists()

"""POST /api/oauth/introspect for the storage service (RFC 7662), POST /api/oauth/revoke
for the app (RFC 7009) and GET /api/device/status: 停止 and 削除 reach every device."""

import base64
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from accounts import services as accounts
from api.models import ApiClient, AppRegistration, AppToken
from api.rules import TokenKind
from api.services import api_client_revoke
from audit.actions import Action
from audit.models import AuditEntry
from devicekeys import services as keys
from devicekeys.models import AccessSetting, DeviceKey
from tests.api.conftest import INTROSPECT, REVOKE, STATUS, grant, introspect, post_form
from tests.conftest import SETUP, login_verified


def status(token, language="ja"):
    return Client().get(STATUS, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE=language)


def test_an_active_token_says_whose_it_is(storage, app_token, waiting_key, users_a):
    body = introspect(storage, app_token)
    taro = users_a[0]
    assert body["active"] is True
    assert body["username"] == "taro-a" and body["sub"] == str(taro.pk)
    assert (body["client_id"], body["scope"], body["token_type"]) == ("ios", "storage", "Bearer")
    assert body["contract"] == taro.contract_id and body["device_key_id"] == waiting_key.pk
    key = DeviceKey.objects.get(pk=waiting_key.pk)
    assert body["iat"] == int(key.registered_at.timestamp())


def test_two_queries_a_call(storage, app_token, django_assert_max_num_queries):
    AppRegistration.objects.update(last_used_at=timezone.now())  # no 最終利用日時 write due
    with django_assert_max_num_queries(2):
        assert introspect(storage, app_token)["active"] is True


def test_last_use_is_written_at_most_once_a_minute(storage, waiting_key, time_machine, settings):
    settings.API_ACCESS_TOKEN_SECONDS = 3600
    app_token = grant(device_key=waiting_key.key).json()["access_token"]
    time_machine.move_to(timezone.now() + timedelta(minutes=5))
    introspect(storage, app_token)
    first = DeviceKey.objects.get(pk=waiting_key.pk).last_used_at
    time_machine.move_to(timezone.now() + timedelta(seconds=30))
    introspect(storage, app_token)
    assert DeviceKey.objects.get(pk=waiting_key.pk).last_used_at == first
    time_machine.move_to(timezone.now() + timedelta(seconds=31))
    introspect(storage, app_token)
    assert DeviceKey.objects.get(pk=waiting_key.pk).last_used_at > first


def test_stop_makes_it_inactive_and_unstop_active_again(storage, app_token, waiting_key, admin_a):
    contract = admin_a.contract
    keys.device_key_stop(contract=contract, key=waiting_key, actor=admin_a)
    assert introspect(storage, app_token) == {"active": False}
    assert status(app_token).json()["state"] == "stopped"
    keys.device_key_unstop(contract=contract, key=waiting_key, actor=admin_a)
    assert introspect(storage, app_token)["active"] is True
    assert status(app_token).json() == {
        "state": "active",
        "message": "この端末はご利用になれます。",
    }


@pytest.mark.parametrize(
    ("cut_off", "state"),
    [
        (
            lambda key, admin: keys.device_key_reissue(
                contract=admin.contract, key=key, actor=admin
            ),
            "reissued",
        ),
        (
            lambda key, admin: keys.device_key_delete(
                contract=admin.contract, key=key, actor=admin
            ),
            "deleted",
        ),
        (
            lambda key, admin: accounts.user_delete(
                contract=admin.contract, actor=admin, user=key.user
            ),
            "deleted",
        ),
    ],
    ids=["再発行", "削除", "login ID deleted"],
)
def test_reissue_and_delete_end_it_for_good(
    storage, app_token, waiting_key, admin_a, cut_off, state
):
    cut_off(waiting_key, admin_a)
    assert introspect(storage, app_token) == {"active": False}
    response = status(app_token)
    assert response.json()["state"] == state
    assert "削除" in response.json()["message"] or "再発行" in response.json()["message"]


def test_a_disabled_login_id_is_inactive(storage, app_token, users_a):
    users_a[0].is_active = False
    users_a[0].save()
    assert introspect(storage, app_token) == {"active": False}
    assert status(app_token).json()["state"] == "invalid"


def test_the_status_speaks_the_apps_language(storage, app_token, waiting_key, admin_a):
    keys.device_key_stop(contract=admin_a.contract, key=waiting_key, actor=admin_a)
    japanese = status(app_token, "ja").json()["message"]
    english = status(app_token, "en").json()["message"]
    assert "利用停止" in japanese
    assert english != japanese and english.isascii()


def test_a_password_change_keeps_the_app_registered(storage, app_token, users_a, admin_a):
    accounts.user_change(
        contract=admin_a.contract,
        actor=admin_a,
        user=users_a[0],
        login_id="taro-a",
        email="taro-a@example.jp",
        password="Zr8wKq3Xv6",
    )
    assert introspect(storage, app_token)["active"] is True


def test_an_unknown_or_garbled_token_is_inactive(storage, db):
    for token in ["", "x", "azd_" + "A" * 43, "azu_" + "B" * 43, "Bearer nonsense", "\x00" * 10]:
        response = post_form(storage, INTROSPECT, {"token": token})
        assert response.status_code in {200, 400}
        if response.status_code == 200:
            assert response.json() == {"active": False}


def test_a_browsers_credential_is_no_api_token(storage, users_a):
    from tests.devicekeys.browser import signed_in_user

    chrome = signed_in_user(users_a[0])
    cookie = chrome.cookies["azukeru_device"].value
    assert introspect(storage, cookie) == {"active": False}


# --- The storage service's credentials ------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic", "Basic !!!", "Bearer abc", "Basic " + base64.b64encode(b"nobody:x").decode()],
)
def test_without_valid_client_credentials_401(app_token, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = post_form(Client(**headers), INTROSPECT, {"token": app_token})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic realm=")
    assert response.json()["error"] == "invalid_client"


def test_a_wrong_secret_or_a_revoked_client_is_refused(storage, app_token):
    wrong = base64.b64encode(f"{storage.api_client.client_id}:wrong".encode()).decode()
    refused = post_form(
        Client(HTTP_AUTHORIZATION=f"Basic {wrong}"), INTROSPECT, {"token": app_token}
    )
    assert refused.status_code == 401
    api_client_revoke(client=storage.api_client, actor=SETUP)
    assert post_form(storage, INTROSPECT, {"token": app_token}).status_code == 401


def test_create_api_client_prints_the_id_and_the_secret_once(db, capsys):
    call_command("create_api_client", "storage (production)")
    client_id, secret = capsys.readouterr().out.split()
    stored = ApiClient.objects.get(client_id=client_id)
    assert secret not in repr(ApiClient.objects.values().get())
    assert len(secret) >= 43 and stored.name == "storage (production)"
    assert AuditEntry.objects.filter(action=Action.API_CLIENT_CREATED).exists()


def test_support_staff_list_and_revoke_clients(client, support_staff, storage):
    login_verified(client, support_staff)
    listing = client.get("/support/api/apiclient/").text
    assert storage.api_client.client_id in listing
    client.post(
        "/support/api/apiclient/",
        {"action": "revoke", "_selected_action": [storage.api_client.pk]},
    )
    assert ApiClient.objects.get().revoked_at is not None
    entry = AuditEntry.objects.get(action=Action.API_CLIENT_REVOKED)
    assert entry.actor_role == "support"


# --- The app signs out -------------------------------------------------------------------------


def test_revoke_ends_the_token_and_a_new_registration_needs_a_reissue(
    storage, app_token, waiting_key
):
    response = post_form(Client(), REVOKE, {"token": app_token, "client_id": "ios"})
    assert response.status_code == 200
    assert introspect(storage, app_token) == {"active": False}
    assert status(app_token).status_code == 401
    key = DeviceKey.objects.get(pk=waiting_key.pk)
    assert key.is_registered
    assert AppRegistration.objects.get().reason == "app_signed_out"
    assert grant(device_key=waiting_key.key).json()["error"] == "invalid_grant"
    assert AuditEntry.objects.filter(action=Action.DEVICE_SIGNED_OUT).count() == 1


def test_revoke_of_an_unknown_token_is_no_error(db):
    response = post_form(Client(), REVOKE, {"token": "azd_nothing", "client_id": "tool"})
    assert response.status_code == 200


def test_revoke_needs_a_known_client(app_token, storage):
    response = post_form(Client(), REVOKE, {"token": app_token, "client_id": "fax"})
    assert response.status_code == 401
    assert introspect(storage, app_token)["active"] is True


# --- A token bound to the login ID alone ---------------------------------------------------------


def test_a_login_id_token_stops_when_keys_become_required(storage, contract_a, users_a, admin_a):
    AccessSetting.objects.create(contract=contract_a, device_auth_required=False)
    token = grant(device_key=None, client_id="tool").json()["access_token"]
    body = introspect(storage, token)
    assert body["active"] is True and body["device_key_id"] is None
    keys.access_setting_change(
        contract=contract_a, actor=admin_a, device_auth_required=True, notify_on_register=False
    )
    assert introspect(storage, token) == {"active": False}
    assert status(token).json()["state"] == "invalid"
    post_form(Client(), REVOKE, {"token": token, "client_id": "tool"})
    assert AppRegistration.objects.get().state == "ended"


def test_status_without_a_token_asks_for_one(db):
    response = Client().get(STATUS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="Azukeru PRO"'
    assert Client().post(STATUS).status_code == 405


def test_one_query_for_a_token_the_console_knows(
    storage, app_token, users_a, django_assert_num_queries
):
    """Its app registration by the unique index of its hash, the login ID joined and the
    client's secret in the same query (core.prepared), whatever the kind."""
    from api.services import token_introspect

    AccessSetting.objects.create(contract=users_a[0].contract, device_auth_required=False)
    login_id_token = grant(device_key=None, client_id="tool").json()["access_token"]
    AppRegistration.objects.update(last_used_at=timezone.now())  # no 最終利用日時 write due
    basic = storage.defaults["HTTP_AUTHORIZATION"].split()[1]
    client_id, secret = base64.b64decode(basic).decode().split(":")
    for token in (app_token, login_id_token):
        with django_assert_num_queries(1):
            answer = token_introspect(token, client_id=client_id, client_secret=secret)
        assert answer["active"] is True
        with django_assert_num_queries(1):
            refused = token_introspect(token, client_id=client_id, client_secret="wrong")
        assert refused is None  # the secret was checked against the row read


def test_the_answer_names_its_audience_session_and_expiry(storage, app_token):
    body = introspect(storage, app_token)
    registration = AppRegistration.objects.get()
    assert body["aud"] == storage.api_client.client_id  # the API client that asked
    assert body["sid"] == registration.public_id and body["sid"].startswith("reg_")
    assert body["exp"] == body["iat"] + 300
    assert body["token_type"] == "Bearer"


def test_a_client_that_names_its_resource_finds_it_in_the_audience(
    storage, app_token, django_assert_num_queries
):
    """RFC 8707: a resource server checking `aud` against its own URL (as
    django-oauth-toolkit does by default) finds it beside the client ID, read in the
    same one query."""
    ApiClient.objects.filter(pk=storage.api_client.pk).update(
        resource_url="https://storage.example.jp/"
    )
    with django_assert_num_queries(1):
        body = introspect(storage, app_token)
    assert body["aud"] == [storage.api_client.client_id, "https://storage.example.jp/"]


@pytest.mark.parametrize(
    "resource",
    [
        "storage.example.jp",
        "ftp://storage.example.jp/",
        "https://storage.example.jp/?a=1",
        "https://storage.example.jp/#top",
        "https://" + "s" * 100_000 + ".jp/",
    ],
)
def test_create_api_client_refuses_a_resource_that_is_no_plain_url(db, resource):
    with pytest.raises(CommandError, match="リソースのURL"):
        call_command("create_api_client", "storage", "--resource", resource)
    assert not ApiClient.objects.exists()


def test_create_api_client_keeps_its_resource(db, capsys):
    call_command("create_api_client", "storage", "--resource", "https://storage.example.jp/")
    client_id, _secret = capsys.readouterr().out.split()
    assert ApiClient.objects.get(client_id=client_id).resource_url == "https://storage.example.jp/"


def test_an_expired_access_token_is_inactive(storage, app_token, time_machine):
    # The clock stands at each side of the token's own expiry, however long the
    # fixtures took: a second before it, the token opens; at it, no more.
    expires_at = AppToken.objects.get(kind=TokenKind.ACCESS).expires_at
    time_machine.move_to(expires_at - timedelta(seconds=1), tick=False)
    assert introspect(storage, app_token)["active"] is True
    time_machine.move_to(expires_at, tick=False)
    assert introspect(storage, app_token) == {"active": False}

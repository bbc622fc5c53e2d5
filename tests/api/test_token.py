"""POST /api/oauth/token: an app or tool registers with its key, exactly as a browser
does, in the formats of RFC 6749."""

import hashlib

import pytest
from django.test import Client

from api.models import AppRegistration
from audit.actions import Action
from audit.models import AuditEntry
from devicekeys import rules
from devicekeys import services as keys
from devicekeys.models import AccessSetting, DeviceKey
from devicekeys.rules import Client as KeyClient
from devicekeys.rules import Status
from tests.api.conftest import TOKEN, grant
from tests.conftest import SETUP

WRONG_KEY = "Wrong123"


def test_a_right_key_registers_the_app_as_a_browser_would(waiting_key, admin_client_a):
    response = grant(device_key=waiting_key.key, device_name="taroのiPhone")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer" and body["scope"] == "storage"
    assert body["expires_in"] == 300
    token = body["access_token"]
    assert token.startswith("azd_") and len(token) >= 4 + 43  # 256 random bits
    assert f"azd_{waiting_key.pk}." not in token  # a random id, never the key's
    assert body["refresh_token"].startswith("azr_")
    key = DeviceKey.objects.get(pk=waiting_key.pk)
    assert key.registered_at is not None and key.key == ""  # used up, hashed
    assert key.key_hash and key.shown_key == "******" + waiting_key.key[-2:]
    [registration] = AppRegistration.objects.all()
    hashes = {row.kind: row.token_hash for row in registration.tokens.all()}
    assert hashes == {  # only hashes
        "access": hashlib.sha256(token.encode()).hexdigest(),
        "refresh": hashlib.sha256(body["refresh_token"].encode()).hexdigest(),
    }
    assert (registration.device_key, registration.kind, registration.state) == (
        key,
        "key",
        "active",
    )
    assert key.credential_hash == ""  # a browser's cookie lives there, not an app's token
    assert token not in repr(list(DeviceKey.objects.values()))
    assert token not in repr(list(AppRegistration.objects.values()))
    assert key.registered_by == KeyClient.IOS
    assert key.device_name == "taroのiPhone"
    page = admin_client_a.get("/console/device-keys/").text
    assert "taroのiPhone" in page and "iOSアプリ" in page
    assert AuditEntry.objects.filter(action=Action.DEVICE_REGISTERED).exists()


def test_without_a_name_the_key_takes_the_clients(users_a):
    taro = users_a[0]
    for _ in range(2):
        key = keys.device_key_issue(contract=taro.contract, user=taro, actor=SETUP)
        assert grant(device_key=key.key, client_id="android").status_code == 200
    names = set(DeviceKey.objects.values_list("device_name", flat=True))
    assert names == {"Android", "Android-2"}


def test_a_name_the_administrator_chose_stays(users_a):
    taro = users_a[0]
    key = keys.device_key_issue(
        contract=taro.contract, user=taro, actor=SETUP, device_name="営業PC"
    )
    assert grant(device_key=key.key, client_id="desktop", device_name="x").status_code == 200
    assert DeviceKey.objects.get(pk=key.pk).device_name == "営業PC"


@pytest.mark.parametrize(
    "params",
    [
        {"username": "nobody-at-all"},
        {"password": "Wrong7pass"},
        {"device_key": WRONG_KEY},
        {"device_key": "short"},
        {"device_key": None},
    ],
    ids=["unknown login ID", "wrong password", "wrong key", "malformed key", "no key"],
)
def test_every_refusal_is_the_same_invalid_grant(waiting_key, params):
    params.setdefault("device_key", waiting_key.key)
    response = grant(**params)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": (
            "The login ID, the password or the device authentication key is not valid."
        ),
    }
    assert not DeviceKey.objects.get(pk=waiting_key.pk).is_registered


@pytest.mark.parametrize("status", [Status.STOPPED, Status.INVALID])
def test_a_stopped_or_invalid_key_is_the_same_invalid_grant(waiting_key, status):
    DeviceKey.objects.filter(pk=waiting_key.pk).update(status=status)
    response = grant(device_key=waiting_key.key)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
    assert AuditEntry.objects.filter(action=Action.APP_REGISTRATION_REFUSED).exists()


def test_three_wrong_keys_make_the_waiting_keys_invalid_as_in_a_browser(waiting_key):
    for _ in range(rules.WRONG_ENTRY_LIMIT):
        assert grant(device_key=WRONG_KEY).json()["error"] == "invalid_grant"
    assert DeviceKey.objects.get(pk=waiting_key.pk).status == Status.INVALID
    assert grant(device_key=waiting_key.key).json()["error"] == "invalid_grant"
    assert AuditEntry.objects.filter(action=Action.DEVICE_KEY_INVALIDATED).count() == 1


def test_the_key_is_used_up(waiting_key):
    assert grant(device_key=waiting_key.key).status_code == 200
    again = grant(device_key=waiting_key.key, client_id="android")
    assert again.json()["error"] == "invalid_grant"


def test_an_administrator_gets_no_token(admin_a):
    response = grant(username="admin-a")
    assert response.json()["error"] == "invalid_grant"


def test_without_device_authentication_the_token_is_bound_to_the_login_id(contract_a, users_a):
    AccessSetting.objects.create(contract=contract_a, device_auth_required=False)
    response = grant(device_key=None, client_id="tool", device_name="同期ツール")
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert token.startswith("azu_")
    [stored] = AppRegistration.objects.all()
    assert (stored.user, stored.client, stored.device_name) == (users_a[0], "tool", "同期ツール")
    assert (stored.kind, stored.device_key, stored.state) == ("account", None, "active")
    access = stored.tokens.get(kind="access")
    assert access.token_hash == hashlib.sha256(token.encode()).hexdigest()


# --- Bad input ---------------------------------------------------------------------------


def test_a_get_is_refused_with_json(db):
    response = Client().get(TOKEN)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("params", "error", "status"),
    [
        ({"grant_type": None}, "invalid_request", 400),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type", 400),
        ({"client_id": None}, "invalid_request", 400),
        ({"client_id": "windows-phone"}, "invalid_client", 401),
        ({"username": None}, "invalid_request", 400),
        ({"password": None}, "invalid_request", 400),
        ({"username": "x" * 255}, "invalid_request", 400),
        ({"password": "x" * 129}, "invalid_request", 400),
        ({"username": "x" * 100_000}, "invalid_request", 413),
        ({"password": "x" * 100_000}, "invalid_request", 413),
        ({"device_name": "x" * 33}, "invalid_request", 400),
        ({"device_name": "bad\x07name"}, "invalid_request", 400),
    ],
)
def test_a_bad_parameter_gets_its_error_and_changes_nothing(waiting_key, params, error, status):
    params.setdefault("device_key", waiting_key.key)
    response = grant(**params)
    assert (response.status_code, response.json()["error"]) == (status, error)
    assert not DeviceKey.objects.get(pk=waiting_key.pk).is_registered


def test_a_repeated_parameter_is_refused(waiting_key):
    body = f"grant_type=x&grant_type=y&device_key={waiting_key.key}"
    response = Client().post(TOKEN, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    # Fixed words: never the parameter's name or value.
    assert response.json()["error_description"] == "A parameter was given more than once."


def test_json_instead_of_a_form_is_refused(waiting_key):
    response = Client().post(
        TOKEN, {"device_key": waiting_key.key}, content_type="application/json"
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_a_huge_body_is_refused_before_it_is_read(db):
    body = "password=" + "x" * 100_000
    response = Client().post(TOKEN, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_non_utf8_is_an_error_not_a_crash(waiting_key):
    body = b"grant_type=\xff\xfe&username=\xc3\x28&password=\x80"
    response = Client().post(TOKEN, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in {400, 401}
    assert "error" in response.json()


def test_no_secret_reaches_the_log_or_the_audit_entries(waiting_key, caplog):
    with caplog.at_level("DEBUG"):
        token = grant(device_key=waiting_key.key).json()["access_token"]
        grant(device_key=WRONG_KEY)
        grant(password="Wrong7pass")
    dump = caplog.text + repr(list(AuditEntry.objects.values()))
    for secret in (token, waiting_key.key, "Wrong7pass", WRONG_KEY):
        assert secret not in dump


def test_an_unknown_client_is_told_how_to_authenticate(db):
    """RFC 6749 §5.2: invalid_client is a 401 with WWW-Authenticate."""
    response = grant(client_id="windows-phone", device_key="Abcd1234")
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic realm=")

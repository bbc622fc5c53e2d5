"""App registrations end with their reason: each event of a key or a login ID, through
the services the console calls, ends (or suspends) exactly the registrations api.rules
says, and GET /api/device/status tells the app why."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services as accounts
from api import services as api
from api.exceptions import AppRegistrationNotFound
from api.models import AppRegistration
from audit.actions import Action
from audit.models import AuditEntry
from devicekeys import services as keys
from tests.accounts.test_admin import form_data
from tests.api.conftest import STATUS, TOKEN, grant, introspect, post_form
from tests.conftest import SETUP, login_verified

NEW_PASSWORD = "Zr8wKq3Xv6"


def status(token):
    return Client().get(STATUS, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="ja")


def _key_token(user):
    key = keys.device_key_issue(contract=user.contract, user=user, actor=SETUP)
    response = grant(username=user.login_id, device_key=key.key, client_id="ios")
    assert response.status_code == 200, response.content
    return key, response.json()


def _account_token(user):
    response = grant(username=user.login_id, device_key=None, client_id="tool")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def tokens(contract_a, admin_a, users_a):
    """taro-a and hana-a each with an app bound to a key (azd_) and a tool bound to the
    login ID alone (azu_): keys first, then device authentication switched off. Each
    access token under its name, its refresh token under `<name>_refresh`."""
    taro, hana = users_a
    taro_key, taro_azd = _key_token(taro)
    hana_key, hana_azd = _key_token(hana)
    keys.access_setting_change(
        contract=contract_a, actor=admin_a, device_auth_required=False, notify_on_register=False
    )
    bodies = {
        "taro_azd": taro_azd,
        "taro_azu": _account_token(taro),
        "hana_azd": hana_azd,
        "hana_azu": _account_token(hana),
    }
    return {
        **{name: body["access_token"] for name, body in bodies.items()},
        **{f"{name}_refresh": body["refresh_token"] for name, body in bodies.items()},
        "taro_key": taro_key,
        "hana_key": hana_key,
    }


def refresh(refresh_token, client_id):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return post_form(Client(), TOKEN, data)


TOKENS = ("taro_azd", "taro_azu", "hana_azd", "hana_azu")


def _password_change(t, admin, taro):
    accounts.user_change(
        contract=admin.contract,
        actor=admin,
        user=taro,
        login_id="taro-a",
        email="taro-a@example.jp",
        password=NEW_PASSWORD,
    )


def _own_password_change(t, admin, taro):
    accounts.user_password_change(
        contract=admin.contract, actor=taro, user=taro, password=NEW_PASSWORD
    )


def _reset(t, admin, taro):
    accounts.password_reset_complete(user=taro, password=NEW_PASSWORD)


def _support_change(t, admin, taro):
    """Django admin's change form calls user_change too: the same event."""
    browser = Client()
    login_verified(browser, t["support"])
    data = form_data(taro.contract, login_id="taro-a", email=taro.email, password=NEW_PASSWORD)
    url = reverse("admin:accounts_user_change", args=[taro.pk])
    assert browser.post(url, data).status_code == 302


def _delete_user(t, admin, taro):
    accounts.user_delete(contract=admin.contract, actor=admin, user=taro)


def _stop(t, admin, taro):
    keys.device_key_stop(contract=admin.contract, key=t["taro_key"], actor=admin)


def _stop_all(t, admin, taro):
    keys.device_key_stop_all_for_user(contract=admin.contract, user=taro, actor=admin)


def _reissue(t, admin, taro):
    keys.device_key_reissue(contract=admin.contract, key=t["taro_key"], actor=admin)


def _delete_key(t, admin, taro):
    keys.device_key_delete(contract=admin.contract, key=t["taro_key"], actor=admin)


def _keys_required(t, admin, taro):
    keys.access_setting_change(
        contract=admin.contract, actor=admin, device_auth_required=True, notify_on_register=False
    )


def _app_revokes(t, admin, taro):
    api.app_token_revoke(token=t["taro_azd"], client="ios")
    api.app_token_revoke(token=t["taro_azu"], client="tool")


def _administrator_ends_all(t, admin, taro):
    api.app_registrations_end_all(contract=admin.contract, user=taro, actor=admin)


def _user_ends_all(t, admin, taro):
    api.app_registrations_end_all(contract=admin.contract, user=taro, actor=taro)


def _everywhere(t, admin, taro):
    accounts.user_sign_out_everywhere(contract=admin.contract, actor=admin, user=taro)


# event -> (taro's azd_ told, taro's azu_ told); None: still active; 401: told nothing.
# hana-a's are never touched, except by アクセス設定 (the whole contract's).
EVENTS = {
    "password changed by the administrator": (_password_change, None, "password_changed"),
    "password changed by the user": (_own_password_change, None, "password_changed"),
    "password reset": (_reset, None, "password_changed"),
    "password changed in Django admin": (_support_change, None, "password_changed"),
    "login ID deleted": (_delete_user, "deleted", "deleted"),
    "停止": (_stop, "stopped", None),
    "このログインIDの全キーを停止": (_stop_all, "stopped", None),
    "再発行": (_reissue, "reissued", None),
    "削除": (_delete_key, "deleted", None),
    "device authentication switched on": (_keys_required, None, "invalid"),
    "the app's own revocation": (_app_revokes, 401, 401),
    "the administrator ends them": (_administrator_ends_all, "signed_out", "signed_out"),
    "the user ends them": (_user_ends_all, "signed_out", "signed_out"),
    "全端末からサインアウト": (_everywhere, "signed_out", "signed_out"),
}


@pytest.mark.parametrize(("event", "azd", "azu"), EVENTS.values(), ids=EVENTS.keys())
def test_each_event_ends_the_right_registrations_and_tells_why(
    tokens, storage, admin_a, users_a, support_staff, event, azd, azu
):
    event({**tokens, "support": support_staff}, admin_a, users_a[0])
    for name, told, client_id in (("taro_azd", azd, "ios"), ("taro_azu", azu, "tool")):
        token = tokens[name]
        refreshed = refresh(tokens[f"{name}_refresh"], client_id)
        if told is None:
            assert introspect(storage, token)["active"] is True, name
            assert status(token).json()["state"] == "active", name
            assert refreshed.status_code == 200, name
            continue
        assert introspect(storage, token) == {"active": False}, name
        # Refresh is refused at once: the registration's state is read, as above.
        assert (refreshed.status_code, refreshed.json()["error"]) == (400, "invalid_grant")
        if told == 401:
            assert status(token).status_code == 401, name
        else:
            assert status(token).json()["state"] == told, name
    contract_wide = event is _keys_required
    for name in ("hana_azd", "hana_azu"):
        expected = not (contract_wide and name == "hana_azu")
        assert introspect(storage, tokens[name])["active"] is expected, name


def test_a_login_id_token_stays_dead_when_device_authentication_goes_off_again(
    tokens, storage, admin_a
):
    for required in (True, False):
        keys.access_setting_change(
            contract=admin_a.contract,
            actor=admin_a,
            device_auth_required=required,
            notify_on_register=False,
        )
    assert introspect(storage, tokens["taro_azu"]) == {"active": False}
    assert status(tokens["taro_azu"]).json()["state"] == "invalid"
    assert introspect(storage, tokens["taro_azd"])["active"] is True


def test_unstop_lets_the_same_app_in_again(tokens, storage, admin_a):
    keys.device_key_stop(contract=admin_a.contract, key=tokens["taro_key"], actor=admin_a)
    assert refresh(tokens["taro_azd_refresh"], "ios").json()["error"] == "invalid_grant"
    keys.device_key_unstop(contract=admin_a.contract, key=tokens["taro_key"], actor=admin_a)
    assert introspect(storage, tokens["taro_azd"])["active"] is True
    assert status(tokens["taro_azd"]).json()["state"] == "active"
    # The refresh token refused while stopped was not used up: it works now.
    refreshed = refresh(tokens["taro_azd_refresh"], "ios")
    assert refreshed.status_code == 200
    assert introspect(storage, refreshed.json()["access_token"])["active"] is True


def test_a_password_change_after_the_end_tells_the_first_reason(tokens, admin_a, users_a):
    _delete_key(tokens, admin_a, users_a[0])
    _own_password_change(tokens, admin_a, users_a[0])
    assert status(tokens["taro_azd"]).json()["state"] == "deleted"


def test_the_reason_is_told_in_the_apps_language(tokens, admin_a, users_a):
    _own_password_change(tokens, admin_a, users_a[0])
    token = tokens["taro_azu"]
    japanese = status(token).json()["message"]
    english = (
        Client().get(STATUS, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en")
    ).json()["message"]
    assert "パスワードが変更された" in japanese
    assert english.isascii() and "password" in english


def test_each_ending_is_recorded_with_its_reason(tokens, admin_a, users_a):
    _administrator_ends_all(tokens, admin_a, users_a[0])
    entries = AuditEntry.objects.filter(action=Action.APP_SIGN_IN_ENDED)
    assert entries.count() == 2
    assert {entry.changes["reason"][1] for entry in entries} == {"by_administrator"}
    assert all("taro-a" in entry.target for entry in entries)


def test_the_administrator_ending_them_mails_the_user_and_the_user_ending_them_does_not(
    tokens, admin_a, users_a, mailoutbox, django_capture_on_commit_callbacks
):
    taro = users_a[0]
    with django_capture_on_commit_callbacks(execute=True):
        registration = AppRegistration.objects.get(user=taro, kind="key")
        api.app_registration_end(
            contract=admin_a.contract, user=taro, registration=registration, actor=admin_a
        )
    [mail] = mailoutbox
    assert mail.to == ["taro-a@example.jp"] and registration.device_name in mail.body
    assert tokens["taro_azd"] not in mail.body
    with django_capture_on_commit_callbacks(execute=True):
        api.app_registrations_end_all(contract=admin_a.contract, user=taro, actor=taro)
    assert len(mailoutbox) == 1
    assert set(AppRegistration.objects.filter(user=taro).values_list("state", flat=True)) == {
        "ended"
    }


def test_another_login_ids_or_contracts_registration_is_not_found(
    tokens, admin_a, admin_b, users_a
):
    taro, hana = users_a
    hanas = AppRegistration.objects.filter(user=hana).first()
    with pytest.raises(AppRegistrationNotFound):
        api.app_registration_end(
            contract=admin_a.contract, user=taro, registration=hanas, actor=admin_a
        )
    with pytest.raises(AppRegistrationNotFound):
        api.app_registration_end(
            contract=admin_b.contract, user=hana, registration=hanas, actor=admin_b
        )
    assert AppRegistration.objects.get(pk=hanas.pk).state == "active"

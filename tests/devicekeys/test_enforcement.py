"""The device check of every request: what ends a session, what the user is told,
what it costs, and the last use it records."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts_services
from audit.models import AuditEntry
from devicekeys import credentials, services, signin
from devicekeys.models import DeviceKey
from tests.conftest import SETUP
from tests.devicekeys.browser import FIREFOX, HOME, KEY_STEP, LOGIN, browser, enter_key, sign_in

CONSOLE = reverse("accounts:console")
CHECK = "devicekeys.middleware.DeviceCheckMiddleware"


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def taro_in_chrome(users_a, key_a):
    """taro-a signed in from a browser that registered key_a."""
    chrome = browser()
    sign_in(chrome, "taro-a")
    assert enter_key(chrome, key_a.key).url == HOME
    key_a.refresh_from_db()
    return chrome


def queries_of(client, path) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


# --- What it costs ----------------------------------------------------------------------


def test_the_check_costs_one_query_by_primary_key(
    taro_in_chrome, admin_a, users_b, django_assert_num_queries
):
    # The same page, for a user of a contract without device authentication (no check).
    services.access_setting_change(
        contract=users_b[0].contract,
        actor=SETUP,
        device_auth_required=False,
        notify_on_register=False,
    )
    jiro = browser()
    assert sign_in(jiro, "jiro-b").url == HOME
    jiro.get(HOME)
    without_check = queries_of(jiro, HOME)

    with django_assert_num_queries(len(without_check) + 1):
        taro_in_chrome.get(HOME)
    with_check = queries_of(taro_in_chrome, HOME)
    [extra] = [sql for sql in with_check if '"devicekeys_devicekey"' in sql]
    assert '"devicekeys_devicekey"."id" =' in extra  # the primary key: an index lookup
    assert not any(sql.startswith(("UPDATE", "INSERT")) for sql in with_check)


def test_a_session_bound_to_another_users_key_is_ended(taro_in_chrome, users_a, issue_key):
    """The check reads the key by primary key only; the key must still be the signed-in
    user's. A shared office PC registered for taro-a and hana-a holds both credentials:
    taro-a's session bound to hana-a's key (a mixed-up session) is ended all the same."""
    hanas_token = credentials.new_token()
    hanas = issue_key(users_a[1], device_name="Hana")
    DeviceKey.objects.filter(pk=hanas.pk).update(
        registered_at=timezone.now(),
        key="",
        key_hash="registered",
        credential_hash=credentials.token_hash(hanas_token),
    )
    cookie = taro_in_chrome.cookies[credentials.COOKIE_NAME].value
    taro_in_chrome.cookies[credentials.COOKIE_NAME] = f"{hanas_token}.{cookie}"
    session = taro_in_chrome.session
    session[signin.BOUND] = {"id": hanas.pk, "hash": credentials.token_hash(hanas_token)}
    session.save()

    response = taro_in_chrome.get(HOME)
    assert response.status_code == 403
    assert not signed_in(taro_in_chrome)


def test_administrators_are_not_checked(admin_client_a, settings, django_assert_num_queries):
    admin_client_a.get(CONSOLE)
    with_middleware = len(queries_of(admin_client_a, CONSOLE))
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != CHECK]
    with django_assert_num_queries(with_middleware):
        admin_client_a.get(CONSOLE)


def test_last_use_is_written_at_most_once_a_minute(taro_in_chrome, key_a, admin_client_a):
    registered_at = key_a.registered_at
    with time_machine.travel(registered_at + timedelta(seconds=30), tick=False) as clock:
        assert not any(sql.startswith("UPDATE") for sql in queries_of(taro_in_chrome, HOME))
        key_a.refresh_from_db()
        assert key_a.last_used_at == registered_at

        clock.shift(timedelta(seconds=31))
        taro_in_chrome.get(HOME, HTTP_USER_AGENT="Chrome moved on", REMOTE_ADDR="192.0.2.44")
        key_a.refresh_from_db()
        assert key_a.last_used_at == registered_at + timedelta(seconds=61)
        assert key_a.last_ip == "192.0.2.44"
        assert key_a.last_user_agent == "Chrome moved on"

        clock.shift(timedelta(seconds=10))
        assert not any(sql.startswith("UPDATE") for sql in queries_of(taro_in_chrome, HOME))

    listed = admin_client_a.get(reverse("devicekeys:key-list")).text
    assert "最終利用日時" in listed
    assert timezone.localtime(key_a.last_used_at).strftime("%Y/%m/%d %H:%M") in listed


# --- What ends a session ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "words", "credential_kept"),
    [
        (services.device_key_stop, "利用停止", True),
        (services.device_key_reissue, "再発行", False),
        (services.device_key_delete, "削除", False),
    ],
)
def test_a_status_change_ends_the_session_at_the_next_request_and_says_why(
    taro_in_chrome, key_a, admin_a, service, words, credential_kept
):
    service(contract=admin_a.contract, key=key_a, actor=admin_a)

    response = taro_in_chrome.get(HOME)

    assert response.status_code == 403
    assert words in response.text
    assert "ログアウトしました" in response.text
    assert not signed_in(taro_in_chrome)
    assert taro_in_chrome.get(HOME).url.startswith(LOGIN)
    cookie = response.cookies.get(credentials.COOKIE_NAME)
    assert (cookie is None) is credential_kept  # only a dead credential is taken back
    assert AuditEntry.objects.filter(action="session_ended").exists()


def test_a_post_is_refused_too_and_changes_nothing(taro_in_chrome, key_a, admin_a, users_a):
    services.device_key_stop(contract=admin_a.contract, key=key_a, actor=admin_a)
    response = taro_in_chrome.post(
        reverse("accounts:profile-edit"), {"nickname": "hijack", "display_name": "x"}
    )
    assert response.status_code == 403
    users_a[0].refresh_from_db()
    assert users_a[0].nickname != "hijack"


def test_unstop_lets_the_same_browser_in_again_without_a_key(taro_in_chrome, key_a, admin_a):
    services.device_key_stop(contract=admin_a.contract, key=key_a, actor=admin_a)
    assert taro_in_chrome.get(HOME).status_code == 403
    services.device_key_unstop(contract=admin_a.contract, key=key_a, actor=admin_a)
    assert sign_in(taro_in_chrome, "taro-a").url == HOME
    assert taro_in_chrome.get(HOME).status_code == 200


def test_a_reissued_key_registered_elsewhere_does_not_open_the_old_browser(
    taro_in_chrome, key_a, admin_a, users_a
):
    key = services.device_key_reissue(contract=admin_a.contract, key=key_a, actor=admin_a)
    firefox = browser(FIREFOX)
    sign_in(firefox, "taro-a")
    assert enter_key(firefox, key.key).url == HOME
    assert taro_in_chrome.get(HOME).status_code == 403
    assert firefox.get(HOME).status_code == 200


@pytest.mark.parametrize(
    "service", [services.device_key_reissue, services.device_key_stop], ids=["reissue", "stop"]
)
def test_a_copied_credential_cookie_replayed_after_reissue_or_stop_does_not_sign_in(
    taro_in_chrome, key_a, admin_a, service
):
    copied = taro_in_chrome.cookies[credentials.COOKIE_NAME].value
    service(contract=admin_a.contract, key=key_a, actor=admin_a)

    # A fresh browser holding the old cookie, and the right password.
    replay = browser()
    replay.cookies[credentials.COOKIE_NAME] = copied
    assert sign_in(replay, "taro-a").url == KEY_STEP  # asked for a key again
    assert not signed_in(replay)
    assert replay.get(HOME).url.startswith(LOGIN)
    # The old browser itself, signing in again, fares no better.
    taro_in_chrome.get(HOME)
    taro_in_chrome.cookies[credentials.COOKIE_NAME] = copied
    assert sign_in(taro_in_chrome, "taro-a").url == KEY_STEP
    assert not signed_in(taro_in_chrome)


def test_a_deleted_login_id_ends_its_session_and_says_why(taro_in_chrome, admin_a, users_a):
    accounts_services.user_delete(contract=admin_a.contract, actor=admin_a, user=users_a[0])
    response = taro_in_chrome.get(HOME)
    assert response.status_code == 403
    assert "削除されたか" in response.text
    assert not signed_in(taro_in_chrome)


def test_a_browser_without_its_credential_is_refused(taro_in_chrome, key_a):
    del taro_in_chrome.cookies[credentials.COOKIE_NAME]
    response = taro_in_chrome.get(HOME)
    assert response.status_code == 403
    assert "Cookie" in response.text


def test_a_stolen_session_cookie_alone_is_not_enough(taro_in_chrome):
    thief = browser()
    session_cookie = taro_in_chrome.cookies[settings.SESSION_COOKIE_NAME].value
    thief.cookies[settings.SESSION_COOKIE_NAME] = session_cookie
    assert thief.get(HOME).status_code == 403


def test_a_user_session_that_skipped_the_device_step_is_refused(client, users_a):
    client.force_login(users_a[0])  # as a session from before this check would be
    response = client.get(HOME)
    assert response.status_code == 403
    assert "もう一度ログインしてください" in response.text
    assert not signed_in(client)


def test_a_password_changed_by_the_administrator_ends_the_session(taro_in_chrome, admin_a, users_a):
    accounts_services.user_change(
        contract=admin_a.contract,
        actor=admin_a,
        user=users_a[0],
        login_id="taro-a",
        email="taro-a@example.jp",
        password="Zr8wKq3Xv6",
    )
    assert taro_in_chrome.get(HOME).url.startswith(LOGIN)
    # The device stays registered: the new password alone signs it in.
    assert sign_in(taro_in_chrome, "taro-a", "Zr8wKq3Xv6").url == HOME


def test_the_other_browsers_of_the_same_login_id_are_not_touched(
    taro_in_chrome, key_a, admin_a, users_a, issue_key
):
    second = issue_key(users_a[0])
    firefox = browser(FIREFOX)
    sign_in(firefox, "taro-a")
    enter_key(firefox, second.key)
    services.device_key_stop(contract=admin_a.contract, key=key_a, actor=admin_a)
    assert taro_in_chrome.get(HOME).status_code == 403
    assert firefox.get(HOME).status_code == 200


def test_no_key_reaches_the_refusal_page_or_the_key_step(taro_in_chrome, key_a, admin_a):
    key = services.device_key_reissue(contract=admin_a.contract, key=key_a, actor=admin_a)
    refused = taro_in_chrome.get(HOME).text
    sign_in(taro_in_chrome, "taro-a")
    step = taro_in_chrome.get(KEY_STEP).text
    assert key.key not in refused and key.key not in step
    assert DeviceKey.objects.get(pk=key.pk).key == key.key

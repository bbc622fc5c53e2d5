"""Device authentication at sign-in, as the user and the administrator live it: the
password step, the key step, registration, wrong keys, the credential cookie, the
device's name, アクセス設定 and the administrator's mail."""

import hashlib
import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.urls import reverse

from audit.models import AuditEntry
from devicekeys import credentials, rules, services, signin
from devicekeys.exceptions import NoKeyWaiting, WrongKey
from devicekeys.models import AccessSetting, DeviceKey, WrongEntryCounter
from devicekeys.rules import Status
from tests.conftest import PASSWORD, SETUP
from tests.devicekeys.browser import (
    CHROME,
    EDGE,
    FIREFOX,
    HOME,
    KEY_STEP,
    LOGIN,
    SAFARI,
    browser,
    enter_key,
    sign_in,
)
from tests.parallel import on_postgresql

ISSUE = reverse("devicekeys:key-issue")
LIST = reverse("devicekeys:key-list")
CONSOLE = reverse("accounts:console")
WRONG = "Wrong123"  # well formed, and not the key


def url(name, key):
    return reverse(f"devicekeys:{name}", args=[key.pk])


def register(client, user, key_value):
    """Password and key in `client`; the response of the key step."""
    assert sign_in(client, user.login_id).url == KEY_STEP
    return enter_key(client, key_value)


def fresh(key) -> DeviceKey:
    key.refresh_from_db()
    return key


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- The whole story ------------------------------------------------------------------


def test_the_whole_story_with_two_browsers(
    admin_client_a, users_a, mailoutbox, django_capture_on_commit_callbacks
):
    taro = users_a[0]
    # The administrator issues a key; it reaches taro by mail.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_a.post(ISSUE, {"user": taro.pk, "device_name": ""})
    key = DeviceKey.objects.get(user=taro)
    value = key.key
    assert value in mailoutbox[-1].body and mailoutbox[-1].to == ["taro-a@example.jp"]

    # Browser A: the right password is not enough yet.
    a = browser(CHROME)
    assert sign_in(a, "taro-a").url == KEY_STEP
    assert not signed_in(a)
    assert a.get(HOME).url.startswith(LOGIN)
    step = a.get(KEY_STEP).text
    assert "端末認証キー" in step and "taro-a" in step
    # ... the key registers browser A, which lands on the home page.
    assert enter_key(a, value).url == HOME
    home = a.get(HOME).text
    assert "taro-a" in home and "Chrome" in home
    key = fresh(key)
    assert key.is_registered and key.key == "" and key.device_name == "Chrome"

    # Browser B with the same password cannot use the same key again.
    b = browser(FIREFOX)
    response = register(b, taro, value)
    assert response.status_code == 200
    assert "登録できる端末認証キーがありません" in response.text
    assert not signed_in(b)

    # 停止: A's next request is refused, and says why.
    admin_client_a.post(url("key-stop", key))
    response = a.get(HOME)
    assert response.status_code == 403
    assert "利用停止" in response.text
    assert not signed_in(a)
    assert a.get(HOME).url.startswith(LOGIN)
    # While stopped, the password leads to the key step, which says the key is stopped.
    assert sign_in(a, "taro-a").url == KEY_STEP
    assert "利用停止にされています" in a.get(KEY_STEP).text

    # 停止解除: the same browser signs in again without a new key.
    admin_client_a.post(url("key-unstop", key))
    assert sign_in(a, "taro-a").url == HOME
    assert a.get(HOME).status_code == 200

    # 再発行: A is refused and must enter the new key.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_a.post(url("key-reissue", key))
    reissued = fresh(key).key
    assert reissued in mailoutbox[-1].body
    response = a.get(HOME)
    assert response.status_code == 403 and "再発行" in response.text
    assert sign_in(a, "taro-a").url == KEY_STEP

    # Three wrong keys: the key becomes 無効 and taro is told to ask the administrator.
    assert "あと2回" in enter_key(a, WRONG).text
    assert "あと1回" in enter_key(a, WRONG).text
    third = enter_key(a, WRONG).text
    assert "無効になりました" in third and "管理者に端末認証キーの再発行を依頼" in third
    assert fresh(key).status == Status.INVALID
    assert enter_key(a, reissued).url.startswith(LOGIN)  # the pending sign-in is over
    assert "無効" in admin_client_a.get(LIST).text

    # 再発行 recovers it.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_a.post(url("key-reissue", key))
    assert register(a, taro, fresh(key).key).url == HOME
    assert a.get(HOME).status_code == 200

    # 削除: A is refused.
    admin_client_a.post(url("key-delete", key))
    response = a.get(HOME)
    assert response.status_code == 403 and "削除" in response.text
    assert not signed_in(a)


# --- The password step ------------------------------------------------------------------


def test_administrators_sign_in_with_their_password_only(client, admin_a, users_a, issue_key):
    issue_key(users_a[0])
    assert sign_in(client, "admin-a").url == CONSOLE
    assert client.get(CONSOLE).status_code == 200


def test_a_user_id_with_a_registered_browser_lands_on_the_home_page(users_a, key_a):
    chrome = browser()
    register(chrome, users_a[0], key_a.key)
    chrome.post(reverse("accounts:logout"))
    assert sign_in(chrome, "taro-a").url == HOME
    assert sign_in(browser(), "taro-a").url == KEY_STEP  # another browser: not registered


def test_a_wrong_password_never_reaches_the_key_step(client, users_a, key_a):
    response = sign_in(client, "taro-a", "Wrong7pass")
    assert response.status_code == 200
    assert "ログインIDまたはパスワードが正しくありません。" in response.text
    assert client.get(KEY_STEP).url == LOGIN


def test_the_key_step_does_not_escape_password_throttling(client, users_a, key_a):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "taro-a", "Wrong7pass")
    assert sign_in(client, "taro-a").status_code == 429
    assert client.get(KEY_STEP).url == LOGIN


def test_the_session_key_changes_at_the_password_and_at_the_key(users_a, key_a):
    chrome = browser()
    chrome.get(LOGIN)
    sign_in(chrome, "taro-a")
    pending_key = chrome.cookies[settings.SESSION_COOKIE_NAME].value
    enter_key(chrome, key_a.key)
    assert chrome.cookies[settings.SESSION_COOKIE_NAME].value != pending_key
    assert not Session.objects.filter(session_key=pending_key).exists()


def test_next_is_kept_through_the_key_step(users_a, key_a):
    chrome = browser()
    sign_in(chrome, "taro-a", next="/home/profile/")
    assert enter_key(chrome, key_a.key).url == "/home/profile/"


def test_the_key_step_without_a_password_step_leads_to_sign_in(client, db):
    response = client.get(KEY_STEP)
    assert response.url == LOGIN
    assert "もう一度ログインしてください" in client.get(LOGIN).text
    assert client.post(KEY_STEP, {"key": "Abcd1234"}).url == LOGIN


def test_a_pending_sign_in_expires(users_a, key_a):
    chrome = browser()
    with time_machine.travel("2026-04-01 10:00 +0900", tick=False) as clock:
        sign_in(chrome, "taro-a")
        clock.shift(timedelta(seconds=signin.PENDING_MAX_AGE + 1))
        assert enter_key(chrome, key_a.key).url == LOGIN
    assert not fresh(key_a).is_registered


def test_a_password_changed_between_the_steps_ends_the_pending_sign_in(users_a, key_a):
    chrome = browser()
    sign_in(chrome, "taro-a")
    taro = users_a[0]
    taro.set_password("Zr8wKq3Xv6")
    taro.save()
    assert enter_key(chrome, key_a.key).url == LOGIN


def test_a_forged_pending_sign_in_is_refused(client, users_a, key_a):
    session = client.session
    session[signin.PENDING] = f'{{"user": {users_a[0].pk}, "auth": "", "next": "/"}}'
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    assert enter_key(client, key_a.key).url == LOGIN
    assert not fresh(key_a).is_registered


# --- The key step -----------------------------------------------------------------------


def test_a_full_width_key_is_read_as_typed_half_width(users_a, key_a):
    typed = key_a.key.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert register(browser(), users_a[0], f" {typed} ").url == HOME


def test_keys_are_case_sensitive(users_a, issue_key, monkeypatch):
    # A key with letters of both cases: a drawn one may hold digits only, with no case
    # to change.
    monkeypatch.setattr(rules, "generate_key", lambda: "Kx7mQ2vR")
    issue_key(users_a[0])
    response = register(browser(), users_a[0], "kX7Mq2Vr")
    assert "正しくありません" in response.text


OLD_KEY = "Ol0I1wZg"  # issued before look-alikes were left out of new keys


@pytest.fixture
def old_key(key_a) -> DeviceKey:
    DeviceKey.objects.filter(pk=key_a.pk).update(key=OLD_KEY, key_suffix=OLD_KEY[-2:])
    return fresh(key_a)


def test_a_key_issued_with_look_alikes_still_registers_the_browser(users_a, old_key):
    assert register(browser(), users_a[0], OLD_KEY).url == HOME
    assert fresh(old_key).registered_at is not None


@pytest.mark.parametrize("typed", ["oL0i1wZg", "OlOI1wZg", "Ol0IlwZg", "010I1wZg"])
def test_look_alikes_of_an_old_key_are_not_read_one_for_another(users_a, old_key, typed):
    response = register(browser(), users_a[0], typed)
    assert "正しくありません" in response.text
    assert fresh(old_key).registered_at is None


def wrong_count(user) -> int:
    """The login ID's count of consecutive wrong keys (devicekeys.wrong_entries)."""
    counter = WrongEntryCounter.objects.filter(user=user).first()
    return counter.wrong_entries if counter else 0


def test_a_malformed_entry_is_not_counted(users_a, key_a):
    chrome = browser()
    sign_in(chrome, "taro-a")
    for entry in ["", "short", "toolong123", "abc-1234"]:
        response = enter_key(chrome, entry)
        assert response.status_code == 200
    assert wrong_count(users_a[0]) == 0
    assert enter_key(chrome, key_a.key).url == HOME


def test_another_login_ids_key_is_a_wrong_key(users_a, issue_key):
    hanas = issue_key(users_a[1])
    issue_key(users_a[0])
    assert "あと2回" in register(browser(), users_a[0], hanas.key).text
    assert not fresh(hanas).is_registered


def test_a_login_id_without_a_waiting_key_is_told_to_ask_for_one(users_a):
    chrome = browser()
    sign_in(chrome, "taro-a")
    response = chrome.get(KEY_STEP)
    assert "登録できる端末認証キーがありません" in response.text
    assert 'name="key"' not in response.text


def test_a_right_key_resets_the_count_of_the_login_id(users_a, issue_key):
    taro = users_a[0]
    first = issue_key(taro)
    issue_key(taro)  # a second waiting key: the count is the login ID's, not a key's
    chrome = browser()
    sign_in(chrome, "taro-a")
    enter_key(chrome, WRONG)
    enter_key(chrome, WRONG)
    assert wrong_count(taro) == 2
    assert enter_key(chrome, first.key).url == HOME
    assert wrong_count(taro) == 0
    # The other waiting key has three tries again.
    firefox = browser(FIREFOX)
    sign_in(firefox, "taro-a")
    assert "あと2回" in enter_key(firefox, WRONG).text
    assert "あと1回" in enter_key(firefox, WRONG).text


def test_three_wrong_keys_make_every_waiting_key_of_the_login_id_invalid(
    users_a, issue_key, register_key, admin_a
):
    taro, hana = users_a
    waiting = [issue_key(taro), issue_key(taro)]
    registered = register_key(issue_key(taro))
    hanas = issue_key(hana)
    chrome = browser()
    sign_in(chrome, "taro-a")
    for _ in range(rules.WRONG_ENTRY_LIMIT):
        response = enter_key(chrome, WRONG)
    assert "無効になりました" in response.text
    assert [fresh(key).status for key in waiting] == [Status.INVALID, Status.INVALID]
    assert fresh(registered).status == Status.ACTIVE
    assert fresh(hanas).status == Status.ACTIVE
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"device_key_wrong", "device_key_invalidated"} <= actions


@on_postgresql("needs real row locks and parallel connections; SQLite serialises all writers")
def test_parallel_wrong_guesses_get_no_fourth_try(admin_a, users_a):
    taro = users_a[0]
    key = services.device_key_issue(contract=admin_a.contract, user=taro, actor=SETUP)
    guesses = 10
    start = threading.Barrier(guesses)
    outcomes = []

    def guess(n):
        try:
            start.wait()
            services.device_key_enter(
                contract=admin_a.contract,
                actor=taro,
                user=taro,
                entered=f"Guess{n:03d}",
                ip=f"192.0.2.{n}",
                user_agent=CHROME,
            )
            outcomes.append("registered")
        except WrongKey as wrong:
            outcomes.append(wrong.remaining)
        except NoKeyWaiting:
            outcomes.append("no key")
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Exactly three guesses were compared (2, 1, 0 tries left); the others found no key.
    assert sorted(outcomes, key=str) == [0, 1, 2] + ["no key"] * (guesses - 3)
    assert fresh(key).status == Status.INVALID


# --- The credential ---------------------------------------------------------------------


def test_the_credential_cookie_is_long_lived_httponly_secure_and_lax(settings, users_a, key_a):
    settings.SESSION_COOKIE_SECURE = True  # as in production
    chrome = browser()
    sign_in(chrome, "taro-a")
    response = enter_key(chrome, key_a.key)
    cookie = response.cookies[credentials.COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) >= 365 * 24 * 60 * 60
    assert len(cookie.value) >= 22  # at least 128 bits in URL-safe base64 (here 256)


def test_only_a_hash_of_the_token_is_stored_and_the_key_is_never_in_a_cookie(users_a, key_a):
    value = key_a.key
    chrome = browser()
    sign_in(chrome, "taro-a")
    enter_key(chrome, value)
    token = chrome.cookies[credentials.COOKIE_NAME].value
    key = fresh(key_a)
    assert key.credential_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(DeviceKey.objects.values().get(pk=key.pk))
    for cookie in chrome.cookies.values():
        assert value not in cookie.value
    for session in Session.objects.all():
        assert value not in str(session.get_decoded())


def test_tokens_differ_per_registration(users_a, issue_key):
    first, second = issue_key(users_a[0]), issue_key(users_a[0])
    chrome, firefox = browser(), browser(FIREFOX)
    register(chrome, users_a[0], first.key)
    register(firefox, users_a[0], second.key)
    assert (
        chrome.cookies[credentials.COOKIE_NAME].value
        != firefox.cookies[credentials.COOKIE_NAME].value
    )
    assert fresh(first).credential_hash != fresh(second).credential_hash


def test_one_browser_keeps_a_credential_for_each_login_id(users_a, issue_key):
    taro, hana = users_a
    taros, hanas = issue_key(taro), issue_key(hana)
    shared_pc = browser()
    register(shared_pc, taro, taros.key)
    shared_pc.post(reverse("accounts:logout"))
    register(shared_pc, hana, hanas.key)
    shared_pc.post(reverse("accounts:logout"))
    assert sign_in(shared_pc, "taro-a").url == HOME
    shared_pc.post(reverse("accounts:logout"))
    assert sign_in(shared_pc, "hana-a").url == HOME


# --- The device's name ------------------------------------------------------------------


def test_an_unnamed_key_takes_the_browsers_name_numbered_within_the_contract(
    users_a, users_b, issue_key
):
    taro, hana = users_a
    issue_key(users_b[0], device_name="Chrome")  # another contract's name does not count
    keys = [issue_key(taro), issue_key(hana), issue_key(taro), issue_key(hana)]
    agents = [CHROME, CHROME, FIREFOX, EDGE]
    for key, user, agent in zip(keys, [taro, hana, taro, hana], agents, strict=True):
        register(browser(agent), user, key.key)
    assert [fresh(key).device_name for key in keys] == ["Chrome", "Chrome-2", "Firefox", "Edge"]


def test_a_name_the_administrator_chose_is_kept(users_a, issue_key):
    key = issue_key(users_a[0], device_name="経理部のPC")
    register(browser(SAFARI), users_a[0], key.key)
    assert fresh(key).device_name == "経理部のPC"


def test_an_unknown_browser_keeps_the_default_name(users_a, issue_key):
    key = issue_key(users_a[0])
    register(browser("azukeru-sync/2.0"), users_a[0], key.key)
    assert fresh(key).device_name == "端末-1"


def test_registration_records_the_first_use(users_a, key_a):
    register(browser(FIREFOX, REMOTE_ADDR="198.51.100.9"), users_a[0], key_a.key)
    key = fresh(key_a)
    assert key.last_used_at == key.registered_at
    assert key.last_ip == "198.51.100.9"
    assert "Firefox" in key.last_user_agent


# --- アクセス設定 ---------------------------------------------------------------------------


def test_without_device_authentication_users_sign_in_with_their_password(
    admin_client_a, users_a, key_a
):
    admin_client_a.post(reverse("devicekeys:access-settings"), {})
    assert AccessSetting.objects.get(contract=users_a[0].contract).device_auth_required is False
    chrome = browser()
    assert sign_in(chrome, "taro-a").url == HOME
    assert "端末認証キーなしでログインしています" in chrome.get(HOME).text
    assert not fresh(key_a).is_registered


def test_the_setting_is_the_contracts_own(admin_a, users_a, users_b, key_b):
    services.access_setting_change(
        contract=admin_a.contract,
        actor=admin_a,
        device_auth_required=False,
        notify_on_register=False,
    )
    assert sign_in(browser(), "taro-a").url == HOME
    assert sign_in(browser(), "jiro-b").url == KEY_STEP


def test_no_mail_to_the_administrator_by_default(
    users_a, key_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        register(browser(), users_a[0], key_a.key)
    assert mailoutbox == []


def test_the_administrator_may_ask_for_a_mail_when_a_device_registers(
    admin_a, users_a, key_a, mailoutbox, django_capture_on_commit_callbacks
):
    services.access_setting_change(
        contract=admin_a.contract, actor=admin_a, device_auth_required=True, notify_on_register=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        register(browser(REMOTE_ADDR="198.51.100.20"), users_a[0], key_a.key)
    [mail] = mailoutbox
    assert mail.to == ["admin-a@example.jp"]
    assert "端末" in mail.subject
    for expected in ["taro-a", "Chrome", "198.51.100.20", "日本時間"]:
        assert expected in mail.body
    assert key_a.key not in mail.body


def test_a_user_is_never_asked_for_a_key_of_the_administrator(admin_a, users_a, key_a):
    chrome = browser()
    register(chrome, users_a[0], key_a.key)
    assert chrome.get(CONSOLE).status_code == 403


def test_the_password_is_not_in_the_pending_sign_in(users_a, key_a):
    chrome = browser()
    sign_in(chrome, "taro-a")
    assert PASSWORD not in str(chrome.session.items())


def test_a_wrong_entry_is_not_sent_back_in_the_page(users_a, key_a):
    response = register(browser(), users_a[0], WRONG)
    assert WRONG not in response.text
    assert "正しくありません" in response.text

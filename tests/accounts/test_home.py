"""A user ID's home page and self-service: who is signed in, on which device, and
the profile fields and password the guide lets the user change."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.exceptions import UserNotFound
from audit.models import AuditEntry
from tests.conftest import PASSWORD, login_verified
from tests.devicekeys.browser import (
    FIREFOX,
    HOME,
    KEY_STEP,
    LOGIN,
    browser,
    enter_key,
    sign_in,
    signed_in_user,
)

PROFILE = reverse("accounts:profile-edit")
PASSWORD_CHANGE = reverse("accounts:password-change")
NEW_PASSWORD = "Zr8wKq3Xv6"


def profile(**fields):
    data = {"nickname": "たろう", "display_name": "", "title": "", "department": "", "phone": ""}
    return {**data, **fields}


def password_form(current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return {
        "current_password": current,
        "password": new,
        "password_confirm": new if confirm is None else confirm,
    }


@pytest.fixture
def taro(users_a):
    return users_a[0]


@pytest.fixture
def chrome(taro):
    return signed_in_user(taro)


# --- The home page --------------------------------------------------------------------


def test_home_says_who_is_signed_in_and_on_which_device(chrome, taro):
    taro.display_name = "東日本 太郎"
    taro.save()
    home = chrome.get(HOME).text
    for expected in ["taro-a", "東日本 太郎", "taro-a@example.jp", "ご利用中の端末", "Chrome"]:
        assert expected in home
    assert '<details class="menu">' not in home  # the console's menu is the administrator's
    assert "管理コンソール" not in home


def test_home_greets_the_user_by_display_name_or_else_by_login_id(chrome, taro):
    assert "taro-a さん、ようこそ。" in chrome.get(HOME).text  # not the mail address
    taro.display_name = "東日本 太郎"
    taro.save()
    assert "東日本 太郎 さん、ようこそ。" in chrome.get(HOME).text


def test_the_console_greets_the_administrator_by_display_name_or_else_by_login_id(
    admin_client_a, admin_a
):
    console = reverse("accounts:console")
    assert "admin-a さん（管理者）でログインしています" in admin_client_a.get(console).text
    admin_a.display_name = "管理 花子"
    admin_a.save()
    greeting = "管理 花子 さん（管理者）でログインしています"
    assert greeting in admin_client_a.get(console).text
    admin_client_a.cookies["django_language"] = "en"
    assert "You are signed in as 管理 花子 (administrator)" in admin_client_a.get(console).text


def test_root_leads_a_user_id_home(chrome):
    assert chrome.get("/").url == HOME


def test_an_administrator_is_sent_to_the_console(admin_client_a):
    assert admin_client_a.get(HOME).url == reverse("accounts:console")


def test_support_staff_get_403(client, support_staff):
    login_verified(client, support_staff)
    assert client.get(HOME).status_code == 403


@pytest.mark.parametrize("path", [HOME, PROFILE, PASSWORD_CHANGE])
def test_a_visitor_is_sent_to_sign_in(client, db, path):
    assert client.get(path).url.startswith(f"{LOGIN}?next=")


# --- Profile ----------------------------------------------------------------------------


def test_the_user_changes_their_profile(chrome, taro):
    form = chrome.get(PROFILE).text
    assert 'value="taro-a@example.jp"' in form  # the nickname starts as the mail address
    response = chrome.post(
        PROFILE,
        profile(
            display_name="東日本 太郎", title="課長", department="営業本部", phone="03-1234-5678"
        ),
    )
    assert response.url == HOME
    taro.refresh_from_db()
    assert (taro.nickname, taro.display_name, taro.title, taro.department, taro.phone) == (
        "たろう",
        "東日本 太郎",
        "課長",
        "営業本部",
        "03-1234-5678",
    )
    assert "登録内容を変更しました" in chrome.get(HOME).text
    entry = AuditEntry.objects.get(action="profile_changed")
    assert entry.actor_login_id == "taro-a" and entry.target == "taro-a"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phone": "03-1234-ABCD"}, "連絡先電話番号には半角数字と記号（+ -）のみ使用できます。"),
        ({"display_name": "あ" * 17}, "16"),
    ],
)
def test_the_same_rules_as_the_administrators_screens(chrome, taro, fields, message):
    response = chrome.post(PROFILE, profile(**fields))
    assert response.status_code == 200
    assert message in response.text
    taro.refresh_from_db()
    assert (taro.nickname, taro.display_name, taro.phone) == ("taro-a@example.jp", "", "")


def test_a_blank_nickname_becomes_the_mail_address_again(chrome, taro):
    chrome.post(PROFILE, profile(nickname="たろう"))
    chrome.post(PROFILE, profile(nickname="  "))
    taro.refresh_from_db()
    assert taro.nickname == "taro-a@example.jp"


def test_login_id_and_mail_address_cannot_be_changed_here(chrome, taro):
    chrome.post(PROFILE, profile(login_id="evil", email="evil@example.jp", nickname="x"))
    taro.refresh_from_db()
    assert (taro.login_id, taro.email) == ("taro-a", "taro-a@example.jp")


def test_the_service_refuses_another_contracts_user(admin_b, taro):
    with pytest.raises(UserNotFound):
        services.user_profile_change(
            contract=admin_b.contract, actor=admin_b, user=taro, nickname="hijacked"
        )
    taro.refresh_from_db()
    assert taro.nickname == "taro-a@example.jp"


# --- Password ---------------------------------------------------------------------------


def test_the_password_change_keeps_this_session_and_device_and_ends_the_others(chrome, taro):
    firefox = signed_in_user(taro, FIREFOX)

    response = chrome.post(PASSWORD_CHANGE, password_form())

    assert response.url == HOME
    assert chrome.get(HOME).status_code == 200  # still signed in, device check passed
    assert firefox.get(HOME).url.startswith(LOGIN)  # the other browser is signed out
    taro.refresh_from_db()
    assert taro.check_password(NEW_PASSWORD)
    # Both devices stay registered: the new password alone signs them in again.
    chrome.post(reverse("accounts:logout"))
    assert sign_in(chrome, "taro-a", NEW_PASSWORD).url == HOME
    assert sign_in(firefox, "taro-a", NEW_PASSWORD).url == HOME
    assert AuditEntry.objects.filter(action="password_changed", target="taro-a").exists()


def test_the_current_password_must_be_right(chrome, taro):
    response = chrome.post(PASSWORD_CHANGE, password_form(current="Wrong7pass"))
    assert "現在のパスワードが正しくありません。" in response.text
    taro.refresh_from_db()
    assert taro.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("Short1", None, "8"),
        ("Taro-a1234x", None, "ログインID"),
        ("Zr8wKq3Xv6", "Zr8wKq3Xv7", "パスワードが一致しません。"),
    ],
)
def test_the_new_password_obeys_the_same_rules(chrome, taro, new, confirm, message):
    response = chrome.post(PASSWORD_CHANGE, password_form(new=new, confirm=confirm))
    assert response.status_code == 200
    assert message in response.text
    taro.refresh_from_db()
    assert taro.check_password(PASSWORD)


def test_no_password_reaches_the_page_or_the_audit_log(chrome, taro):
    response = chrome.post(PASSWORD_CHANGE, password_form(confirm="Zr8wKq3Xv7"))
    assert NEW_PASSWORD not in response.text and PASSWORD not in response.text
    chrome.post(PASSWORD_CHANGE, password_form())
    dump = repr(list(AuditEntry.objects.values()))
    assert NEW_PASSWORD not in dump and PASSWORD not in dump


def test_a_new_device_after_a_password_change_still_needs_its_key(chrome, taro):
    chrome.post(PASSWORD_CHANGE, password_form())
    other = browser(FIREFOX)
    assert sign_in(other, "taro-a", NEW_PASSWORD).url == KEY_STEP
    assert "登録できる端末認証キーがありません" in other.get(KEY_STEP).text
    assert enter_key(other, "Abcd1234").status_code == 200

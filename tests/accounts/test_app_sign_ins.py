"""アプリのログイン in the console (per login ID) and on the user's own pages, and
全端末からサインアウト: every browser session and app sign-in of a login ID ends at
once, audited and mailed; the registered device stays registered."""

import pytest
from django.urls import reverse

from accounts import services as accounts
from api.models import AppRegistration
from api.registrations import app_registration_create
from audit.actions import Action
from audit.models import AuditEntry
from tests.conftest import PASSWORD, login_verified
from tests.devicekeys.browser import HOME, sign_in, signed_in_user

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"


def _app(user, name):
    registration, _tokens = app_registration_create(
        contract=user.contract, user=user, client="tool", device_name=name
    )
    return registration


@pytest.fixture
def apps(users_a, users_b):
    taro, hana = users_a
    return {
        "taro": _app(taro, "taro-tool"),
        "hana": _app(hana, "hana-tool"),
        "jiro": _app(users_b[0], "jiro-tool"),
    }


def test_the_administrator_sees_only_that_login_ids_apps(admin_client_a, users_a, apps):
    page = admin_client_a.get(reverse("accounts:user-apps", args=[users_a[0].pk])).text
    assert "taro-tool" in page and "専用ツール" in page and "利用中" in page
    assert "hana-tool" not in page and "jiro-tool" not in page
    assert "すべて終了" in page


def test_the_administrator_ends_one_after_confirming_and_the_user_is_mailed(
    admin_client_a, users_a, apps, mailoutbox, django_capture_on_commit_callbacks
):
    taro = users_a[0]
    url = reverse("accounts:user-app-end", args=[taro.pk, apps["taro"].pk])
    confirm = admin_client_a.get(url).text
    assert "taro-tool" in confirm and "メールで通知" in confirm
    assert AppRegistration.objects.get(pk=apps["taro"].pk).state == "active"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_a.post(url, follow=True)
    assert "アプリのログインを1件終了しました" in response.text
    assert "管理者による終了" in response.text
    assert "すべて終了" not in response.text  # nothing left to end
    assert AppRegistration.objects.get(pk=apps["taro"].pk).reason == "by_administrator"
    assert [mail.to for mail in mailoutbox] == [["taro-a@example.jp"]]
    assert AuditEntry.objects.filter(action=Action.APP_SIGN_IN_ENDED).count() == 1


def test_another_login_ids_app_is_404_under_this_login_id(admin_client_a, users_a, apps):
    url = reverse("accounts:user-app-end", args=[users_a[0].pk, apps["hana"].pk])
    assert admin_client_a.post(url).status_code == 404
    assert AppRegistration.objects.get(pk=apps["hana"].pk).state == "active"


def test_the_user_sees_and_ends_their_own_only(users_a, apps, mailoutbox):
    taro = users_a[0]
    browser = signed_in_user(taro)
    page = browser.get(reverse("accounts:own-apps")).text
    assert "taro-tool" in page and "hana-tool" not in page and "jiro-tool" not in page
    others = [apps["hana"], apps["jiro"]]
    for other in others:
        url = reverse("accounts:own-app-end", args=[other.pk])
        assert browser.get(url).status_code == 404
        assert browser.post(url).status_code == 404
    assert {row.state for row in AppRegistration.objects.filter(pk__in=[o.pk for o in others])} == {
        "active"
    }
    browser.post(reverse("accounts:own-apps-end"))
    assert AppRegistration.objects.get(pk=apps["taro"].pk).reason == "by_user"
    assert mailoutbox == []  # the user did it


def test_sign_out_everywhere_ends_every_session_and_app_but_keeps_the_device(
    admin_client_a,
    users_a,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    taro = users_a[0]
    chrome = signed_in_user(taro)  # registered its key, signed in
    firefox = signed_in_user(taro, FIREFOX)
    app = _app(taro, "taro-everywhere")
    hana_browser = signed_in_user(users_a[1])
    assert chrome.get(HOME).status_code == 200 and firefox.get(HOME).status_code == 200

    url = reverse("accounts:user-sign-out", args=[taro.pk])
    assert "登録済みの端末認証キーはそのまま" in admin_client_a.get(url).text
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_a.post(url, follow=True)
    assert "全端末からサインアウトしました" in response.text

    for browser in (chrome, firefox):
        assert browser.get(HOME).status_code == 302  # back to the sign-in page
    assert hana_browser.get(HOME).status_code == 200  # another login ID untouched
    app.refresh_from_db()
    assert (app.state, app.reason) == ("ended", "signed_out_everywhere")
    [mail] = mailoutbox
    assert mail.to == ["taro-a@example.jp"] and "全端末からサインアウト" in mail.subject
    assert AuditEntry.objects.filter(action=Action.SIGNED_OUT_EVERYWHERE, target="taro-a").exists()
    # The registered browser signs in again with the password alone: no new key.
    assert sign_in(chrome, "taro-a").url == HOME


def test_the_sign_out_confirmation_names_the_open_app_sign_ins_and_changes_nothing(
    admin_client_a, users_a, mailoutbox
):
    taro = users_a[0]
    chrome = signed_in_user(taro)
    app = _app(taro, "taro-everywhere")
    ended = _app(taro, "taro-old-tool")
    accounts_end = reverse("accounts:user-app-end", args=[taro.pk, ended.pk])
    admin_client_a.post(accounts_end)
    mailoutbox.clear()

    page = admin_client_a.get(reverse("accounts:user-sign-out", args=[taro.pk])).text

    assert "ログインID「taro-a」のすべてのブラウザでのログインと" in page
    assert "終了するアプリのログイン（1件）:" in page
    assert "taro-everywhere（専用ツール）" in page and "taro-old-tool" not in page
    assert chrome.get(HOME).status_code == 200
    app.refresh_from_db()
    assert app.state == "active"
    assert not AuditEntry.objects.filter(action=Action.SIGNED_OUT_EVERYWHERE).exists()
    assert mailoutbox == []


def test_a_session_survives_until_the_first_sign_out_everywhere(users_a, admin_a):
    """At generation 0 the hash is Django's own: the migration ended no session."""
    taro = users_a[0]
    from django.contrib.auth.base_user import AbstractBaseUser

    assert taro.get_session_auth_hash() == AbstractBaseUser._get_session_auth_hash(taro)
    accounts.user_sign_out_everywhere(contract=admin_a.contract, actor=admin_a, user=taro)
    taro.refresh_from_db()
    assert taro.get_session_auth_hash() != AbstractBaseUser._get_session_auth_hash(taro)


def test_support_signs_a_login_id_out_everywhere_through_the_same_service(
    client, support_staff, users_a, mailoutbox, django_capture_on_commit_callbacks
):
    taro = users_a[0]
    browser = signed_in_user(taro)
    login_verified(client, support_staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "sign_out_everywhere", "_selected_action": [taro.pk]},
        )
    assert browser.get(HOME).status_code == 302
    entry = AuditEntry.objects.get(action=Action.SIGNED_OUT_EVERYWHERE)
    assert entry.actor_role == "support"
    assert len(mailoutbox) == 1
    assert PASSWORD not in mailoutbox[0].body

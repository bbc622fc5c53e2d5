"""環境設定 of the administrator: パスワード変更 (the current password checked and
throttled like a sign-in, other sessions end, a mail), メールアドレス変更 (a link to the
new address valid 24 hours and once, a notice to the old one, the address changes
only when the link is followed) and the way to the 通知 of アクセス設定, its one place."""

import re
from datetime import timedelta

import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.actions import Action
from audit.models import AuditEntry
from devicekeys.selectors import access_setting_get
from tests.conftest import PASSWORD
from tests.devicekeys.browser import sign_in
from tests.mail import link_in

SETTINGS = reverse("accounts:settings")
PASSWORD_PAGE = reverse("accounts:settings-password")
EMAIL_PAGE = reverse("accounts:settings-email")
CONSOLE = reverse("accounts:console")
NEW_PASSWORD = "Wk4pZr8Tn3"


def signed_in(login_id="admin-a") -> Client:
    browser = Client()
    assert sign_in(browser, login_id).url == CONSOLE
    return browser


def change_password(browser, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return browser.post(
        PASSWORD_PAGE,
        {"current_password": current, "password": new, "password_confirm": confirm or new},
    )


def test_the_menu_item_is_live_and_the_page_lists_every_setting(admin_a):
    browser = signed_in()
    console = browser.get(CONSOLE).text
    assert re.search(rf'<a [^>]*href="{SETTINGS}"[^>]*>\s*環境設定', console)
    page = browser.get(SETTINGS).text
    for heading in ("パスワード変更", "メールアドレス変更", "二段階認証", "通知"):
        assert heading in page
    assert admin_a.email in page


# --- パスワード変更 ------------------------------------------------------------------------


def test_a_password_change_keeps_this_session_ends_the_others_and_mails(
    admin_a, mailoutbox, django_capture_on_commit_callbacks
):
    here, elsewhere = signed_in(), signed_in()
    with django_capture_on_commit_callbacks(execute=True):
        response = change_password(here)
    assert response.url == SETTINGS
    assert "ほかの端末やブラウザでのログインは終了しました" in here.get(SETTINGS).text
    assert here.get(CONSOLE).status_code == 200
    assert elsewhere.get(CONSOLE).url.startswith(reverse("accounts:login"))
    admin_a.refresh_from_db()
    assert admin_a.check_password(NEW_PASSWORD)
    [mail] = mailoutbox
    assert mail.to == [admin_a.email] and "パスワード" in mail.subject
    assert NEW_PASSWORD not in mail.body and PASSWORD not in mail.body
    entry = AuditEntry.objects.get(action=Action.ADMIN_PASSWORD_CHANGED)
    assert entry.target == "admin-a" and NEW_PASSWORD not in repr(entry.changes)


def test_a_wrong_current_password_changes_nothing(admin_a, mailoutbox):
    browser = signed_in()
    response = change_password(browser, current="NotMine123")
    assert response.status_code == 200
    assert "現在のパスワードが正しくありません。" in response.text
    admin_a.refresh_from_db()
    assert admin_a.check_password(PASSWORD) and mailoutbox == []


def test_the_new_password_obeys_every_rule_and_is_typed_twice(admin_a):
    browser = signed_in()
    short = change_password(browser, new="Ab1")
    assert re.search(r'id="id_password_error"><li>[^<]*8文字以上', short.text)
    login_id = change_password(browser, new="admin-a1X")
    assert 'id="id_password_error"' in login_id.text
    mismatch = change_password(browser, confirm=NEW_PASSWORD + "x")
    assert "パスワードが一致しません。" in mismatch.text
    admin_a.refresh_from_db()
    assert admin_a.check_password(PASSWORD)


def test_guessing_the_current_password_is_throttled_like_a_sign_in(admin_a):
    browser = signed_in()
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = change_password(browser, current=f"Guess{n}x7Q")
    assert response.status_code == 429
    assert change_password(browser).status_code == 429  # the right one is not told apart
    admin_a.refresh_from_db()
    assert admin_a.check_password(PASSWORD)
    assert sign_in(Client(), "admin-a").status_code == 429


def test_a_hundred_thousand_characters_are_refused_without_hashing(admin_a):
    browser = signed_in()
    response = change_password(browser, current="x" * 100_000, new="y" * 100_000)
    assert response.status_code == 200
    admin_a.refresh_from_db()
    assert admin_a.check_password(PASSWORD)


# --- メールアドレス変更 --------------------------------------------------------------------


def ask_for(browser, email, *, confirm=None, capture):
    with capture(execute=True):
        return browser.post(EMAIL_PAGE, {"email": email, "email_confirm": confirm or email})


def test_the_address_changes_only_when_the_link_sent_to_it_is_followed(
    admin_a, mailoutbox, django_capture_on_commit_callbacks
):
    old = admin_a.email
    browser = signed_in()
    response = ask_for(browser, "new-admin@example.jp", capture=django_capture_on_commit_callbacks)
    assert response.url == SETTINGS
    admin_a.refresh_from_db()
    assert admin_a.email == old  # not yet
    confirm = next(m for m in mailoutbox if m.to == ["new-admin@example.jp"])
    notice = next(m for m in mailoutbox if m.to == [old])
    assert "24時間" in confirm.body and "new-admin@example.jp" in notice.body
    link = link_in(confirm)
    assert link not in notice.body
    page = browser.get(link)  # opening the link (a mail scanner too) changes nothing
    assert page.status_code == 200 and "new-admin@example.jp" in page.text
    admin_a.refresh_from_db()
    assert admin_a.email == old
    assert browser.post(link).url == SETTINGS
    admin_a.refresh_from_db()
    assert admin_a.email == "new-admin@example.jp"
    assert list(AuditEntry.objects.filter(target="admin-a").values_list("action", flat=True))[
        -2:
    ] == [Action.EMAIL_CHANGE_REQUESTED, Action.EMAIL_CHANGED]
    # Single use: the address is no longer the one the link was asked from.
    again = browser.post(link)
    assert again.status_code == 400 and "このリンクは無効です" in again.text


def link_to(mailoutbox, email) -> str:
    return link_in([m for m in mailoutbox if m.to == [email]][-1])


def test_a_used_link_stays_void_when_the_address_comes_back(
    admin_a, mailoutbox, django_capture_on_commit_callbacks
):
    """A→B→A: the address is again the one the first link was asked from, and the link
    still refuses."""
    first_address = admin_a.email
    browser = signed_in()
    ask_for(browser, "b@example.jp", capture=django_capture_on_commit_callbacks)
    to_b = link_to(mailoutbox, "b@example.jp")
    assert browser.post(to_b).url == SETTINGS  # A→B
    ask_for(browser, first_address, capture=django_capture_on_commit_callbacks)
    assert browser.post(link_to(mailoutbox, first_address)).url == SETTINGS  # B→A
    admin_a.refresh_from_db()
    assert admin_a.email == first_address

    for method in (browser.get, browser.post):
        again = method(to_b)
        assert again.status_code == 400 and "このリンクは無効です" in again.text
    admin_a.refresh_from_db()
    assert admin_a.email == first_address


def test_following_one_link_voids_every_other_link_sent_before(
    admin_a, mailoutbox, django_capture_on_commit_callbacks
):
    """Two links outstanding (B asked, then C): either may be followed; once one is,
    the other no longer works."""
    browser = signed_in()
    ask_for(browser, "b@example.jp", capture=django_capture_on_commit_callbacks)
    ask_for(browser, "c@example.jp", capture=django_capture_on_commit_callbacks)
    to_b, to_c = link_to(mailoutbox, "b@example.jp"), link_to(mailoutbox, "c@example.jp")
    assert browser.get(to_b).status_code == 200 and browser.get(to_c).status_code == 200

    assert browser.post(to_b).url == SETTINGS
    refused = browser.post(to_c)
    assert refused.status_code == 400 and "このリンクは無効です" in refused.text
    admin_a.refresh_from_db()
    assert admin_a.email == "b@example.jp"


def test_the_link_expires_after_24_hours(admin_a, mailoutbox, django_capture_on_commit_callbacks):
    browser = signed_in()
    ask_for(browser, "new-admin@example.jp", capture=django_capture_on_commit_callbacks)
    link = link_in(next(m for m in mailoutbox if m.to == ["new-admin@example.jp"]))
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        browser = signed_in()
        expired = browser.post(link)
    assert expired.status_code == 400 and "有効期限" in expired.text
    admin_a.refresh_from_db()
    assert admin_a.email != "new-admin@example.jp"


def test_another_administrators_link_is_not_found(
    admin_a, admin_b, mailoutbox, django_capture_on_commit_callbacks
):
    ask_for(signed_in("admin-b"), "b-new@example.jp", capture=django_capture_on_commit_callbacks)
    link = link_in(next(m for m in mailoutbox if m.to == ["b-new@example.jp"]))
    browser = signed_in("admin-a")
    assert browser.get(link).status_code == 404
    assert browser.post(link).status_code == 404
    admin_a.refresh_from_db()
    admin_b.refresh_from_db()
    assert "b-new@example.jp" not in (admin_a.email, admin_b.email)


def test_a_forged_or_broken_link_is_refused(admin_a):
    browser = signed_in()
    for token in ("nonsense", "x" * 5000):
        response = browser.post(reverse("accounts:settings-email-confirm", args=[token]))
        assert response.status_code == 400


def test_bad_addresses_are_told_next_to_the_field(
    admin_a, mailoutbox, django_capture_on_commit_callbacks
):
    browser = signed_in()
    capture = django_capture_on_commit_callbacks
    mismatch = ask_for(browser, "a@example.jp", confirm="b@example.jp", capture=capture)
    assert "メールアドレスが一致しません。" in mismatch.text
    same = ask_for(browser, admin_a.email.upper(), capture=capture)
    assert "現在と同じメールアドレスです。" in same.text
    broken = ask_for(browser, "not an address", capture=capture)
    assert broken.status_code == 200 and "有効なメールアドレス" in broken.text
    huge = ask_for(browser, "a" * 100_000 + "@example.jp", capture=capture)
    assert huge.status_code == 200
    assert (
        mailoutbox == []
        and not AuditEntry.objects.filter(action=Action.EMAIL_CHANGE_REQUESTED).exists()
    )


# --- 通知 -----------------------------------------------------------------------------------


ACCESS = reverse("devicekeys:access-settings")
OLD_NOTIFICATIONS = reverse("accounts:settings-notifications")


def test_the_notification_has_one_place_and_settings_shows_it_and_leads_there(admin_a):
    browser = signed_in()
    page = browser.get(SETTINGS).text
    assert 'name="notify_on_register"' not in page  # no second form for the same setting
    assert f'href="{ACCESS}#notification"' in page
    assert re.search(r"メール通知: .*オフ", page)

    browser.post(ACCESS, {"device_auth_required": "on", "notify_on_register": "on"})

    assert access_setting_get(contract=admin_a.contract).notify_on_register is True
    assert re.search(r"メール通知: .*オン", browser.get(SETTINGS).text)
    assert 'id="notification"' in browser.get(ACCESS).text


def test_the_old_address_of_the_notification_leads_to_access_settings_and_saves_nothing(
    admin_a,
):
    browser = signed_in()
    assert browser.get(OLD_NOTIFICATIONS).url == f"{ACCESS}#notification"

    sent = browser.post(OLD_NOTIFICATIONS, {"notify_on_register": "on"}, follow=True)

    assert sent.redirect_chain[-1][0] == f"{ACCESS}#notification"
    assert "通知の設定はアクセス設定に移りました。もう一度保存してください。" in sent.text
    assert access_setting_get(contract=admin_a.contract).notify_on_register is False
    assert Client().get(OLD_NOTIFICATIONS).url.startswith(reverse("accounts:login"))

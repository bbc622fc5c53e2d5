"""パスワードをお忘れの方: the same answer whether the login ID exists or not; a link
valid one hour and once, to the account's own address; throttled per login ID and
address; every rule for the new password; every session ends; a user ID still passes
the device step; each request and reset in ログ管理."""

import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.throttling import RESETS_PER_ADDRESS, RESETS_PER_LOGIN_ID
from audit.actions import Action
from audit.models import AuditEntry
from devicekeys.services import device_key_issue
from notifications import kinds
from notifications.models import Notification
from tests.conftest import PASSWORD, SETUP
from tests.devicekeys.browser import HOME, KEY_STEP, enter_key, sign_in, signed_in_user
from tests.mail import link_in

FORGOT = reverse("accounts:password-reset")
LOGIN = reverse("accounts:login")
CONSOLE = reverse("accounts:console")
NEW_PASSWORD = "Hq6mRt2Wx9"


@pytest.fixture
def ask(db, mailoutbox, django_capture_on_commit_callbacks):
    """Ask for a reset of `login_id` from `address`; returns the page."""

    def ask(login_id, address="198.51.100.7"):
        with django_capture_on_commit_callbacks(execute=True):
            return Client(REMOTE_ADDR=address).post(FORGOT, {"login_id": login_id})

    return ask


def set_password(link, new=NEW_PASSWORD, confirm=None):
    """Follow the link and set a new password, as a browser does (Django moves the token
    into the session and redirects first)."""
    browser = Client()
    form = browser.get(link, follow=True)
    response = browser.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"new_password1": new, "new_password2": confirm or new},
    )
    return form, response


def visible(page) -> str:
    """The page as read, without the tokens that differ on every response."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page.text)


def test_the_sign_in_page_offers_it(db):
    assert f'href="{FORGOT}"' in Client().get(LOGIN).text
    assert "パスワードをお忘れの方" in Client().get(LOGIN).text


def test_the_answer_is_the_same_whether_or_not_the_login_id_exists(ask, admin_a, mailoutbox):
    known, unknown = ask("admin-a"), ask("nobody-here")
    assert known.status_code == unknown.status_code == 200
    assert visible(known) == visible(unknown)
    assert "メールを送りました" in known.text or "お送りしました" in known.text
    assert [mail.to for mail in mailoutbox] == [[admin_a.email]]


def test_the_mail_goes_to_the_accounts_own_address_only(ask, users_a, mailoutbox):
    ask("taro-a")
    [mail] = mailoutbox
    assert mail.to == [users_a[0].email]
    assert "1時間" in mail.body or "60分" in mail.body
    assert "taro-a" in mail.body


def test_the_link_sets_a_new_password_once_and_every_session_ends(ask, admin_a, mailoutbox):
    before = Client()
    sign_in(before, "admin-a")
    ask("admin-a")
    link = link_in(mailoutbox[0])
    form, done = set_password(link)
    assert "新しいパスワード" in form.text
    assert done.url == LOGIN
    admin_a.refresh_from_db()
    assert admin_a.check_password(NEW_PASSWORD)
    assert before.get(CONSOLE).url.startswith(LOGIN)
    assert sign_in(Client(), "admin-a", NEW_PASSWORD).url == CONSOLE
    used_form, _response = set_password(link, new="Pz3kLw8Qr5")
    assert "このリンクは無効" in used_form.text
    admin_a.refresh_from_db()
    assert admin_a.check_password(NEW_PASSWORD)
    reset = [Action.PASSWORD_RESET_REQUESTED, Action.PASSWORD_RESET]
    recorded = AuditEntry.objects.filter(target="admin-a", action__in=reset).order_by("pk")
    assert [entry.action for entry in recorded] == reset
    assert recorded[1].actor_login_id == "admin-a"
    assert NEW_PASSWORD not in repr(list(AuditEntry.objects.values()))
    told = Notification.objects.filter(kind=kinds.PASSWORD_CHANGED, login_id="admin-a")
    assert told.count() == 1  # the change is mailed, like any password change


def test_the_link_expires_after_an_hour(ask, admin_a, mailoutbox):
    ask("admin-a")
    link = link_in(mailoutbox[0])
    # As a float: Django's token clock is the naive local time, which time-machine keeps
    # only for a timestamp.
    with time_machine.travel(time.time() + 3660):
        form, _response = set_password(link)
    assert "このリンクは無効" in form.text
    admin_a.refresh_from_db()
    assert admin_a.check_password(PASSWORD)


def test_the_new_password_obeys_every_rule(ask, admin_a, mailoutbox):
    ask("admin-a")
    link = link_in(mailoutbox[0])
    _form, short = set_password(link, new="Ab1")
    assert short.status_code == 200
    assert re.search(r'id="id_new_password1_error"><li>[^<]*8文字以上', short.text)
    _form, mismatch = set_password(link, confirm=NEW_PASSWORD + "x")
    assert "パスワードが一致しません。" in mismatch.text
    _form, login_id = set_password(link, new="admin-a99X")
    assert 'id="id_new_password1_error"' in login_id.text
    _form, huge = set_password(link, new="Q1" * 50_000)
    assert huge.status_code == 200
    admin_a.refresh_from_db()
    assert admin_a.check_password(PASSWORD)


def test_a_user_id_still_passes_the_device_step_after_a_reset(ask, users_a, mailoutbox):
    taro = users_a[0]
    home = signed_in_user(taro)
    ask("taro-a")
    set_password(link_in(mailoutbox[0]))
    assert home.get(HOME).url.startswith(LOGIN)  # the old session ended
    browser = Client()
    assert sign_in(browser, "taro-a", NEW_PASSWORD).url == KEY_STEP
    assert browser.get(HOME).status_code == 302  # no way round the key step
    key = device_key_issue(contract=taro.contract, user=taro, actor=SETUP)
    assert enter_key(browser, key.key).url == HOME


def test_requests_are_throttled_per_login_id_and_per_address(ask, admin_a, users_a, mailoutbox):
    for _ in range(RESETS_PER_LOGIN_ID + 2):
        page = ask("admin-a", address=f"203.0.113.{_}")
    assert page.status_code == 200  # the same answer, without the mail
    assert len(mailoutbox) == RESETS_PER_LOGIN_ID
    mailoutbox.clear()
    for n in range(RESETS_PER_ADDRESS):
        ask(f"someone-{n}", address="192.0.2.50")
    assert ask("taro-a", address="192.0.2.50").status_code == 200
    assert mailoutbox == []
    ask("taro-a", address="192.0.2.51")
    assert len(mailoutbox) == 1
    refused = AuditEntry.objects.filter(action=Action.PASSWORD_RESET_REQUESTED, target="admin-a")
    sent = [entry.changes["sent"][1] for entry in refused.order_by("pk")]
    assert sent == ["True"] * RESETS_PER_LOGIN_ID + ["False"] * 2
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        mailoutbox.clear()
        ask("admin-a")
        assert len(mailoutbox) == 1


def test_support_staff_and_stopped_accounts_get_no_mail(ask, support_staff, users_a, mailoutbox):
    users_a[1].is_active = False
    users_a[1].save()
    ask("support-1")
    ask("hana-a")
    assert mailoutbox == []


def test_a_login_id_of_any_length_costs_the_same(ask, db, mailoutbox):
    response = ask("x" * 100_000)
    assert response.status_code == 200
    assert "この値は 60 文字以下でなければなりません( 100000 文字になっています)" in response.text
    assert mailoutbox == []


def test_a_forged_link_is_refused(admin_a):
    form, _response = set_password("/login/reset/MQ/abc-def/")
    assert "このリンクは無効" in form.text
    admin_a.refresh_from_db()
    assert admin_a.check_password(PASSWORD)

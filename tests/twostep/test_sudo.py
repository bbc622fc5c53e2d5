"""Fresh proof for sensitive changes (sudo mode, twostep.guards.sudo_required): a new
mail address, removing the authenticator app or a passkey and new recovery codes ask
again for the password (or the second factor) once the session's last proof (the
sign-in, the second step, 本人確認) is older than SUDO_MAX_AGE; the re-confirmation
page counts a wrong password as a failed sign-in and returns only to this site."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import SignInFailures
from audit.actions import Action
from audit.models import AuditEntry
from tests.conftest import PASSWORD
from tests.devicekeys.browser import sign_in
from tests.twostep.test_sessions import passkey_of, password_only
from tests.twostep.test_twostep import CONSOLE, SETUP, VERIFY, code_of, enrol_app

CONFIRM = reverse("twostep:confirm")
EMAIL_PAGE = reverse("accounts:settings-email")
STALE = settings.SUDO_MAX_AGE + timedelta(minutes=1)  # still within the idle timeout
NOT_DONE = "本人確認のため、操作は行われませんでした。"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


def email_requests() -> int:
    return AuditEntry.objects.filter(action=Action.EMAIL_CHANGE_REQUESTED).count()


def confirm_with_password(browser, next_url, password=PASSWORD):
    return browser.post(CONFIRM, {"current_password": password, "next": next_url})


def test_a_new_mail_address_asks_again_after_ten_minutes(admin_a, clock):
    browser = password_only()
    clock.shift(STALE)
    page = browser.get(EMAIL_PAGE)
    assert page.url == f"{CONFIRM}?next={EMAIL_PAGE}"
    refused = browser.post(
        EMAIL_PAGE, {"email": "new@example.jp", "email_confirm": "new@example.jp"}
    )
    assert refused.url == f"{CONFIRM}?next={EMAIL_PAGE}"
    assert email_requests() == 0
    form = browser.get(refused.url)
    assert "本人確認" in form.text and NOT_DONE in form.text
    assert confirm_with_password(browser, EMAIL_PAGE).url == EMAIL_PAGE
    assert browser.get(EMAIL_PAGE).status_code == 200
    done = browser.post(EMAIL_PAGE, {"email": "new@example.jp", "email_confirm": "new@example.jp"})
    assert done.url == reverse("accounts:settings")
    assert email_requests() == 1


def test_the_proof_lasts_sudo_max_age(admin_a, clock, settings):
    settings.SUDO_MAX_AGE = timedelta(minutes=2)
    browser = password_only()
    clock.shift(timedelta(minutes=1))
    assert browser.get(EMAIL_PAGE).status_code == 200
    clock.shift(timedelta(minutes=2))
    assert browser.get(EMAIL_PAGE).url.startswith(CONFIRM)


@pytest.fixture
def with_factors(admin_a):
    """An administrator with an app, a passkey and recovery codes, and a browser past
    the second step (with the app's code)."""
    device, codes = enrol_app(password_only())
    passkey = passkey_of(admin_a)
    browser = Client()
    sign_in(browser, "admin-a")
    assert browser.post(VERIFY, {"code": code_of(device, later=30), "next": CONSOLE}).url == CONSOLE
    return browser, device, passkey, codes


def removals(passkey):
    return [
        (reverse("twostep:app-remove"), lambda: not TOTPDevice.objects.exists()),
        (
            reverse("twostep:passkey-delete", args=[passkey.pk]),
            lambda: not WebAuthnCredential.objects.exists(),
        ),
        (reverse("twostep:recovery-codes"), lambda: StaticToken.objects.count() == 10),
    ]


@pytest.mark.parametrize(
    "action", [0, 1, 2], ids=["app-remove", "passkey-delete", "recovery-codes"]
)
def test_removing_a_factor_or_renewing_codes_asks_for_the_second_factor_again(
    with_factors, clock, action
):
    browser, device, passkey, codes = with_factors
    url, done = removals(passkey)[action]
    clock.shift(STALE)
    StaticToken.objects.filter(token=codes[1]).delete()  # one used: renewing makes 10 again
    refused = browser.post(url)
    assert refused.url == f"{CONFIRM}?next={SETUP}"
    assert not done()
    page = browser.get(refused.url)
    assert 'name="code"' in page.text and 'name="current_password"' not in page.text
    assert "本人確認" in page.text and NOT_DONE in page.text
    password = browser.post(CONFIRM, {"current_password": PASSWORD, "code": "", "next": SETUP})
    assert password.status_code == 200  # the password alone is not the second factor
    clock.shift(timedelta(seconds=40))
    confirmed = browser.post(CONFIRM, {"code": code_of(device, later=60), "next": SETUP})
    assert confirmed.url == SETUP
    browser.post(url)
    assert done()


def test_a_recovery_code_confirms_too(with_factors, clock):
    browser, _device, _passkey, codes = with_factors
    clock.shift(STALE)
    assert browser.post(CONFIRM, {"code": codes[2], "next": SETUP}).url == SETUP
    assert browser.post(reverse("twostep:app-remove")).url == SETUP
    assert not TOTPDevice.objects.exists()


def test_a_code_during_the_wait_after_a_wrong_one_is_told_to_wait_and_proves_nothing(
    with_factors, clock
):
    browser, device, _passkey, _codes = with_factors
    clock.shift(STALE)
    right = code_of(device, later=60)
    browser.post(CONFIRM, {"code": "000000" if right != "000000" else "111111"})
    refused = browser.post(CONFIRM, {"code": right, "next": SETUP})
    assert refused.status_code == 429
    assert "あと1秒は確認コードを受け付けません" in refused.text
    assert browser.post(reverse("twostep:app-remove")).url.startswith(CONFIRM)
    clock.shift(timedelta(seconds=1))
    assert browser.post(CONFIRM, {"code": right, "next": SETUP}).url == SETUP


def test_a_confirmation_with_a_recovery_code_says_when_few_are_left(with_factors, clock):
    browser, _device, _passkey, codes = with_factors
    StaticToken.objects.filter(token__in=codes[4:]).delete()  # 4 left
    clock.shift(STALE)
    confirmed = browser.post(CONFIRM, {"code": codes[0], "next": SETUP}, follow=True)
    assert "リカバリーコードの残りが3個です。" in confirmed.text


def test_the_second_step_is_a_fresh_proof(admin_a, clock):
    device, _codes = enrol_app(password_only())
    browser = Client()
    sign_in(browser, "admin-a")
    clock.shift(STALE)  # the password is old by the time the code is typed
    browser.post(VERIFY, {"code": code_of(device, later=30), "next": CONSOLE})
    assert browser.post(reverse("twostep:app-remove")).url == SETUP
    assert not TOTPDevice.objects.exists()


def test_a_wrong_password_counts_as_a_failed_sign_in_and_locks_alike(admin_a, clock):
    browser = password_only()
    clock.shift(STALE)
    wrong = confirm_with_password(browser, EMAIL_PAGE, password="Guess1x7Q")
    assert wrong.status_code == 200 and "現在のパスワードが正しくありません。" in wrong.text
    assert SignInFailures.objects.get(user=admin_a).failures == 1
    [wrong] = AuditEntry.objects.filter(action=Action.CURRENT_PASSWORD_WRONG)
    assert (wrong.actor_login_id, wrong.target, wrong.changes) == (
        "admin-a",
        "admin-a",
        {"page": ["", "twostep:confirm"]},
    )
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        locked = confirm_with_password(browser, EMAIL_PAGE, password=f"Guess{n}y7Q")
    assert locked.status_code == 429
    assert "ログインに続けて失敗したため" in locked.text and "本人確認" in locked.text
    assert confirm_with_password(browser, EMAIL_PAGE).status_code == 429  # right, but locked
    assert browser.get(EMAIL_PAGE).url.startswith(CONFIRM)
    assert sign_in(Client(), "admin-a").status_code == 429  # as the sign-in page


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/settings/", "http://testserver.evil/"]
)
def test_the_page_returns_only_to_this_site(admin_a, clock, next_url):
    browser = password_only()
    clock.shift(STALE)
    assert confirm_with_password(browser, next_url).url == CONSOLE
    assert browser.get(EMAIL_PAGE).status_code == 200  # the proof was taken all the same


def test_support_staff_confirm_with_their_second_factor(support_staff, clock):
    browser = Client()
    sign_in(browser, "support-1")
    device = TOTPDevice.objects.get(user=support_staff)
    browser.post(VERIFY, {"code": code_of(device, later=30)})
    clock.shift(STALE)
    assert browser.post(reverse("twostep:app-remove")).url == f"{CONFIRM}?next={SETUP}"
    assert 'name="code"' in browser.get(CONFIRM).text


def test_anonymous_visitors_go_to_the_sign_in_page(db):
    assert Client().get(CONFIRM).url.startswith(reverse("accounts:login"))

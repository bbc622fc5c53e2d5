"""二段階認証: enrolment of an authenticator app with its first code, recovery codes
shown once and used once, the second step of the sign-in (throttled, 戻る), the
setting that makes it mandatory, support staff who always need it, support's reset,
and every event in ログ管理."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.actions import Action
from audit.models import AuditEntry
from tests.conftest import login_verified
from tests.devicekeys.browser import sign_in
from twostep import services

CONSOLE = reverse("accounts:console")
SETUP = reverse("twostep:setup")
APP = reverse("twostep:app")
VERIFY = reverse("twostep:verify")
ADMIN = reverse("admin:index")


def code_of(device: TOTPDevice, *, later: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += later
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    """A code the app refuses now, by no chance right: django-otp takes the codes of the
    steps next to the clock's too, so none of the five around it is chosen."""
    near = {code_of(device, later=device.step * n) for n in range(-2, 3)}
    return next(digit * device.digits for digit in "012345" if digit * device.digits not in near)


def actions(login_id) -> list[str]:
    return list(
        AuditEntry.objects.filter(target=login_id).order_by("pk").values_list("action", flat=True)
    )


def enrol_app(client) -> tuple[TOTPDevice, list[str]]:
    """The administrator's browser enrols an authenticator app; returns it and the
    recovery codes shown."""
    client.post(APP, {"start": "1"})
    device = TOTPDevice.objects.get(confirmed=False)
    page = client.get(APP).text
    assert "<svg" in page  # the QR code, drawn on the server
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1)
    assert secret.replace(" ", "") in device.config_url
    response = client.post(APP, {"code": code_of(device)})
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.text)
    device.refresh_from_db()
    return device, codes


@pytest.fixture
def admin_browser(admin_a):
    browser = Client()
    assert sign_in(browser, "admin-a").url == CONSOLE
    return browser


def test_an_app_is_enrolled_with_its_first_code_and_ten_recovery_codes_shown_once(
    admin_browser, admin_a
):
    admin_browser.post(APP, {"start": "1"})
    pending = TOTPDevice.objects.get(user=admin_a)
    wrong = admin_browser.post(APP, {"code": wrong_code(pending)})
    assert "確認コードが正しくありません" in wrong.text
    assert not TOTPDevice.objects.get(pk=pending.pk).confirmed
    device, codes = enrol_app(admin_browser)
    assert device.confirmed
    assert len(codes) == services.RECOVERY_CODES == len(set(codes))
    assert "二度と表示されません" not in admin_browser.get(SETUP).text
    assert "残り10個" in admin_browser.get(SETUP).text
    assert actions("admin-a")[-3:] == [
        Action.TWO_STEP_FAILED,
        Action.TWO_STEP_ENROLLED,
        Action.RECOVERY_CODES_RENEWED,
    ]
    assert not any(code in repr(list(AuditEntry.objects.values())) for code in codes)


def test_the_next_sign_in_asks_for_the_second_step(admin_browser, admin_a, time_machine):
    time_machine.move_to(timezone.now())
    device, _codes = enrol_app(admin_browser)
    browser = Client()
    response = sign_in(browser, "admin-a")
    assert response.url == CONSOLE
    stopped = browser.get(CONSOLE)
    assert stopped.status_code == 302 and stopped.url.startswith(VERIFY)
    assert browser.get(reverse("accounts:user-list")).url.startswith(VERIFY)
    assert "menu-list" not in browser.get(VERIFY).text  # no menu before the step
    wrong = browser.post(VERIFY, {"code": "12345", "next": CONSOLE})
    assert "確認コードが正しくありません" in wrong.text
    time_machine.shift(2)  # past django-otp's wait after a wrong code
    passed = browser.post(VERIFY, {"code": code_of(device, later=30), "next": CONSOLE})
    assert passed.url == CONSOLE
    assert browser.get(CONSOLE).status_code == 200
    assert Action.TWO_STEP_PASSED in actions("admin-a")


WAIT = "確認コードを続けて間違えたため、あと%sは確認コードを受け付けません"


@pytest.fixture
def at_the_second_step(admin_browser, admin_a, time_machine):
    """The administrator's app enrolled, and another browser at the second step, the
    clock standing still until a test moves it."""
    # 5 s into a 30 s step of the app, so that a shift of a few seconds keeps its code.
    time_machine.move_to(timezone.now().replace(second=5, microsecond=0), tick=False)
    device, _codes = enrol_app(admin_browser)
    browser = Client()
    sign_in(browser, "admin-a")
    return device, browser


def test_the_right_code_during_the_wait_after_a_wrong_one_is_told_to_wait_not_wrong(
    at_the_second_step, time_machine
):
    device, browser = at_the_second_step
    wrong = browser.post(VERIFY, {"code": wrong_code(device)})
    assert wrong.status_code == 200 and "確認コードが正しくありません" in wrong.text

    right = code_of(device, later=30)  # the app's next code (the first went to enrolment)
    refused = browser.post(VERIFY, {"code": right})  # right, but within 1 s

    assert refused.status_code == 429
    assert WAIT % "1秒" in refused.text and "今回入力したコードは確認していません" in refused.text
    assert "確認コードが正しくありません" not in refused.text
    assert browser.get(CONSOLE).status_code == 302
    time_machine.shift(1.5)
    assert browser.post(VERIFY, {"code": right, "next": CONSOLE}).url == CONSOLE


def test_the_wait_doubles_with_each_wrong_code_and_is_said_in_the_viewers_language(
    at_the_second_step, time_machine
):
    device, browser = at_the_second_step
    for wait in (1, 2, 4, 8, 16, 32, 64):  # each wrong code after the previous wait
        browser.post(VERIFY, {"code": wrong_code(device)})
        time_machine.shift(wait)
    browser.post(VERIFY, {"code": wrong_code(device)})  # the 8th: 128 s
    assert WAIT % "3分" in browser.post(VERIFY, {"code": code_of(device)}).text
    browser.cookies["django_language"] = "en"
    refused = browser.post(VERIFY, {"code": code_of(device)})
    assert "no code is accepted for another 3 minutes" in refused.text
    assert refused.status_code == 429
    failed = actions("admin-a").count(Action.TWO_STEP_FAILED)
    assert failed == 10  # 8 wrong, 2 refused unchecked: each attempt is in ログ管理


def test_the_apps_code_already_used_is_called_used_not_wrong(at_the_second_step, time_machine):
    device, browser = at_the_second_step
    used = browser.post(VERIFY, {"code": code_of(device)})  # the code enrolment took
    assert "この確認コードはすでに使われました。" in used.text
    assert "確認コードが正しくありません" not in used.text
    browser.cookies["django_language"] = "en"
    time_machine.shift(1.5)
    assert "This code has already been used" in browser.post(VERIFY, {"code": code_of(device)}).text
    time_machine.shift(30)  # the app shows its next code
    assert browser.post(VERIFY, {"code": code_of(device), "next": CONSOLE}).url == CONSOLE


def test_a_wrong_recovery_code_does_not_make_the_app_wait(admin_browser, admin_a):
    device, codes = enrol_app(admin_browser)
    browser = Client()
    sign_in(browser, "admin-a")
    wrong = browser.post(VERIFY, {"code": "aaaa2222" if "aaaa2222" not in codes else "bbbb3333"})
    assert wrong.status_code == 200 and "確認コードが正しくありません" in wrong.text
    passed = browser.post(VERIFY, {"code": code_of(device, later=30), "next": CONSOLE})
    assert passed.url == CONSOLE


def test_enrolment_says_to_wait_after_a_wrong_first_code(admin_browser, admin_a):
    admin_browser.post(APP, {"start": "1"})
    pending = TOTPDevice.objects.get(user=admin_a)
    admin_browser.post(APP, {"code": wrong_code(pending)})
    refused = admin_browser.post(APP, {"code": code_of(pending)})
    assert refused.status_code == 429 and WAIT % "1秒" in refused.text
    assert not TOTPDevice.objects.get(pk=pending.pk).confirmed


def test_a_recovery_code_works_once(admin_browser, admin_a):
    _device, codes = enrol_app(admin_browser)
    first = Client()
    sign_in(first, "admin-a")
    assert first.post(VERIFY, {"code": codes[0], "next": CONSOLE}).url == CONSOLE
    assert Action.RECOVERY_CODE_USED in actions("admin-a")
    second = Client()
    sign_in(second, "admin-a")
    again = second.post(VERIFY, {"code": codes[0]})
    assert "確認コードが正しくありません" in again.text
    assert services.recovery_codes_left(user=admin_a) == services.RECOVERY_CODES - 1


def test_renewed_recovery_codes_replace_the_old_ones(admin_browser, admin_a):
    _device, old = enrol_app(admin_browser)
    page = admin_browser.post(reverse("twostep:recovery-codes")).text
    new = re.findall(r"<li><code>([a-z0-9]+)</code></li>", page)
    assert len(new) == 10 and not set(new) & set(old)
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert stored == set(new)


def test_back_to_the_password_step_signs_out(admin_browser):
    enrol_app(admin_browser)
    browser = Client()
    sign_in(browser, "admin-a")
    assert 'action="/logout/"' in browser.get(VERIFY).text
    browser.post(reverse("accounts:logout"))
    assert browser.get(CONSOLE).url.startswith(reverse("accounts:login"))


def test_without_a_second_factor_the_password_is_enough_unless_required(settings, admin_a):
    browser = Client()
    sign_in(browser, "admin-a")
    assert browser.get(CONSOLE).status_code == 200
    settings.TWO_STEP_REQUIRED = True
    required = Client()
    sign_in(required, "admin-a")
    assert required.get(CONSOLE).url == SETUP
    assert required.get(reverse("devicekeys:key-list")).url == SETUP
    assert "二段階認証が必須です" in required.get(SETUP).text
    assert "menu-list" not in required.get(SETUP).text
    enrol_app(required)
    assert required.get(CONSOLE).status_code == 200


def test_support_staff_always_need_it_before_django_admin(support_staff):
    TOTPDevice.objects.filter(user=support_staff).delete()
    browser = Client()
    assert sign_in(browser, "support-1").url == ADMIN
    assert browser.get(ADMIN).url == SETUP
    device, _codes = enrol_app(browser)
    assert browser.get(ADMIN).status_code == 200
    later = Client()
    sign_in(later, "support-1")
    assert later.get(ADMIN).url.startswith(VERIFY)
    later.post(VERIFY, {"code": code_of(device, later=30)})
    assert later.get(ADMIN).status_code == 200


def test_django_admin_has_no_sign_in_of_its_own(db):
    response = Client().get(reverse("admin:login"))
    assert response.url.startswith(reverse("accounts:login"))


def test_support_resets_an_administrators_factors_and_the_administrator_is_mailed(
    client, support_staff, admin_browser, admin_a, mailoutbox, django_capture_on_commit_callbacks
):
    enrol_app(admin_browser)
    login_verified(client, support_staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "reset_two_step", "_selected_action": [admin_a.pk]},
        )
    assert not TOTPDevice.objects.filter(user=admin_a).exists()
    assert not StaticDevice.objects.filter(user=admin_a).exists()
    [mail] = [m for m in mailoutbox if "二段階認証" in m.subject]
    assert mail.to == [admin_a.email]
    entry = AuditEntry.objects.get(action=Action.TWO_STEP_RESET)
    assert entry.actor_role == "support" and entry.target == "admin-a"
    browser = Client()
    sign_in(browser, "admin-a")
    assert browser.get(CONSOLE).status_code == 200  # the password alone again


def test_removing_the_app_is_recorded(admin_browser, admin_a):
    enrol_app(admin_browser)
    admin_browser.post(reverse("twostep:app-remove"))
    assert not TOTPDevice.objects.filter(user=admin_a).exists()
    assert Action.TWO_STEP_REMOVED in actions("admin-a")


def test_user_ids_have_no_second_factor_pages(users_a):
    from tests.devicekeys.browser import signed_in_user

    browser = signed_in_user(users_a[0])
    assert browser.get(SETUP).status_code == 403
    assert browser.post(APP, {"start": "1"}).status_code == 403


def test_another_accounts_passkey_is_not_found(admin_a, admin_b):
    from django_otp_webauthn.models import WebAuthnCredential

    admin_browser = login_verified(Client(), admin_a)

    theirs = WebAuthnCredential.objects.create(
        user=admin_b,
        name="B's key",
        confirmed=True,
        credential_id=b"x",
        public_key=b"y",
        aaguid="00000000-0000-0000-0000-000000000000",
    )
    response = admin_browser.post(reverse("twostep:passkey-delete", args=[theirs.pk]))
    assert response.status_code == 404
    assert WebAuthnCredential.objects.filter(pk=theirs.pk).exists()
    renamed = admin_browser.post(
        reverse("twostep:passkey-rename", args=[theirs.pk]), {"name": "mine"}
    )
    assert renamed.status_code == 404

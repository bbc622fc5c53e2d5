"""環境設定 and the stronger sign-in in the browser: an authenticator app enrolled
with the code the test computes from the secret on the page, then asked at the next
sign-in; the recovery codes downloaded and printed, and one used; a passkey
registered on Chromium's virtual authenticator (DevTools protocol), used to sign in
and, once the proof is old, to confirm it's you before it is deleted; a forgotten
password reset through the mail in the outbox."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.browsing import check_page, field, message, open_menu_item, sign_in, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Tz5nWq2Kr8"


def sign_out(page) -> None:
    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    expect(page.get_by_text("ログアウトしました。")).to_be_visible()


def wrong_code(secret: str) -> str:
    """A code the app refuses now, by no chance right: django-otp takes the codes of the
    steps next to the clock's too, so none of the five around it is chosen."""
    near = {totp_code(secret, steps_later=n) for n in range(-2, 3)}
    return next(digit * 6 for digit in "012345" if digit * 6 not in near)


def enrol_app(page) -> tuple[str, list[str]]:
    """From 環境設定 to an enrolled authenticator app; the secret and the recovery codes."""
    open_menu_item(page, "環境設定")
    check_page(page, screenshot="settings")
    page.get_by_role("link", name="二段階認証").click()
    expect(page.get_by_role("heading", name="二段階認証の設定")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="認証アプリを登録").click()
    expect(page.locator(".qr svg")).to_be_visible()  # drawn on the server, allowed by the CSP
    check_page(page, screenshot="two-step-app")
    secret = page.locator("code.secret").inner_text()
    field(page, "確認コード").fill(wrong_code(secret))
    page.get_by_role("button", name="登録する").click()
    expect(page.locator("#id_code_error")).to_contain_text("確認コードが正しくありません")
    check_page(page)
    page.wait_for_timeout(1100)  # django-otp's wait after one wrong code
    field(page, "確認コード").fill(totp_code(secret))
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_role("heading", name="リカバリーコード")).to_be_visible()
    check_page(page)
    codes = page.locator(".recovery-codes code").all_inner_texts()
    keep_on_paper_and_in_a_file(page, codes)
    page.get_by_role("link", name="保管しました").click()
    expect(page.get_by_text("登録済み")).to_be_visible()
    return secret, codes


def keep_on_paper_and_in_a_file(page, codes: list[str]) -> None:
    """The page of new recovery codes: its text file holds them, and on paper the codes
    are all there is (no menu, no buttons)."""
    with page.expect_download() as download:
        page.get_by_role("button", name="テキストファイルでダウンロード").click()
    assert download.value.suggested_filename == "recovery-codes-admin-a.txt"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert [line for line in text.splitlines() if line in codes] == codes
    expect(page.get_by_role("button", name="印刷する")).to_be_visible()
    page.emulate_media(media="print")
    for chrome in (".site-header", ".site-footer", ".actions"):
        expect(page.locator(chrome).first).to_be_hidden()
    expect(page.locator(".recovery-codes")).to_be_visible()
    expect(page.locator(".print-only")).to_contain_text("admin-a")
    page.emulate_media(media="screen")


def test_an_app_is_enrolled_then_asked_for_and_a_recovery_code_works_once(page, new_page, admin_a):
    sign_in(page, "admin-a")
    secret, codes = enrol_app(page)
    assert len(codes) == 10
    sign_out(page)

    sign_in(page, "admin-a")
    expect(page.get_by_role("heading", name="二段階認証")).to_be_visible()
    check_page(page, screenshot="two-step-verify")
    field(page, "確認コード").fill(totp_code(secret, steps_later=1))
    page.get_by_role("button", name="確認する").click()
    expect(page.get_by_role("heading", name="管理メニュー")).to_be_visible()

    other = new_page()
    sign_in(other, "admin-a")
    field(other, "確認コード").fill(codes[0])
    other.get_by_role("button", name="確認する").click()
    expect(other.get_by_role("heading", name="管理メニュー")).to_be_visible()
    sign_out(other)
    sign_in(other, "admin-a")
    field(other, "確認コード").fill(codes[0])
    other.get_by_role("button", name="確認する").click()
    expect(other.locator("#id_code_error")).to_contain_text("確認コードが正しくありません")
    check_page(other)
    # 戻る: back to the password step.
    other.get_by_role("button", name="戻る（ログインをやり直す）").click()
    expect(other.get_by_role("heading", name="ログイン")).to_be_visible()


def test_a_passkey_is_registered_named_and_signs_in(
    page, admin_a, settings, live_server, time_machine
):
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    assert live_server.url.startswith("http://localhost:")  # a secure context, a domain
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    sign_in(page, "admin-a")
    page.goto("/settings/two-step/")
    page.get_by_role("button", name="パスキーを登録").click()
    rename = page.get_by_label("パスキーの名前")
    expect(rename).to_be_visible()
    rename.fill("会社のPC")
    page.get_by_role("button", name="名前を変更").click()
    expect(message(page)).to_contain_text("パスキーの名前を変更しました")
    expect(page.get_by_label("パスキーの名前")).to_have_value("会社のPC")
    check_page(page, screenshot="two-step-setup")
    sign_out(page)

    sign_in(page, "admin-a")
    expect(page.get_by_role("heading", name="二段階認証")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="パスキーで確認").click()
    expect(page.get_by_role("heading", name="管理メニュー")).to_be_visible()

    # Eleven minutes later, deleting it asks for a fresh proof first: the passkey again.
    time_machine.move_to(timezone.now() + settings.SUDO_MAX_AGE + timedelta(minutes=1))
    page.goto("/settings/two-step/")
    page.get_by_role("button", name="削除 会社のPC").click()
    expect(page.get_by_role("heading", name="本人確認")).to_be_visible()
    check_page(page, screenshot="confirm-its-you")
    page.get_by_role("button", name="パスキーで確認").click()
    expect(page.get_by_role("heading", name="二段階認証の設定")).to_be_visible()
    page.get_by_role("button", name="削除 会社のPC").click()
    expect(message(page)).to_contain_text("パスキーを削除しました")


def test_a_forgotten_password_is_reset_through_the_mail(page, users_a, mailoutbox):
    page.goto("/login/")
    page.get_by_role("link", name="パスワードをお忘れの方").click()
    check_page(page)
    field(page, "ログインID").fill("taro-a")
    page.get_by_role("button", name="送信する").click()
    expect(page.get_by_role("status")).to_contain_text("再設定のリンクをお送りしました")
    check_page(page)

    [mail] = mailoutbox
    link = re.search(r"https?://\S+", mail.body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="パスワードの再設定")).to_be_visible()
    check_page(page)
    field(page, "新しいパスワード").fill("short")
    field(page, "新しいパスワード（確認）").fill("short")
    page.get_by_role("button", name="再設定する").click()
    expect(page.locator("#id_new_password1_error")).to_be_visible()
    check_page(page)
    field(page, "新しいパスワード").fill(NEW_PASSWORD)
    field(page, "新しいパスワード（確認）").fill(NEW_PASSWORD)
    page.get_by_role("button", name="再設定する").click()
    expect(message(page)).to_contain_text("パスワードを再設定しました")

    sign_in(page, "taro-a", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="端末認証")).to_be_visible()  # still the key step
    page.goto(link)  # used once: no more
    expect(page.get_by_role("alert")).to_contain_text("このリンクは無効です")
    check_page(page)

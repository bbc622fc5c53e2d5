"""Recovery codes after they are shown: the page's codes as a text file (only codes the
page holds, never fetched again), the page on paper, and the notice when 3 or fewer
are left, on 二段階認証の設定 and after a sign-in with one."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.devicekeys.browser import sign_in
from tests.twostep.test_twostep import CONSOLE, SETUP, VERIFY, enrol_app
from twostep import services

DOWNLOAD = reverse("twostep:recovery-codes-download")
RENEW = reverse("twostep:recovery-codes")
GONE = "このリカバリーコードは、使用済みか新しいコードに替わったため、ダウンロードできません。"


@pytest.fixture
def enrolled(admin_a):
    """The administrator's browser right after enrolment, and the codes it was shown."""
    browser = Client()
    sign_in(browser, "admin-a")
    _device, codes = enrol_app(browser)
    return browser, codes


def codes_sent_back(page: str) -> list[str]:
    """What the page's download form sends: its hidden fields."""
    form = re.search(rf'<form method="post" action="{DOWNLOAD}".*?</form>', page, re.S).group(0)
    return re.findall(r'<input type="hidden" name="code" value="([a-z0-9]+)">', form)


def test_the_page_of_new_codes_downloads_them_as_a_text_file_kept_nowhere(enrolled):
    browser, _codes = enrolled
    page = browser.post(RENEW).text
    shown = re.findall(r"<li><code>([a-z0-9]+)</code></li>", page)
    assert codes_sent_back(page) == shown

    response = browser.post(DOWNLOAD, {"code": shown})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="recovery-codes-admin-a.txt"'
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    assert text.split("\r\n")[1] == "ログインID: admin-a"
    assert [line for line in text.split("\r\n") if line in shown] == shown
    assert "一度だけ使えます" in text


def test_the_text_file_is_in_the_viewers_language(enrolled):
    browser, codes = enrolled
    browser.cookies["django_language"] = "en"
    text = browser.post(DOWNLOAD, {"code": codes}).content.decode()
    assert "Login ID: admin-a" in text and "Each code works once" in text


def test_codes_no_longer_current_are_not_downloaded(enrolled, admin_a):
    browser, old = enrolled
    new = re.findall(r"<li><code>([a-z0-9]+)</code></li>", browser.post(RENEW).text)

    stale = browser.post(DOWNLOAD, {"code": old}, follow=True)

    assert stale.redirect_chain[-1][0] == SETUP
    assert GONE in stale.text
    assert not any(code in stale.text for code in old + new)
    mixed = browser.post(DOWNLOAD, {"code": [*new[:9], old[0]]})
    assert mixed.status_code == 302 and not any(code in mixed.text for code in new)


def test_a_download_fetches_no_code_the_browser_does_not_send(enrolled):
    browser, codes = enrolled
    for sent in (
        {},
        {"code": ""},
        {"code": [codes[0]] * 2},
        {"code": [*codes, "zzzz2222"]},
        {"code": ["a" * 10_000]},
    ):
        response = browser.post(DOWNLOAD, sent)
        assert response.status_code == 302 and response.url == SETUP
    one = browser.post(DOWNLOAD, {"code": codes[3]}).content.decode()
    assert codes[3] in one and not any(code in one for code in codes if code != codes[3])
    assert browser.get(DOWNLOAD).status_code == 405


def test_only_the_account_holding_the_codes_past_its_second_step_downloads_them(enrolled, admin_b):
    _browser, codes = enrolled
    assert Client().post(DOWNLOAD, {"code": codes}).url.startswith(reverse("accounts:login"))
    other = Client()
    sign_in(other, "admin-b")
    _device, _codes_b = enrol_app(other)
    refused = other.post(DOWNLOAD, {"code": codes})  # admin-a's codes
    assert refused.status_code == 302 and not any(code in refused.text for code in codes)
    password_only = Client()
    sign_in(password_only, "admin-a")  # the second step not passed
    assert password_only.post(DOWNLOAD, {"code": codes}).status_code in (302, 403)
    assert codes[0].encode() not in password_only.post(DOWNLOAD, {"code": codes}).content


def test_the_page_of_codes_prints_and_offers_the_print_button(enrolled):
    browser, _codes = enrolled
    page = browser.post(RENEW).text
    assert re.search(
        r'<button type="button" class="button" data-print hidden>印刷する</button>', page
    )
    assert 'src="/static/js/print-button.js"' in page
    assert '<p class="print-only">' in page and "ログインID: admin-a" in page


@pytest.mark.parametrize(
    ("used", "notice"),
    [
        (6, None),
        (7, "リカバリーコードの残りが3個です。二段階認証の設定で新しいコードを発行してください。"),
        (9, "リカバリーコードの残りが1個です。"),
        (10, "リカバリーコードがありません。"),
    ],
)
def test_the_settings_warn_when_three_or_fewer_codes_are_left(enrolled, admin_a, used, notice):
    browser, codes = enrolled
    for code in codes[:used]:
        assert services.code_verify(user=admin_a, token=code) is not None
    page = browser.get(SETUP).text
    if notice is None:
        assert 'role="status">リカバリーコード' not in page
    else:
        assert notice in page


def test_a_sign_in_with_a_recovery_code_warns_when_three_or_fewer_are_left(enrolled, admin_a):
    _browser, codes = enrolled
    for code in codes[:6]:
        services.code_verify(user=admin_a, token=code)
    fourth_last = Client()
    sign_in(fourth_last, "admin-a")
    landed = fourth_last.post(VERIFY, {"code": codes[6], "next": CONSOLE}, follow=True)
    assert landed.redirect_chain[-1][0] == CONSOLE
    assert (
        "リカバリーコードの残りが3個です。二段階認証の設定で新しいコードを発行してください。"
        in (landed.text)
    )
    last = Client()
    for code in codes[7:9]:
        services.code_verify(user=admin_a, token=code)
    sign_in(last, "admin-a")
    last.cookies["django_language"] = "en"
    landed = last.post(VERIFY, {"code": codes[9], "next": CONSOLE}, follow=True)
    assert "All your recovery codes have been used." in landed.text


def test_a_sign_in_with_the_app_or_with_many_codes_left_has_no_notice(enrolled, admin_a):
    _browser, codes = enrolled
    browser = Client()
    sign_in(browser, "admin-a")
    landed = browser.post(VERIFY, {"code": codes[0], "next": CONSOLE}, follow=True)
    assert landed.redirect_chain[-1][0] == CONSOLE
    assert "リカバリーコードの残り" not in landed.text

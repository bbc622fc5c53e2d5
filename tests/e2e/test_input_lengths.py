"""A paste longer than a field takes is neither cut nor sent silently
(static/js/maxlength-note.js): the field keeps all of it, a note says so, and the
server refuses it with the field's own limit."""

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import field

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASTE = """([selector, text]) => {
    const input = document.querySelector(selector);
    input.focus();
    const data = new DataTransfer();
    data.setData("text/plain", text);
    const paste = new ClipboardEvent(
        "paste", {clipboardData: data, bubbles: true, cancelable: true}
    );
    input.dispatchEvent(paste);
    return paste.defaultPrevented;
}"""


def test_a_paste_over_the_limit_is_kept_whole_told_and_refused(page):
    page.goto("/login/")
    login_id = field(page, "ログインID")
    assert login_id.get_attribute("maxlength") == "60"
    page.evaluate(PASTE, ["#id_username", "p" * 100])
    assert len(login_id.input_value()) == 100  # not cut to 60
    expect(page.get_by_role("status")).to_have_text(
        "貼り付けた内容は100文字あり、この欄に入力できる60文字を超えています。"
    )
    field(page, "パスワード").fill("x")
    page.get_by_role("button", name="ログイン").click()
    expect(
        page.get_by_text("この値は 60 文字以下でなければなりません( 100 文字になっています)。")
    ).to_be_visible()


def test_a_paste_within_the_limit_is_left_to_the_browser(page):
    page.goto("/login/")
    taken_over = page.evaluate(PASTE, ["#id_username", "t" * 60])
    assert taken_over is False
    expect(page.locator("#id_username-length-note")).to_have_count(0)

"""The console with the keyboard alone: every stop of the Tab order shows a focus
indicator that stands out (WCAG 2.2 AA: 2.4.7, and 1.4.11's 3:1 against what is
around it); the menu opens with Enter; a form is filled in and sent without a
mouse; a key's status is a word and a shape, never a colour alone.

axe-core's check of every page runs in the flows themselves (browsing.check_page).
"""

import pytest
from playwright.sync_api import expect

from devicekeys import services as key_services
from tests.conftest import PASSWORD, SETUP
from tests.e2e.browsing import check_page, field, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MIN_FOCUS_CONTRAST = 3.0

# The focused element, its name as a person reads it, and how its focus shows:
# the outline and the contrast of its colour against the background behind it.
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const rgba = (c) => { const v = (c.match(/[\\d.]+/g) || ["0", "0", "0", "0"]).map(Number);
                        return { r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1 }; };
  const luminance = ({ r, g, b }) => [r, g, b]
    .map((v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  let background = { r: 255, g: 255, b: 255, a: 1 };
  for (let up = el.parentElement; up; up = up.parentElement) {
    const colour = rgba(getComputedStyle(up).backgroundColor);
    if (colour.a > 0) { background = colour; break; }
  }
  const style = getComputedStyle(el);
  const [light, dark] = [luminance(rgba(style.outlineColor)), luminance(background)]
    .sort((x, y) => y - x);
  const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
  return {
    name: (label || el.innerText || el.value || el.getAttribute("aria-label") || "").trim(),
    tag: el.tagName.toLowerCase(),
    outline: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    contrast: (light + 0.05) / (dark + 0.05),
  };
}"""


def press_tab_until(page, name: str, *, limit: int = 40) -> list[dict]:
    """Tab until the focus is on the element named `name` (its text or label starts
    with it); check the focus indicator of every stop on the way."""
    page.wait_for_load_state()  # the stylesheet too
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        assert focused, f"Tab left the page after {[s['name'] for s in stops]}"
        stops.append(focused)
        assert focused["outline"] != "none" and focused["width"] >= 2, (
            f"no visible focus on {focused}"
        )
        assert focused["contrast"] >= MIN_FOCUS_CONTRAST, f"faint focus indicator on {focused}"
        if focused["name"].startswith(name):
            return stops
    raise AssertionError(f"{name!r} not reached with Tab: {[s['name'] for s in stops]}")


def test_the_menu_opens_with_the_keyboard_and_leads_to_user_ids(page, admin_a):
    sign_in(page, "admin-a")
    expect(page.get_by_role("heading", name="管理メニュー")).to_be_visible()

    stops = press_tab_until(page, "メニュー")
    assert stops[0]["name"] == "本文へ移動"  # the skip link comes first
    page.keyboard.press("Enter")
    expect(page.locator("details.menu")).to_have_attribute("open", "")
    check_page(page)

    press_tab_until(page, "利用者ID管理", limit=3)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="利用者ID一覧")).to_be_visible()


def test_sign_in_and_a_user_id_are_done_with_the_keyboard(page, admin_a):
    page.goto("/login/")
    expect(field(page, "ログインID")).to_be_focused()  # autofocus
    page.keyboard.type("admin-a")
    press_tab_until(page, "パスワード")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="管理メニュー")).to_be_visible()

    page.goto("/console/users/new/")
    press_tab_until(page, "ログインID")
    page.keyboard.type("suzuki.k")
    for label, text in [
        ("パスワード", "Tz4kMw9Qx2"),
        ("パスワード（確認）", "Tz4kMw9Qx2"),
    ]:
        press_tab_until(page, label, limit=1)
        page.keyboard.type(text)
    press_tab_until(page, "パスワードルールについて", limit=1)
    page.keyboard.press("Enter")
    expect(page.locator("details.rules")).to_have_attribute("open", "")
    for label, text in [
        ("メールアドレス", "suzuki@example.jp"),
        ("メールアドレス（確認）", "suzuki@example.jp"),
        ("スケジューラー・掲示板用表示氏名", "鈴木 一郎"),
    ]:
        press_tab_until(page, label, limit=1)
        page.keyboard.type(text)
    page.keyboard.press("Enter")  # 次へ: the form's first submit button

    expect(page.locator("[aria-current=step]")).to_contain_text("確認")
    press_tab_until(page, "作成する")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("利用者ID「suzuki.k」を作成しました。")


def test_every_stop_of_the_key_list_shows_its_focus(page, admin_a, users_a):
    key_services.device_key_issue(
        contract=admin_a.contract, user=users_a[0], actor=SETUP, device_name="Chrome"
    )
    sign_in(page, "admin-a")
    page.goto("/console/device-keys/")
    press_tab_until(page, "切替", limit=60)  # the language switch, last on the page


def test_a_status_is_a_word_and_a_shape_not_a_colour_alone(page, admin_a, users_a):
    contract, (taro, hana) = admin_a.contract, users_a
    issue = key_services.device_key_issue
    issue(contract=contract, user=taro, actor=SETUP, device_name="Alpha")
    stopped = issue(contract=contract, user=taro, actor=SETUP, device_name="Bravo")
    key_services.device_key_stop(contract=contract, key=stopped, actor=SETUP)
    issue(contract=contract, user=hana, actor=SETUP, device_name="Charlie")
    for _ in range(3):  # three wrong keys at sign-in: hana-a's waiting key becomes 無効
        key_services.device_key_record_wrong_entry(
            contract=contract, user=hana, actor=hana, ip="192.0.2.1"
        )

    sign_in(page, "admin-a")
    page.goto("/console/device-keys/")
    status = {
        name: page.get_by_role("row", name=name).locator(".status")
        for name in ("Alpha", "Bravo", "Charlie")
    }
    expect(status["Alpha"]).to_have_text("●利用中")
    expect(status["Bravo"]).to_have_text("■利用停止")
    expect(status["Charlie"]).to_have_text("✕無効")
    check_page(page)

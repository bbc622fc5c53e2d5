"""端末認証キー管理 in the browser: the administrator issues a key, renames it in
place, reissues, stops, unstops and deletes it; a user in another browser
registers the key at sign-in and is shut out when the administrator stops it."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import check_page, field, key_from_mail, message, open_menu_item, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
)


def issue_key(page, login_id: str, device_name: str = "") -> None:
    """端末認証キー新規発行 from the list, as the administrator."""
    page.get_by_role("link", name="端末認証キー新規発行").click()
    check_page(page)
    page.get_by_role("radio", name=login_id).check()
    if device_name:
        field(page, "端末名").fill(device_name)
    page.get_by_role("button", name="発行する").click()
    expect(page.get_by_role("heading", name="端末認証キーを発行しました")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text(
        f"{login_id} の端末認証キーを発行し、メールアドレス"
    )
    page.get_by_role("link", name="端末認証キー一覧へ").click()


def test_a_key_is_issued_renamed_reissued_stopped_unstopped_and_deleted(
    page, admin_a, users_a, mailoutbox
):
    sign_in(page, "admin-a")
    open_menu_item(page, "端末認証キー管理")
    expect(page.locator(".empty")).to_contain_text("端末認証キーはまだありません")
    check_page(page)

    issue_key(page, "taro-a", "Chrome-16")
    row = page.get_by_role("row", name="Chrome-16")
    expect(row).to_contain_text("利用中")
    expect(row).to_contain_text("未登録")
    issued = key_from_mail(mailoutbox[-1])
    expect(row.locator("code.device-key")).to_have_text(issued)
    check_page(page, screenshot="device-keys")

    # 端末名変更 in place: 編集 turns the name into a field; Enter saves without a reload.
    page.get_by_role("link", name="編集 Chrome-16").click()
    name_input = page.get_by_role("textbox", name="端末名")
    expect(name_input).to_be_focused()
    check_page(page)
    name_input.fill("経理部のPC")
    name_input.press("Enter")
    expect(page.locator("[data-rename-status]")).to_have_text(
        "端末名を「経理部のPC」に変更しました。"
    )
    expect(name_input).to_have_count(0)
    expect(page.get_by_role("link", name="編集 経理部のPC")).to_be_focused()
    page.reload()
    row = page.get_by_role("row", name="経理部のPC")
    expect(row).to_be_visible()

    # Leaving the field saves too; an empty name is refused in place.
    page.get_by_role("link", name="編集 経理部のPC").click()
    name_input.fill("")
    page.get_by_role("heading", name="端末認証キー一覧").click()
    expect(page.get_by_role("alert")).to_have_text("端末名を入力してください。")
    expect(name_input).to_have_attribute("aria-invalid", "true")
    name_input.press("Escape")
    expect(row.locator("[data-device-name]")).to_have_text("経理部のPC")

    # 再発行: a confirmation names the device, the login ID and what the user loses.
    row.get_by_role("link", name="再発行 経理部のPC").click()
    expect(page.get_by_role("heading", name="端末認証キーの再発行確認")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(
        "「経理部のPC」（taro-a）の端末認証キーを再発行してよろしいですか？"
    )
    expect(page.get_by_role("alert")).to_contain_text(
        "新しい端末認証キーは taro-a のメールアドレス（taro-a@example.jp）に通知されます。"
    )
    check_page(page, screenshot="key-reissue-confirm")
    page.get_by_role("link", name="戻る").click()  # nothing changed
    expect(row.locator("code.device-key")).to_have_text(issued)
    row.get_by_role("link", name="再発行 経理部のPC").click()
    page.get_by_role("button", name="再発行する").click()
    expect(message(page)).to_contain_text("「経理部のPC」の端末認証キーを再発行し")
    reissued = key_from_mail(mailoutbox[-1])
    assert reissued != issued
    expect(row.locator("code.device-key")).to_have_text(reissued)

    row.get_by_role("link", name="停止 経理部のPC").click()
    expect(page.get_by_role("heading", name="端末認証キーの停止確認")).to_be_visible()
    check_page(page, screenshot="key-stop-confirm")
    page.get_by_role("button", name="停止する").click()
    expect(message(page)).to_contain_text("端末認証キーを停止しました")
    expect(row.locator(".status")).to_have_text("■利用停止")
    check_page(page)

    row.get_by_role("link", name="停止解除 経理部のPC").click()
    expect(page.get_by_role("heading", name="端末認証キーの停止解除確認")).to_be_visible()
    check_page(page, screenshot="key-unstop-confirm")
    page.get_by_role("button", name="停止を解除する").click()
    expect(message(page)).to_contain_text("停止を解除しました")
    expect(row.locator(".status")).to_have_text("●利用中")

    row.get_by_role("link", name="削除 経理部のPC").click()
    expect(page.get_by_role("heading", name="端末認証キーの削除確認")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        "端末認証キーを削除すると登録した端末からご利用できなくなります。"
    )
    expect(page.locator("dl.summary")).to_contain_text(reissued)
    check_page(page, screenshot="key-delete-confirm")
    page.get_by_role("button", name="削除する").click()
    expect(message(page)).to_have_text("「経理部のPC」（taro-a）の端末認証キーを削除しました。")
    expect(page.get_by_role("row", name="経理部のPC")).to_have_count(0)


def test_a_user_registers_a_key_and_is_shut_out_when_it_is_stopped(
    page, new_page, admin_a, users_a, mailoutbox
):
    admin = page
    sign_in(admin, "admin-a")
    open_menu_item(admin, "端末認証キー管理")
    issue_key(admin, "taro-a")
    key = key_from_mail(mailoutbox[-1])

    # taro-a, on a phone: the password, then the key from the mail.
    phone = new_page(viewport={"width": 375, "height": 740}, user_agent=IPHONE)
    sign_in(phone, "taro-a")
    expect(phone.get_by_role("heading", name="端末認証キーの入力")).to_be_visible()
    check_page(phone)
    field(phone, "端末認証キー").fill("AAAAAAAA" if key != "AAAAAAAA" else "BBBBBBBB")
    phone.get_by_role("button", name="登録してログイン").click()
    expect(phone.locator(".field-errors")).to_contain_text("あと2回間違えると")
    check_page(phone)
    field(phone, "端末認証キー").fill(key)
    phone.get_by_role("button", name="登録してログイン").click()

    expect(phone.get_by_role("heading", name="ホーム")).to_be_visible()
    expect(message(phone)).to_contain_text("この端末を「Safari")
    expect(phone.locator("#home-device + dl")).to_contain_text("Safari")
    check_page(phone, screenshot="user-home-phone")

    # The administrator sees the key registered, masked, and stops it.
    admin.reload()
    row = admin.get_by_role("row", name="taro-a")
    expect(row.locator("code.device-key")).to_have_text("******" + key[-2:])
    expect(row).not_to_contain_text("未登録")
    row.get_by_role("link", name=re.compile("^停止 ")).click()
    admin.get_by_role("button", name="停止する").click()
    expect(row.locator(".status")).to_have_text("■利用停止")

    # taro-a's next click ends the session, with the reason.
    phone.get_by_role("link", name="登録内容を変更する").click()
    expect(phone.get_by_role("heading", name="この端末からはご利用になれません")).to_be_visible()
    check_page(phone)
    phone.get_by_role("link", name="ログイン画面へ").click()
    sign_in(phone, "taro-a")
    expect(phone.get_by_role("alert")).to_contain_text("管理者によって利用停止にされています")
    check_page(phone)

    # 停止解除: the same phone signs in again with its password alone.
    row.get_by_role("link", name=re.compile("^停止解除 ")).click()
    admin.get_by_role("button", name="停止を解除する").click()
    expect(row.locator(".status")).to_have_text("●利用中")
    sign_in(phone, "taro-a")
    expect(phone.get_by_role("heading", name="ホーム")).to_be_visible()


def test_a_new_user_id_gets_its_key_in_one_path_and_the_key_works(
    page, new_page, admin_a, users_a, contract_a, fill_contract, mailoutbox
):
    """利用者ID新規作成 → its 完了 page → 端末認証キー新規発行 with the login ID chosen →
    the key's own page → the user signs in on a phone with the key from the mail."""
    fill_contract(contract_a, 996)  # with users_a and the new one: 999, the limit
    sign_in(page, "admin-a")
    open_menu_item(page, "利用者ID管理")
    page.get_by_role("link", name="利用者ID新規作成").click()
    field(page, "ログインID").fill("kimura.s")
    field(page, "パスワード").fill("Hn5vRt2Wq8")
    field(page, "パスワード（確認）").fill("Hn5vRt2Wq8")
    field(page, "メールアドレス").fill("kimura@keiri.example.jp")
    field(page, "メールアドレス（確認）").fill("kimura@keiri.example.jp")
    page.get_by_role("button", name="次へ").click()
    page.get_by_role("button", name="作成する").click()
    expect(page.locator("[aria-current=step]")).to_contain_text("完了")
    check_page(page, screenshot="user-created")

    page.get_by_role("link", name="端末認証キー新規発行 kimura.s").click()
    expect(page.get_by_role("radio", name="kimura.s")).to_be_checked()
    expect(page.get_by_role("radio")).to_have_count(51)  # the first 50, and the one chosen
    expect(page.locator(".field-group .help")).to_contain_text("絞り込んでください")
    expect(field(page, "端末名")).to_have_attribute("placeholder", "端末-1")
    check_page(page, screenshot="key-issue")

    # Type-ahead: the list narrows as one types, and the chosen login ID stays chosen.
    field(page, "ログインID・メールアドレスで検索").fill("bulk-")
    expect(page.get_by_role("radio")).to_have_count(51)
    field(page, "ログインID・メールアドレスで検索").fill("keiri")
    expect(page.get_by_role("radio")).to_have_count(1)
    expect(page.get_by_role("radio", name="kimura.s")).to_be_checked()
    expect(page.locator("[data-picker-status]")).to_have_text("1件のログインIDを表示しています。")
    check_page(page)
    page.get_by_role("button", name="発行する").click()

    # The key's own page: large, copyable, and what happens next.
    expect(page.get_by_role("heading", name="端末認証キーを発行しました")).to_be_visible()
    key = key_from_mail(mailoutbox[-1])
    expect(page.locator("#issued-key")).to_have_text(key)
    expect(page.locator("main")).to_contain_text("端末名を入力しなかったため「端末-1」としました。")
    expect(page.get_by_role("heading", name="このあと利用者が行うこと")).to_be_visible()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="キーをコピー").click()
    expect(page.locator("[data-copy-status]")).to_have_text("コピーしました。")
    assert page.evaluate("() => navigator.clipboard.readText()") == key
    check_page(page, screenshot="key-issued")

    # kimura.s, on a phone: the password, then the key; home.
    phone = new_page(viewport={"width": 375, "height": 740}, user_agent=IPHONE)
    sign_in(phone, "kimura.s", "Hn5vRt2Wq8")
    expect(phone.get_by_role("heading", name="端末認証キーの入力")).to_be_visible()
    field(phone, "端末認証キー").fill(key)
    phone.get_by_role("button", name="登録してログイン").click()
    expect(phone.get_by_role("heading", name="ホーム")).to_be_visible()

    # The administrator's user list counts the key as in use.
    open_menu_item(page, "利用者ID管理")
    field(page, "検索（ログインID・メールアドレス・表示氏名）").fill("kimura")
    page.get_by_role("button", name="表示").click()
    row = page.get_by_role("row", name="kimura.s")
    expect(row.locator(".key-states")).to_have_text(re.compile(r"●\s*利用中 1"))
    check_page(page, screenshot="user-list-keys")


def test_the_picker_works_without_javascript(new_page, admin_a, users_a, contract_a, fill_contract):
    fill_contract(contract_a, 60)
    page = new_page(java_script_enabled=False)
    sign_in(page, "admin-a")
    page.goto("/console/device-keys/issue/?login_id=hana-a")
    expect(page.get_by_role("radio", name="hana-a")).to_be_checked()
    field(page, "ログインID・メールアドレスで検索").fill("taro")
    page.get_by_role("button", name="検索").click()
    expect(page.get_by_role("radio")).to_have_count(2)  # taro-a, and hana-a still chosen
    expect(page.get_by_role("radio", name="hana-a")).to_be_checked()
    page.get_by_role("button", name="発行する").click()
    expect(page.get_by_role("heading", name="端末認証キーを発行しました")).to_be_visible()
    expect(page.get_by_role("button", name="キーをコピー")).to_be_hidden()
    expect(page.locator("#issued-key")).to_have_text(re.compile(r"^\S{8}$"))

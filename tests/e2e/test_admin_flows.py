"""利用者ID管理 in the browser: the administrator signs in, creates a user ID in
three steps, edits and deletes one, and imports a CSV file while the progress
bars follow the task worker."""

import pytest
from playwright.sync_api import expect

from api.registrations import app_registration_create
from csvimport import services as csv_services
from tests.e2e.browsing import (
    ProgressRequests,
    check_page,
    field,
    message,
    open_menu_item,
    sign_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_administrator_signs_in(page, admin_a):
    page.goto("/")
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    check_page(page, screenshot="sign-in")

    sign_in(page, "admin-a", password="not-the-password")
    expect(page.get_by_role("alert")).to_have_text("ログインIDまたはパスワードが正しくありません。")
    check_page(page)

    sign_in(page, "admin-a")
    expect(page.get_by_role("heading", name="管理メニュー")).to_be_visible()
    expect(page.locator(".signed-in")).to_contain_text("admin-a")
    check_page(page, screenshot="console")


def test_a_user_id_is_created_in_three_steps(page, admin_a, mailoutbox):
    sign_in(page, "admin-a")
    open_menu_item(page, "利用者ID管理")
    page.get_by_role("link", name="利用者ID新規作成").click()
    expect(page.locator("[aria-current=step]")).to_contain_text("入力")
    check_page(page)

    field(page, "ログインID").fill("sato01")
    field(page, "パスワード").fill("password1")
    field(page, "パスワード（確認）").fill("password1")
    field(page, "メールアドレス").fill("sato@example.jp")
    field(page, "メールアドレス（確認）").fill("sato@example.jp")
    field(page, "スケジューラー・掲示板用表示氏名").fill("佐藤 花子")
    field(page, "部署").fill("経理部")
    page.get_by_role("button", name="次へ").click()

    # A common English word: refused on the input step, with the rule that says why.
    expect(page.get_by_role("alert")).to_contain_text("入力内容に誤りがあります")
    expect(page.locator("#id_password_error")).to_be_visible()
    expect(page.locator("details.rules")).to_have_attribute("open", "")
    expect(field(page, "ログインID")).to_have_value("sato01")
    check_page(page, screenshot="user-create")

    field(page, "パスワード").fill("Hn5vRt2Wq8")
    field(page, "パスワード（確認）").fill("Hn5vRt2Wq8")
    page.get_by_role("button", name="次へ").click()

    expect(page.locator("[aria-current=step]")).to_contain_text("確認")
    summary = page.locator("dl.summary")
    expect(summary).to_contain_text("sato01")
    expect(summary).to_contain_text("佐藤 花子")
    expect(summary).to_contain_text("（セキュリティのため表示しません）")
    expect(summary).not_to_contain_text("Hn5vRt2Wq8")
    check_page(page)
    page.get_by_role("button", name="作成する").click()

    expect(page.locator("[aria-current=step]")).to_contain_text("完了")
    expect(page.get_by_role("status")).to_have_text("利用者ID「sato01」を作成しました。")
    check_page(page)
    assert [mail.to for mail in mailoutbox] == [["sato@example.jp"]]

    page.get_by_role("link", name="利用者ID一覧へ").click()
    row = page.get_by_role("row", name="sato01")
    expect(row).to_contain_text("佐藤 花子")
    expect(page.locator(".count")).to_contain_text("1 / 999")
    check_page(page, screenshot="user-list")


def test_a_user_id_is_edited_and_deleted(page, admin_a, users_a, mailoutbox):
    sign_in(page, "admin-a")
    open_menu_item(page, "利用者ID管理")
    page.get_by_role("link", name="編集 taro-a").click()
    expect(page.get_by_role("heading", name="利用者ID情報変更")).to_be_visible()
    expect(field(page, "パスワード")).to_have_value("")
    check_page(page)

    field(page, "スケジューラー・掲示板用表示氏名").fill("山田 太郎")
    field(page, "役職").fill("課長")
    page.get_by_role("button", name="変更する").click()

    expect(message(page)).to_have_text("利用者ID「taro-a」の情報を変更しました。")
    expect(page.get_by_role("row", name="taro-a")).to_contain_text("山田 太郎")
    check_page(page)

    page.get_by_role("link", name="削除 taro-a").click()
    expect(page.get_by_role("heading", name="利用者ID情報削除 確認")).to_be_visible()
    expect(page.locator("dl.summary")).to_contain_text("課長")
    expect(page.get_by_role("alert")).to_contain_text(
        "ログインID「taro-a」ではログインできなくなり"
    )
    check_page(page, screenshot="user-delete-confirm")
    page.get_by_role("button", name="削除する").click()

    expect(message(page)).to_have_text("利用者ID「taro-a」を削除しました。")
    expect(page.get_by_role("row", name="taro-a")).to_have_count(0)
    expect(page.get_by_role("row", name="hana-a")).to_be_visible()
    assert [mail.to for mail in mailoutbox] == [["taro-a@example.jp"]] * 2  # changed, deleted


def test_a_login_id_is_signed_out_everywhere_after_a_confirmation(page, admin_a, users_a):
    hana = users_a[1]
    app_registration_create(
        contract=hana.contract, user=hana, client="ios", device_name="hana iPhone"
    )
    sign_in(page, "admin-a")
    page.goto(f"/console/users/{hana.pk}/apps/")
    page.get_by_role("link", name="全端末からサインアウト").click()
    expect(page.get_by_role("heading", name="全端末からサインアウト 確認")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("hana iPhone（iOSアプリ）")
    check_page(page, screenshot="sign-out-everywhere-confirm")
    page.get_by_role("button", name="サインアウトする").click()
    expect(message(page)).to_have_text("「hana-a」を全端末からサインアウトしました（アプリ1件）。")


STAFF_CSV = (
    b"sato01,Hn5vRt2Wq8,sato@example.jp\n"
    b"suzuki.hanako,Tz4kMw9Qx2,hanako.suzuki@example.jp\n"
    b"Tanaka_3,Pq7wZx3Kd9,tanaka@example.jp\n"
)


def test_a_csv_file_is_imported_while_the_progress_bars_follow_it(
    page, admin_a, task_worker, mailoutbox, monkeypatch
):
    sign_in(page, "admin-a")
    open_menu_item(page, "利用者ID管理")
    page.get_by_role("link", name="CSVインポート").click()
    expect(page.get_by_role("heading", name="CSVインポート")).to_be_visible()
    check_page(page)

    progress = ProgressRequests(page)
    field(page, "CSVファイル").set_input_files(
        files=[{"name": "staff.csv", "mimeType": "text/csv", "buffer": STAFF_CSV}]
    )
    field(page, "各利用者IDのメールアドレスに通知する").check()
    page.get_by_role("button", name="作成する").click()

    badge = page.locator("[data-status-label]")
    expect(badge).to_have_text("待機中")
    expect(page.locator("#progress-checked")).to_have_attribute("value", "0")
    check_page(page)

    def hash_while_watched(passwords, **options):
        """Every line is checked, the passwords are next: the page has followed."""
        expect(badge).to_have_text("処理中")
        expect(page.locator("#progress-checked")).to_have_attribute("value", "3")
        expect(page.locator("[data-progress-count=lines_checked]")).to_have_text("3 / 3")
        check_page(page, screenshot="user-import-progress")
        progress.settle()
        return hash_passwords(passwords, **options)

    hash_passwords = csv_services.hash_passwords
    monkeypatch.setattr(csv_services, "hash_passwords", hash_while_watched)
    progress.settle()
    task_worker()

    # The page reloads itself when the job has ended, and shows the result.
    expect(page.locator(".alert-success")).to_contain_text("3件の利用者IDを作成しました。")
    expect(badge).to_contain_text("完了")
    expect(page.locator("[data-import-progress]")).to_have_count(0)
    check_page(page)
    assert sorted(mail.to[0] for mail in mailoutbox) == [
        "hanako.suzuki@example.jp",
        "sato@example.jp",
        "tanaka@example.jp",
    ]

    page.get_by_role("link", name="利用者ID一覧へ").click()
    expect(page.locator(".count")).to_contain_text("3 / 999")
    for login_id in ("sato01", "suzuki.hanako", "Tanaka_3"):
        expect(page.get_by_role("row", name=login_id)).to_be_visible()

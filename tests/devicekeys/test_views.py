"""端末認証キー管理 as the administrator sees it: the list, each action, the
contract boundary, and bad input."""

import html
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse

from api.models import AppRegistration, AppToken
from audit.models import AuditEntry
from devicekeys import rules, services
from devicekeys.models import DeviceKey
from devicekeys.rules import Status
from notifications.models import Notification
from tests.conftest import SETUP
from tests.devicekeys.browser import HOME, browser, enter_key, sign_in

LIST = reverse("devicekeys:key-list")
ISSUE = reverse("devicekeys:key-issue")
KEY_ACTIONS = ["key-rename", "key-reissue", "key-stop", "key-unstop", "key-delete"]


def url(name, key):
    return reverse(f"devicekeys:{name}", args=[key.pk])


def rows(page: str) -> list[str]:
    return re.findall(r"<tr>\s*<td data-label=.*?</tr>", page, re.S)


def row_of(page: str, device_name: str) -> str:
    [row] = [r for r in rows(page) if f"data-device-name>{device_name}<" in r]
    return row


def messages_of(page: str) -> str:
    found = re.search(r'<ul class="messages".*?</ul>', page, re.S)
    return found.group(0) if found else ""


# --- The list -----------------------------------------------------------------------


def test_menu_leads_to_the_list(admin_client_a):
    console = admin_client_a.get(reverse("accounts:console")).text
    assert f'href="{LIST}"' in console


def test_list_shows_the_guides_columns_note_and_count(admin_client_a, key_a):
    response = admin_client_a.get(LIST)
    page = response.text
    assert response.status_code == 200
    for heading in [
        "端末名",
        "端末認証キー",
        "端末を利用するログインID",
        "ステータス",
        "ステータス切替",
        "キー作成日時",
        "キー登録日時",
    ]:
        assert f"{heading}</th>" in page or f'>{heading}<span class="sort-mark"' in page
    assert "利用者が端末認証キーを3回間違えた場合、ステータスが「無効」となります。" in page
    assert "端末認証キー新規発行" in page
    assert re.search(r"<strong>1</strong> / 999", page)


def test_a_row_shows_name_key_login_id_status_and_actions(admin_client_a, key_a):
    row = row_of(admin_client_a.get(LIST).text, "Chrome")
    assert f'<code class="device-key">{key_a.key}</code>' in row
    assert ">taro-a<" in row
    assert "利用中" in row
    assert "編集" in row and "再発行" in row and "停止" in row and "削除" in row
    assert "停止解除" not in row
    assert "未登録" in row


def test_dates_are_shown_in_the_guides_format_in_tokyo_time(admin_client_a, key_a, register_key):
    register_key(key_a)
    DeviceKey.objects.filter(pk=key_a.pk).update(
        created_at=datetime(2020, 3, 17, 4, 54, tzinfo=UTC),
        registered_at=datetime(2020, 6, 15, 0, 13, tzinfo=UTC),
    )
    row = row_of(admin_client_a.get(LIST).text, "Chrome")
    assert ">2020/03/17 13:54<" in row
    assert ">2020/06/15 09:13<" in row


def test_a_registered_key_is_masked_but_for_its_last_two_characters(
    admin_client_a, key_a, register_key
):
    value = key_a.key
    register_key(key_a)
    page = admin_client_a.get(LIST).text
    assert value not in page
    assert f"******{value[-2:]}" in row_of(page, "Chrome")


@pytest.mark.parametrize(
    ("status", "label", "offers", "hides"),
    [
        (Status.ACTIVE, "利用中", ["停止", "再発行", "削除"], ["停止解除"]),
        (Status.STOPPED, "利用停止", ["停止解除", "再発行", "削除"], [">停止<"]),
        (Status.INVALID, "無効", ["再発行", "削除"], [">停止<", "停止解除"]),
    ],
)
def test_each_status_is_named_in_words_and_offers_its_actions(
    admin_client_a, key_a, status, label, offers, hides
):
    DeviceKey.objects.filter(pk=key_a.pk).update(status=status)
    row = row_of(admin_client_a.get(LIST).text, "Chrome")
    status_cell = re.search(r'<span class="status status-\w+">.*?</td>', row, re.S).group(0)
    assert label in status_cell  # a word, not a colour alone
    for action in offers:
        assert action in row
    for action in hides:
        assert action not in row


def test_the_list_is_never_cached(admin_client_a, key_a):
    for page_url in [LIST, ISSUE, url("key-rename", key_a), url("key-delete", key_a)]:
        response = admin_client_a.get(page_url)
        assert "no-store" in response.headers["Cache-Control"], page_url


def test_no_key_appears_in_a_link_or_form_address(admin_client_a, users_a, issue_key):
    keys = [issue_key(users_a[0]).key for _ in range(5)]
    page = admin_client_a.get(LIST).text
    addresses = re.findall(r'(?:href|action)="([^"]*)"', page)
    assert addresses
    for key in keys:
        assert key in page
        assert not any(key in address for address in addresses)


def test_device_names_are_shown_escaped(admin_client_a, users_a, issue_key):
    issue_key(users_a[0], device_name="<b>PC</b>")
    page = admin_client_a.get(LIST).text
    assert "&lt;b&gt;PC&lt;/b&gt;" in page
    assert "<b>PC</b>" not in page


@pytest.mark.parametrize("count", [3, 60])
def test_the_list_costs_the_same_few_queries_whatever_the_rows(
    admin_client_a, users_a, issue_key, fill_keys, django_assert_max_num_queries, count
):
    fill_keys(users_a[0], count - 2)
    register = issue_key(users_a[1])
    services.device_key_register(contract=register.contract, key=register, actor=register.user)
    issue_key(users_a[1])
    with django_assert_max_num_queries(10):
        response = admin_client_a.get(LIST)
    assert response.status_code == 200
    with django_assert_max_num_queries(10):
        admin_client_a.get(LIST, {"login_id": "taro-a", "status": "active", "sort": "registered"})


def test_filter_by_login_id_and_status(admin_client_a, users_a, issue_key):
    taro, hana = users_a
    issue_key(taro, device_name="taro-pc")
    stopped = issue_key(taro, device_name="taro-phone")
    services.device_key_stop(contract=taro.contract, key=stopped, actor=SETUP)
    issue_key(hana, device_name="hana-pc")

    page = admin_client_a.get(LIST, {"login_id": "TARO"}).text
    assert {"taro-pc", "taro-phone"} == set(re.findall(r"data-device-name>([^<]+)<", page))

    page = admin_client_a.get(LIST, {"login_id": "taro-a", "status": "stopped"}).text
    assert re.findall(r"data-device-name>([^<]+)<", page) == ["taro-phone"]

    page = admin_client_a.get(LIST, {"status": "invalid"}).text
    assert "条件に一致する端末認証キーはありません。" in page


def test_sort_by_created_and_registered(admin_client_a, users_a, issue_key, register_key):
    names = ["first", "second", "third"]
    keys = [issue_key(users_a[0], device_name=name) for name in names]
    for day, key in enumerate(keys, start=1):
        DeviceKey.objects.filter(pk=key.pk).update(created_at=datetime(2024, 1, day, tzinfo=UTC))
    register_key(keys[2])
    register_key(keys[0])

    def order(sort):
        page = admin_client_a.get(LIST, {"sort": sort}).text
        return re.findall(r"data-device-name>([^<]+)<", page)

    assert order("created") == ["first", "second", "third"]
    assert order("-created") == ["third", "second", "first"]
    assert order("") == ["third", "second", "first"]  # newest first by default
    assert order("registered") == ["third", "first", "second"]  # unregistered last
    assert order("-registered") == ["first", "third", "second"]


def test_pagination_keeps_the_filters(admin_client_a, users_a, fill_keys):
    fill_keys(users_a[0], 55)
    first = admin_client_a.get(LIST, {"login_id": "taro"}).text
    assert len(rows(first)) == 50
    assert "?login_id=taro&amp;page=2" in first
    second = admin_client_a.get(LIST, {"login_id": "taro", "page": 2}).text
    assert len(rows(second)) == 5


@pytest.mark.parametrize(
    "query",
    [{"status": "lost"}, {"sort": "key"}, {"page": "abc"}, {"page": "99"}, {"login_id": "x" * 500}],
)
def test_odd_filter_values_are_ignored_not_an_error(admin_client_a, key_a, query):
    assert admin_client_a.get(LIST, query).status_code == 200


def test_empty_list_says_how_to_start(admin_client_a):
    assert "「端末認証キー新規発行」から発行してください" in admin_client_a.get(LIST).text


# --- 新規発行 --------------------------------------------------------------------------


def test_issue_page_lists_login_ids_with_mail_addresses(admin_client_a, users_a, users_b):
    page = admin_client_a.get(ISSUE).text
    assert "taro-a" in page and "taro-a@example.jp" in page
    assert "hana-a" in page and "hana-a@example.jp" in page
    assert "jiro-b" not in page
    assert ">admin-a<" not in page
    assert "発行する" in page


def test_issue_page_is_searchable(admin_client_a, contract_a, make_user):
    for n in range(12):
        make_user(contract_a, f"staff-{n:02d}")
    make_user(contract_a, "keiri-yamada", email="yamada@keiri.example.jp")
    page = admin_client_a.get(ISSUE).text
    assert 'name="q"' in page
    found = admin_client_a.get(ISSUE, {"q": "KEIRI"}).text
    assert "keiri-yamada" in found
    assert "staff-00" not in found


def test_issuing_a_key_shows_it_on_its_own_page_mails_it_and_lists_it(
    admin_client_a, users_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_a.post(ISSUE, {"user": users_a[1].pk, "device_name": "iPhone"})
    key = DeviceKey.objects.get()
    assert response.status_code == 302
    assert response.url == url("key-issued", key)
    assert key.user == users_a[1]
    assert mailoutbox[0].to == ["hana-a@example.jp"]
    assert key.key in mailoutbox[0].body

    shown = admin_client_a.get(response.url)
    page = shown.text
    assert "no-store" in shown.headers["Cache-Control"]
    assert f'<code class="issued-key-value" id="issued-key">{key.key}</code>' in page
    assert 'data-copy="issued-key"' in page and static("js/copy-key.js") in page
    assert (
        "hana-a の端末認証キーを発行し、メールアドレス（hana-a@example.jp）宛に通知しました" in page
    )
    assert "このあと利用者が行うこと" in page
    assert "画面の案内に従ってこの端末認証キーを入力します" in page
    assert f"{ISSUE}?login_id=hana-a" in page  # another key for the same login ID
    assert key.key in row_of(admin_client_a.get(LIST).text, "iPhone")


def test_the_issued_page_masks_the_key_once_a_device_registered_it(
    admin_client_a, key_a, register_key
):
    value = key_a.key
    register_key(key_a)
    page = admin_client_a.get(url("key-issued", key_a)).text
    assert value not in page
    assert "******" + value[-2:] in page
    assert "この端末認証キーは端末で登録済みです。" in page
    assert "data-copy=" not in page


def test_the_issued_page_of_another_contracts_key_is_not_found(admin_client_a, key_b):
    response = admin_client_a.get(url("key-issued", key_b))
    assert response.status_code == 404
    assert key_b.key not in response.text


def test_issuing_without_a_name_gives_a_default_one_and_says_which(admin_client_a, users_a):
    response = admin_client_a.post(ISSUE, {"user": users_a[0].pk, "device_name": "  "})
    assert DeviceKey.objects.get().device_name == "端末-1"
    page = admin_client_a.get(response.url).text
    assert "端末名を入力しなかったため「端末-1」としました。" in page


def test_the_issue_form_asks_for_a_name_and_names_the_default_it_would_give(
    admin_client_a, users_a, issue_key
):
    issue_key(users_a[0], device_name="PC")
    issue_key(users_a[0], device_name="Phone")
    page = admin_client_a.get(ISSUE).text
    assert "端末を見分けられる名前を入力してください" in page
    assert "省略すると「端末-3」とし" in page
    assert 'placeholder="端末-3"' in page


def test_the_issue_form_names_the_default_in_english_too(admin_client_a, users_a):
    page = admin_client_a.get(ISSUE, headers={"accept-language": "en"}).text
    assert "“端末-1”" in page
    assert "端末-number" not in page and "番号" not in page


def row_of_login_id(page: str, login_id: str) -> str:
    [row] = [r for r in re.findall(r"<tr>.*?</tr>", page, re.S) if f">{login_id}</label>" in r]
    return row


def radios(page: str) -> list[str]:
    return re.findall(r'<input type="radio" name="user"[^>]*>', page)


def test_a_link_with_a_login_id_opens_the_issue_page_with_it_chosen(admin_client_a, users_a):
    page = admin_client_a.get(ISSUE, {"login_id": "HANA-A"}).text
    assert "checked" in row_of_login_id(page, "hana-a")
    assert "checked" not in row_of_login_id(page, "taro-a")
    assert "この契約の利用者IDにありません" not in page


@pytest.mark.parametrize("login_id", ["jiro-b", "admin-a", "nobody", "<b>x</b>"])
def test_a_login_id_of_no_user_of_the_contract_is_not_chosen_and_the_page_says_so(
    admin_client_a, users_a, users_b, login_id
):
    response = admin_client_a.get(ISSUE, {"login_id": login_id})
    page = response.text
    assert response.status_code == 200
    assert f"ログインID「{html.escape(login_id)}」はこの契約の利用者IDにありません。" in page
    assert not any("checked" in radio for radio in radios(page))
    assert "jiro-b@example.jp" not in page and "<b>x</b>" not in page


def test_the_picker_shows_the_first_50_and_asks_to_narrow_them(
    admin_client_a, contract_a, fill_contract, make_user
):
    fill_contract(contract_a, 120)
    last = make_user(contract_a, "zz-last", email="last@keiri.example.jp")
    page = admin_client_a.get(ISSUE).text
    assert len(radios(page)) == 50
    assert "最初の50件を表示しています。ログインIDかメールアドレスで絞り込んでください。" in page
    assert "zz-last" not in page

    chosen = admin_client_a.get(ISSUE, {"login_id": "zz-last"}).text
    assert len(radios(chosen)) == 51
    assert "checked" in row_of_login_id(chosen, "zz-last")

    found = admin_client_a.get(ISSUE, {"q": "KEIRI"}).text
    assert [f'value="{last.pk}"' in radio for radio in radios(found)] == [True]
    assert "絞り込んでください" not in found


def test_a_search_keeps_the_chosen_login_id_in_the_list(admin_client_a, users_a):
    page = admin_client_a.get(ISSUE, {"login_id": "taro-a", "q": "hana"}).text
    assert "checked" in row_of_login_id(page, "taro-a")
    assert "hana-a" in page
    # without JavaScript, the search form sends the chosen login ID along
    assert '<input type="hidden" name="login_id" value="taro-a">' in page


def test_the_picker_searches_as_one_types_with_a_script_of_its_own(admin_client_a, users_a):
    page = admin_client_a.get(ISSUE).text
    assert static("js/key-issue-picker.js") in page
    assert "<script>" not in page  # nothing inline: the CSP allows none
    script = Path(settings.BASE_DIR, "static/js/key-issue-picker.js").read_text()
    assert "[data-picker-results]" in script and "data-picker-results" in page


def test_an_over_long_search_is_a_field_message_not_an_error(admin_client_a, users_a):
    response = admin_client_a.get(ISSUE, {"q": "x" * 300, "login_id": "y" * 61})
    assert response.status_code == 200
    assert "この値は 254 文字以下でなければなりません" in response.text
    assert len(radios(response.text)) == 2


def test_an_issue_sent_without_a_login_id_keeps_the_one_the_link_named_in_the_list(
    admin_client_a, users_a
):
    response = admin_client_a.post(f"{ISSUE}?login_id=hana-a", {"device_name": "PC"})
    assert "端末を利用するログインIDを選択してください。" in response.text
    assert "この契約の利用者IDにありません" not in response.text
    assert "hana-a" in row_of_login_id(response.text, "hana-a")
    assert not DeviceKey.objects.exists()


def test_a_refused_issue_keeps_the_chosen_login_id_in_the_list(
    admin_client_a, contract_a, fill_contract, make_user
):
    fill_contract(contract_a, 60)
    last = make_user(contract_a, "zz-last")
    response = admin_client_a.post(ISSUE, {"user": last.pk, "device_name": "x" * 33})
    assert response.status_code == 200
    assert "checked" in row_of_login_id(response.text, "zz-last")
    assert not DeviceKey.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "端末を利用するログインIDを選択してください。"),
        ({"user": "999999"}, "選択したログインIDが見つかりません。"),
        ({"user": "abc"}, "選択したログインIDが見つかりません。"),
        ({"user": "USER_OF_B"}, "選択したログインIDが見つかりません。"),
        ({"user": "ADMIN"}, "選択したログインIDが見つかりません。"),
        ({"user": "TARO", "device_name": "x" * 33}, "端末名は32文字以内で入力してください"),
    ],
)
def test_bad_issue_input_is_a_field_message_and_issues_nothing(
    admin_client_a, admin_a, users_a, users_b, data, message
):
    ids = {"USER_OF_B": users_b[0].pk, "ADMIN": admin_a.pk, "TARO": users_a[0].pk}
    data = {name: ids.get(value, value) for name, value in data.items()}
    response = admin_client_a.post(ISSUE, data)
    assert response.status_code == 200
    assert message in response.text
    assert 'class="field-errors"' in response.text
    assert not DeviceKey.objects.exists()


def test_at_999_keys_the_screens_say_to_delete_one_first(admin_client_a, users_a, fill_keys):
    fill_keys(users_a[0], 999)
    limit = "追加で作成するには、不要な端末認証キーを削除してください。"
    listing = admin_client_a.get(LIST).text
    assert limit in listing
    assert f'href="{ISSUE}"' not in listing
    assert limit in admin_client_a.get(ISSUE).text
    response = admin_client_a.post(ISSUE, {"user": users_a[1].pk})
    assert response.status_code == 200
    assert limit in response.text
    assert DeviceKey.objects.count() == 999


def test_issue_without_user_ids_explains_what_to_do(admin_client_a):
    assert (
        "先にメニューの「利用者ID管理」から利用者IDを作成してください"
        in admin_client_a.get(ISSUE).text
    )


# --- 端末名変更 ------------------------------------------------------------------------


def test_rename_without_javascript(admin_client_a, key_a):
    back = f"{LIST}?login_id=taro"
    form = admin_client_a.get(url("key-rename", key_a), {"next": back}).text
    assert 'value="Chrome"' in form
    assert f'value="{back}"' in form
    response = admin_client_a.post(
        url("key-rename", key_a), {"device_name": " Chrome-16 ", "next": back}
    )
    assert response.status_code == 302
    assert response.url == back
    key_a.refresh_from_db()
    assert key_a.device_name == "Chrome-16"
    page = admin_client_a.get(LIST).text
    assert "端末名を「Chrome-16」に変更しました。" in messages_of(page)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "端末名を入力してください。"),
        ("   ", "端末名を入力してください。"),
        ("x" * 33, "端末名は32文字以内で入力してください（現在33文字）。"),
    ],
)
def test_rename_form_shows_a_field_message_for_a_bad_name(admin_client_a, key_a, name, message):
    response = admin_client_a.post(url("key-rename", key_a), {"device_name": name})
    assert response.status_code == 200
    assert message in response.text
    key_a.refresh_from_db()
    assert key_a.device_name == "Chrome"


def test_the_list_loads_the_in_place_editor_as_a_static_file(admin_client_a, key_a):
    page = admin_client_a.get(LIST).text
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert static("js/device-key-rename.js") in scripts
    assert (Path(settings.BASE_DIR) / "static/js/device-key-rename.js").is_file()
    assert "<script>" not in page and " onclick=" not in page
    assert f'href="{url("key-rename", key_a)}?next=' in row_of(page, "Chrome")


def test_rename_in_place_as_the_script_does_it(db, admin_a, key_a):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_a)
    page = browser.get(LIST).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    json = {"HTTP_ACCEPT": "application/json"}

    refused = browser.post(url("key-rename", key_a), {"device_name": "x"}, **json)
    assert refused.status_code == 403  # no CSRF token, no change

    nothing = browser.post(url("key-rename", key_a), {"csrfmiddlewaretoken": token}, **json)
    assert nothing.status_code == 400

    bad = browser.post(
        url("key-rename", key_a), {"device_name": "", "csrfmiddlewaretoken": token}, **json
    )
    assert bad.status_code == 400
    assert bad.json() == {"errors": ["端末名を入力してください。"]}

    good = browser.post(
        url("key-rename", key_a), {"device_name": "経理のPC", "csrfmiddlewaretoken": token}, **json
    )
    assert good.status_code == 200
    assert good.json() == {
        "device_name": "経理のPC",
        "message": "端末名を「経理のPC」に変更しました。",
    }
    key_a.refresh_from_db()
    assert key_a.device_name == "経理のPC"


# --- 再発行, 停止, 停止解除 --------------------------------------------------------------


def test_reissue_shows_the_new_key_and_mails_it(
    admin_client_a, key_a, register_key, mailoutbox, django_capture_on_commit_callbacks
):
    register_key(key_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_a.post(url("key-reissue", key_a), {"next": f"{LIST}?page=1"})
    assert response.url == f"{LIST}?page=1"
    key_a.refresh_from_db()
    page = admin_client_a.get(LIST).text
    row = row_of(page, "Chrome")
    assert key_a.key in row
    assert "未登録" in row
    assert "再発行し、taro-a のメールアドレスに通知しました" in messages_of(page)
    assert [mail.to for mail in mailoutbox] == [["taro-a@example.jp"]]
    assert key_a.key in mailoutbox[0].body


def test_stop_then_unstop_from_the_list_without_mail(
    admin_client_a, key_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_a.post(url("key-stop", key_a))
    page = admin_client_a.get(LIST).text
    assert "利用停止" in row_of(page, "Chrome")
    assert "停止しました" in messages_of(page)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client_a.post(url("key-unstop", key_a))
    page = admin_client_a.get(LIST).text
    assert "利用中" in row_of(page, "Chrome")
    assert "停止を解除しました" in messages_of(page)
    assert mailoutbox == []


def test_a_row_action_is_a_link_to_its_confirmation_that_comes_back_to_the_same_page(
    db, admin_a, key_a, users_a, issue_key
):
    """The 停止 link of a row opens the confirmation; its form, submitted with the fields
    the page gave it (the CSRF token enforced), stops that key and comes back to the
    same list page."""
    for n in range(55):
        issue_key(users_a[1], device_name=f"pc-{n:02d}")
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(admin_a)
    listed = f"{LIST}?sort=created&page=1"
    row = row_of(admin.get(listed).text, "Chrome")
    assert "<form" not in row  # nothing in a row changes anything by itself
    [link] = re.findall(rf'<a href="({re.escape(url("key-stop", key_a))}[^"]*)"', row)

    confirmation = admin.get(html.unescape(link))
    assert confirmation.status_code == 200
    form = re.search(
        r'<form method="post" action="([^"]+)" class="card form-card">(.*?)</form>',
        confirmation.text,
        re.S,
    )
    assert form.group(1) == url("key-stop", key_a)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form[2]))
    assert set(fields) == {"csrfmiddlewaretoken", "next"}
    key_a.refresh_from_db()
    assert key_a.status == Status.ACTIVE

    response = admin.post(form.group(1), {k: html.unescape(v) for k, v in fields.items()})
    assert response.status_code == 302
    assert response.url == listed
    key_a.refresh_from_db()
    assert key_a.status == Status.STOPPED


def test_a_post_from_elsewhere_is_refused_by_csrf(db, admin_a, key_a):
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(admin_a)
    assert admin.post(url("key-reissue", key_a)).status_code == 403
    key_a.refresh_from_db()
    assert key_a.status == Status.ACTIVE and key_a.key == DeviceKey.objects.get().key


# action -> (heading, button, what the page says the user loses: registered key, waiting key)
CONFIRMATIONS = {
    "key-reissue": (
        "端末認証キーの再発行確認",
        "再発行する",
        "このキーを登録した端末からはご利用できなくなります。"
        "新しい端末認証キーをその端末で入力するまで、ログインできません。",
        "メールで通知した今の端末認証キーは使えなくなります。",
    ),
    "key-stop": (
        "端末認証キーの停止確認",
        "停止する",
        "このキーを登録した端末（ブラウザやアプリ）からはご利用できなくなります。",
        "このキーは端末で登録できなくなります。",
    ),
    "key-unstop": (
        "端末認証キーの停止解除確認",
        "停止を解除する",
        "このキーを登録した端末から再びご利用できるようになります。",
        "このキーを端末で登録できるようになります。",
    ),
    "key-delete": (
        "端末認証キーの削除確認",
        "削除する",
        "端末認証キーを削除すると登録した端末からご利用できなくなります。",
        "端末認証キーを削除すると登録した端末からご利用できなくなります。",
    ),
}
QUESTIONS = {
    "key-reissue": "「Chrome」（taro-a）の端末認証キーを再発行してよろしいですか？",
    "key-stop": "「Chrome」（taro-a）の端末認証キーを停止してよろしいですか？",
    "key-unstop": "「Chrome」（taro-a）の端末認証キーの停止を解除してよろしいですか？",
    "key-delete": "「Chrome」（taro-a）の端末認証キーを削除してよろしいですか？",
}


def state_of_everything() -> dict:
    """What a confirmation page must leave as it is: keys, app sign-ins and their
    tokens, sessions, ログ管理 and the mail outbox."""
    return {
        "keys": list(DeviceKey.objects.values().order_by("pk")),
        "apps": list(AppRegistration.objects.values().order_by("pk")),
        "tokens": list(AppToken.objects.values().order_by("pk")),
        "sessions": sorted(Session.objects.values_list("session_key", flat=True)),
        "log": AuditEntry.objects.count(),
        "mail": Notification.objects.count(),
    }


@pytest.mark.parametrize("action", list(CONFIRMATIONS))
@pytest.mark.parametrize("registered", [True, False], ids=["registered", "waiting"])
def test_each_confirmation_names_the_device_and_what_is_lost_and_changes_nothing(
    admin_client_a, key_a, register_key, action, registered, mailoutbox
):
    if registered:
        register_key(key_a)
    if action == "key-unstop":
        services.device_key_stop(contract=key_a.contract, key=key_a, actor=SETUP)
    before = state_of_everything()

    response = admin_client_a.get(url(action, key_a), {"next": f"{LIST}?page=1"})

    page = response.text
    heading, button, lost_registered, lost_waiting = CONFIRMATIONS[action]
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert f"<h1>{heading}</h1>" in page
    assert QUESTIONS[action] in page
    assert (lost_registered if registered else lost_waiting) in page
    assert re.search(r"<dt>ログインID</dt><dd>taro-a</dd>", page)
    assert re.search(rf'<button type="submit" class="[^"]*">{button}</button>', page)
    assert f'<a href="{LIST}?page=1" class="button">戻る</a>' in page
    assert f'name="next" value="{LIST}?page=1"' in page
    assert state_of_everything() == before
    assert mailoutbox == []


def test_the_reissue_confirmation_says_where_the_new_key_goes(admin_client_a, key_a):
    page = admin_client_a.get(url("key-reissue", key_a)).text
    assert (
        "新しい端末認証キーは taro-a のメールアドレス（taro-a@example.jp）に通知されます。" in page
    )


def test_the_stop_confirmation_says_no_mail_goes(admin_client_a, key_a):
    assert "利用者へのメール通知はありません。" in admin_client_a.get(url("key-stop", key_a)).text


def test_the_confirmation_page_shows_device_names_escaped(admin_client_a, users_a, issue_key):
    key = issue_key(users_a[0], device_name="<b>PC</b>")
    page = admin_client_a.get(url("key-reissue", key)).text
    assert "「&lt;b&gt;PC&lt;/b&gt;」（taro-a）" in page
    assert "<b>PC</b>" not in page


def test_a_signed_in_device_keeps_working_until_the_stop_is_confirmed(
    admin_client_a, users_a, key_a
):
    chrome = browser()
    sign_in(chrome, "taro-a")
    assert enter_key(chrome, key_a.key).url == HOME

    admin_client_a.get(url("key-stop", key_a))
    assert chrome.get(HOME).status_code == 200

    admin_client_a.post(url("key-stop", key_a))
    refused = chrome.get(HOME)
    assert refused.status_code == 403
    assert "管理者によって利用停止にされました" in refused.text


@pytest.mark.parametrize("action", ["key-stop", "key-unstop"])
def test_an_invalid_key_cannot_be_stopped_or_unstopped_and_says_why(admin_client_a, key_a, action):
    DeviceKey.objects.filter(pk=key_a.pk).update(status=Status.INVALID)
    for method in ("get", "post"):
        response = getattr(admin_client_a, method)(url(action, key_a))
        assert response.status_code == 302
        assert response.url == LIST
        page = admin_client_a.get(LIST).text
        assert "無効になった端末認証キーは再発行してください。" in messages_of(page)
    key_a.refresh_from_db()
    assert key_a.status == Status.INVALID


def test_actions_return_only_to_the_list(admin_client_a, key_a):
    response = admin_client_a.post(url("key-stop", key_a), {"next": "https://evil.example/"})
    assert response.url == LIST
    page = admin_client_a.get(url("key-unstop", key_a), {"next": "https://evil.example/"}).text
    assert f'<input type="hidden" name="next" value="{LIST}">' in page
    assert f'<a href="{LIST}" class="button">戻る</a>' in page


# --- 削除 ------------------------------------------------------------------------------


def test_delete_confirmation_shows_the_key_and_the_guides_warning(admin_client_a, key_a):
    page = admin_client_a.get(url("key-delete", key_a)).text
    assert "端末認証キーの削除確認" in page
    assert "「Chrome」（taro-a）の端末認証キーを削除してよろしいですか？" in page
    assert "端末認証キーを削除すると登録した端末からご利用できなくなります。" in page
    assert "削除した端末認証キーはもとに戻せません。" in page
    for label, value in [
        ("端末名", "Chrome"),
        ("ステータス", "利用中"),
        ("端末認証キー", key_a.key),
        ("ログインID", "taro-a"),
        ("キー作成日時", f"{key_a.created_at.astimezone():%Y/%m/%d}"),
        ("キー登録日時", "未登録"),
    ]:
        assert re.search(rf"<dt>{label}</dt><dd>.*?{re.escape(value)}.*?</dd>", page, re.S), label
    assert "削除する" in page and "戻る" in page
    assert DeviceKey.objects.filter(pk=key_a.pk).exists()


def test_delete(admin_client_a, key_a):
    response = admin_client_a.post(url("key-delete", key_a))
    assert response.url == LIST
    assert not DeviceKey.objects.filter(pk=key_a.pk).exists()
    assert "削除しました" in messages_of(admin_client_a.get(LIST).text)


# --- 「このログインIDの全キーを停止」 ---------------------------------------------------


def test_stop_every_key_of_one_login_id(admin_client_a, users_a, issue_key):
    taro, hana = users_a
    issue_key(taro, device_name="taro-pc")
    issue_key(taro, device_name="taro-phone")
    issue_key(hana, device_name="hana-pc")

    listing = admin_client_a.get(LIST, {"login_id": "taro-a"}).text
    stop_all = reverse("devicekeys:user-keys-stop", args=[taro.pk])
    assert f'href="{stop_all}"' in listing
    assert "このログインIDの全キーを停止" in listing

    confirm = admin_client_a.get(stop_all).text
    assert "利用中の端末認証キー2件をすべて停止します" in confirm
    assert "停止した端末認証キーを登録した端末からはご利用できなくなります。" in confirm
    assert "利用者へのメール通知はありません。" in confirm
    assert "taro-pc" in confirm and "hana-pc" not in confirm
    assert set(DeviceKey.objects.values_list("status", flat=True)) == {"active"}

    response = admin_client_a.post(stop_all)
    assert response.url == f"{LIST}?login_id=taro-a"
    statuses = dict(DeviceKey.objects.values_list("device_name", "status"))
    assert statuses == {"taro-pc": "stopped", "taro-phone": "stopped", "hana-pc": "active"}
    assert "taro-a の端末認証キーを2件停止しました。" in messages_of(
        admin_client_a.get(response.url).text
    )


def test_the_stop_all_button_needs_one_exact_login_id(admin_client_a, key_a):
    assert "このログインIDの全キーを停止" not in admin_client_a.get(LIST, {"login_id": "a"}).text
    assert "このログインIDの全キーを停止" not in admin_client_a.get(LIST).text


# --- The contract boundary ------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "method"),
    [(action, method) for action in KEY_ACTIONS for method in ("get", "post")],
)
def test_another_contracts_key_is_404_and_unchanged(admin_client_a, key_b, action, method):
    before = DeviceKey.objects.values().get(pk=key_b.pk)
    response = getattr(admin_client_a, method)(url(action, key_b), {"device_name": "stolen"})
    assert response.status_code == 404
    assert key_b.key not in response.text
    assert DeviceKey.objects.values().get(pk=key_b.pk) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_contracts_user_is_404_and_unchanged(admin_client_a, admin_a, key_b, method):
    for user in (key_b.user, admin_a):
        target = reverse("devicekeys:user-keys-stop", args=[user.pk])
        assert getattr(admin_client_a, method)(target).status_code == 404
    key_b.refresh_from_db()
    assert key_b.status == Status.ACTIVE


def test_a_missing_key_is_the_same_404(admin_client_a):
    assert admin_client_a.post(reverse("devicekeys:key-stop", args=[999999])).status_code == 404


def test_the_other_administrator_sees_only_their_keys(client, admin_b, key_a, key_b):
    client.force_login(admin_b)
    page = client.get(LIST).text
    assert "Chrome-B" in page
    assert key_a.key not in page and ">Chrome<" not in page


@pytest.mark.parametrize(
    "target",
    [
        LIST,
        ISSUE,
        *(f"devicekeys:{action}" for action in KEY_ACTIONS),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_user_id_gets_403_and_a_visitor_the_sign_in_page(key_a, users_a, target, method):
    address = reverse(target, args=[key_a.pk]) if target.startswith("devicekeys:") else target
    before = state_of_everything()["keys"]
    assert getattr(Client(), method)(address).status_code == 302
    user_id = Client()
    user_id.force_login(users_a[0])
    assert getattr(user_id, method)(address).status_code in {403, 405}
    assert state_of_everything()["keys"] == before


def test_the_limit_constant_is_the_guides(db):
    assert rules.KEY_LIMIT == 999


# --- 詳細 and 最終利用日時 --------------------------------------------------------------------


def test_the_list_shows_the_last_use_and_links_to_the_detail(admin_client_a, key_a, register_key):
    register_key(key_a)
    DeviceKey.objects.filter(pk=key_a.pk).update(
        last_used_at=datetime(2026, 4, 1, 1, 5, tzinfo=UTC)
    )
    page = admin_client_a.get(LIST).text
    assert "最終利用日時</th>" in page
    row = row_of(page, "Chrome")
    assert ">2026/04/01 10:05<" in row
    assert f'href="{url("key-detail", key_a)}?next=' in row


def test_the_detail_shows_the_last_use(admin_client_a, key_a, register_key):
    register_key(key_a)
    DeviceKey.objects.filter(pk=key_a.pk).update(
        last_ip="198.51.100.7", last_user_agent="Mozilla/5.0 <script>Firefox/132.0"
    )
    response = admin_client_a.get(url("key-detail", key_a))
    page = response.text
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    for expected in ["最終利用日時", "198.51.100.7", "&lt;script&gt;Firefox/132.0", "キー登録日時"]:
        assert expected in page
    assert "<script>Firefox" not in page


def test_another_contracts_key_detail_is_404(admin_client_a, key_b):
    assert admin_client_a.get(url("key-detail", key_b)).status_code == 404
    assert admin_client_a.get(reverse("devicekeys:key-detail", args=[999_999])).status_code == 404


def test_the_detail_is_read_only(admin_client_a, key_a, key_b):
    assert admin_client_a.post(url("key-detail", key_a)).status_code == 405
    assert admin_client_a.post(url("key-detail", key_b)).status_code == 404


@pytest.mark.parametrize("action", ["key-reissue", "key-stop", "key-delete"])
def test_a_key_deleted_while_the_view_runs_is_a_404_and_nothing_else_changes(
    admin_client_a, key_a, action, monkeypatch
):
    """Another administrator's 削除 lands between the view's lookup and its service: the
    service finds no row (DeviceKeyNotFound) and the browser gets the 404 page."""
    from devicekeys import views

    looked_up = views.access_device_key

    def lookup_then_lose_the_row(contract, pk):
        key = looked_up(contract, pk)
        DeviceKey.objects.filter(pk=pk).delete()
        return key

    monkeypatch.setattr(views, "access_device_key", lookup_then_lose_the_row)
    response = admin_client_a.post(reverse(f"devicekeys:{action}", args=[key_a.pk]))
    assert response.status_code == 404
    assert not DeviceKey.objects.exists()

"""利用者ID管理 screens through the Django test client."""

import contextlib
import re
from functools import partial

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Contract, Role, User
from api.registrations import app_registration_create
from devicekeys import services as keys
from devicekeys.models import DeviceKey
from tests.conftest import PASSWORD, SETUP
from tests.devicekeys.browser import HOME, signed_in_user
from tests.parallel import at_the_same_moment, on_postgresql

LIST = reverse("accounts:user-list")
CREATE = reverse("accounts:user-create")


def entry(**overrides):
    data = {
        "login_id": "sato01",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "email": "sato@example.jp",
        "email_confirm": "sato@example.jp",
        "display_name": "佐藤 花子",
        "title": "",
        "department": "営業本部",
        "phone": "03-1234-5678",
        "notify_user": "on",
    }
    data.update(overrides)
    return data


class TestList:
    def test_lists_own_user_ids_with_count_and_buttons(self, admin_client_a, users_a, users_b):
        page = admin_client_a.get(LIST).text
        assert "taro-a" in page and "hana-a" in page
        assert "jiro-b" not in page
        assert "admin-a</th>" not in page  # the administrator is not a row
        assert "<strong>2</strong> / 999" in page
        assert "利用者ID新規作成" in page and "CSVインポート" in page
        assert page.count(">編集<") == 2 and page.count(">削除<") == 2

    @pytest.mark.parametrize("query", ["TARO", "taro-a@example", "佐藤"])
    def test_search_by_login_id_email_or_display_name(
        self, admin_client_a, contract_a, make_user, query
    ):
        make_user(contract_a, "taro-a", display_name="佐藤 太郎")
        make_user(contract_a, "hana-a")
        page = admin_client_a.get(LIST, {"q": query}).text
        assert "taro-a" in page
        assert "hana-a" not in page

    def test_sort_by_login_id_descending(self, admin_client_a, users_a):
        page = admin_client_a.get(LIST, {"sort": "-login_id"}).text
        assert page.index("taro-a") < page.index("hana-a")

    def test_unknown_sort_falls_back_instead_of_failing(self, admin_client_a, users_a):
        assert admin_client_a.get(LIST, {"sort": "password"}).status_code == 200

    def test_fifty_a_page_and_the_search_is_kept_across_pages(self, admin_client_a, contract_a):
        User.objects.bulk_create(
            User(login_id=f"user-{i:03d}", email=f"u{i}@example.jp", contract=contract_a)
            for i in range(120)
        )
        first = admin_client_a.get(LIST, {"q": "user-"}).text
        assert "user-049" in first and "user-050" not in first
        assert "?q=user-&amp;page=2" in first
        third = admin_client_a.get(LIST, {"q": "user-", "page": 3}).text
        assert "user-119" in third and "user-099" not in third
        assert admin_client_a.get(LIST, {"page": "junk"}).text.count(">編集<") == 50

    def test_list_queries_do_not_grow_with_rows(
        self, admin_client_a, contract_a, django_assert_max_num_queries
    ):
        User.objects.bulk_create(
            User(login_id=f"user-{i:03d}", email=f"u{i}@example.jp", contract=contract_a)
            for i in range(200)
        )
        admin_client_a.get(LIST)  # the sign-in's first page (twostep looks up its devices)
        with django_assert_max_num_queries(8):
            assert admin_client_a.get(LIST).status_code == 200

    def test_full_contract_disables_creation(self, admin_client_a, contract_a):
        User.objects.bulk_create(
            User(login_id=f"user-{i:04d}", email=f"u{i}@example.jp", contract=contract_a)
            for i in range(Contract.USER_LIMIT)
        )
        page = admin_client_a.get(LIST).text
        assert "<strong>999</strong> / 999" in page
        assert f'href="{CREATE}"' not in page
        assert "999個まで" in page

    def test_user_list_is_in_the_menu(self, admin_client_a):
        assert f'href="{LIST}"' in admin_client_a.get(reverse("accounts:console")).text


class TestCreateFlow:
    def test_input_confirm_create_done(
        self, admin_client_a, contract_a, mailoutbox, django_capture_on_commit_callbacks
    ):
        page = admin_client_a.get(CREATE).text
        assert "パスワードルールについて" in page
        assert "checked" in page  # 通知 is ticked by default

        confirm = admin_client_a.post(CREATE, entry(next="1"))
        assert confirm.status_code == 200
        body = confirm.text
        assert "作成する" in body and "佐藤 花子" in body
        assert PASSWORD not in body.replace(f'value="{PASSWORD}"', "")  # only in hidden fields
        assert not User.objects.filter(login_id="sato01").exists()

        with django_capture_on_commit_callbacks(execute=True):
            done = admin_client_a.post(CREATE, entry(create="1"))
        user = User.objects.get(login_id="sato01")
        assert done.url == reverse("accounts:user-created", args=[user.pk])
        assert user.contract == contract_a and user.role == Role.USER
        assert "利用者ID「sato01」を作成しました。" in admin_client_a.get(done.url).text
        assert [m.to for m in mailoutbox] == [["sato@example.jp"]]

    def test_back_keeps_the_values_except_the_passwords(self, admin_client_a):
        response = admin_client_a.post(CREATE, entry(back="1"))
        page = response.text
        assert 'value="sato01"' in page
        assert 'value="佐藤 花子"' in page
        assert PASSWORD not in page
        assert "入力内容に誤りがあります" not in page
        assert not User.objects.filter(login_id="sato01").exists()

    def test_a_rejected_password_is_named_next_to_the_field(self, admin_client_a):
        response = admin_client_a.post(
            CREATE, entry(next="1", password="Xq1234ab", password_confirm="Xq1234ab")
        )
        page = response.text
        assert response.status_code == 200
        assert "連続した文字を4つ以上" in page
        assert 'id="id_password_error"' in page
        assert "Xq1234ab" not in page  # never rendered back

    @pytest.mark.parametrize(
        "overrides, field, message",
        [
            ({"password_confirm": "Other7Pass9"}, "password_confirm", "パスワードが一致しません"),
            (
                {"email_confirm": "other@example.jp"},
                "email_confirm",
                "メールアドレスが一致しません",
            ),
            ({"login_id": "ab"}, "login_id", "4～60文字"),
            ({"login_id": "taro-a"}, "login_id", "既に使用されています"),
            ({"login_id": "<script>x"}, "login_id", "半角英数字"),
            ({"phone": "03(1234)5678"}, "phone", "半角数字と記号"),
            ({"display_name": "あ" * 17}, "display_name", "16"),
            ({"email": "", "email_confirm": ""}, "email", "必須"),
        ],
    )
    def test_bad_input_gets_a_message_next_to_the_field_and_creates_nothing(
        self, admin_client_a, users_a, overrides, field, message
    ):
        response = admin_client_a.post(CREATE, entry(next="1", **overrides))
        page = response.text
        assert response.status_code == 200
        error_list = page.split(f'id="id_{field}_error"')[1].split("</ul>")[0]
        assert message in error_list
        assert User.objects.filter(role=Role.USER).count() == 2

    def test_xss_in_a_field_is_shown_escaped(self, admin_client_a):
        response = admin_client_a.post(CREATE, entry(next="1", display_name="<b>x</b>"))
        assert "<b>x</b>" not in response.text
        assert "&lt;b&gt;x&lt;/b&gt;" in response.text

    def test_login_id_taken_between_confirm_and_create_is_a_field_error(
        self, admin_client_a, contract_b, make_user
    ):
        admin_client_a.post(CREATE, entry(next="1"))
        make_user(contract_b, "SATO01")
        response = admin_client_a.post(CREATE, entry(create="1"))
        assert response.status_code == 200
        assert "既に使用されています" in response.text

    def test_the_pages_are_not_cached(self, admin_client_a):
        assert "no-store" in admin_client_a.get(CREATE).headers["Cache-Control"]

    @on_postgresql("needs parallel connections; SQLite serialises all writers")
    def test_one_login_id_created_at_once_in_two_contracts_exists_once(self, admin_a, admin_b):
        # Each contract's lock serialises its own administrators only: the two
        # 作成する meet at the case-insensitive unique index.
        browsers = []
        for admin in (admin_a, admin_b):
            browsers.append(Client())
            browsers[-1].force_login(admin)
        field_error = (
            '<ul class="field-errors" id="id_login_id_error">'
            "<li>このログインIDは既に使用されています。</li></ul>"
        )
        for n in range(8):
            login_ids = (f"race{n:02d}", f"RACE{n:02d}")
            responses = at_the_same_moment(
                *(
                    partial(browser.post, CREATE, entry(login_id=login_id, create="1"))
                    for browser, login_id in zip(browsers, login_ids, strict=True)
                )
            )
            statuses = [getattr(r, "status_code", repr(r)) for r in responses]
            assert sorted(statuses, key=str) == [200, 302]  # no 500
            assert field_error in responses[statuses.index(200)].text
            assert User.objects.filter(login_id__iexact=login_ids[0]).count() == 1

    def test_the_contract_comes_from_the_administrator_not_the_request(
        self, admin_client_a, contract_a, contract_b
    ):
        admin_client_a.post(CREATE, entry(create="1", contract=contract_b.pk))
        assert User.objects.get(login_id="sato01").contract == contract_a


class TestEdit:
    def test_edit_shows_current_values_nickname_and_empty_password(self, admin_client_a, users_a):
        taro = users_a[0]
        page = admin_client_a.get(reverse("accounts:user-edit", args=[taro.pk])).text
        assert 'value="taro-a"' in page
        assert "taro-a@example.jp" in page  # the nickname defaults to the address
        assert 'name="password"' in page and 'name="password" value' not in page

    def test_change_saves_and_returns_to_the_list_with_a_message(
        self, admin_client_a, users_a, mailoutbox, django_capture_on_commit_callbacks
    ):
        taro = users_a[0]
        data = entry(
            login_id="taro-a",
            email="taro-a@example.jp",
            email_confirm="taro-a@example.jp",
            password="",
            password_confirm="",
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client_a.post(reverse("accounts:user-edit", args=[taro.pk]), data)
        assert response.url == LIST
        taro.refresh_from_db()
        assert taro.department == "営業本部"
        assert "の情報を変更しました" in admin_client_a.get(LIST).text
        assert len(mailoutbox) == 1

    def test_password_change_signs_the_user_out_everywhere(self, admin_client_a, users_a):
        taro = users_a[0]
        taros_browser = Client()
        taros_browser.force_login(taro)
        assert "_auth_user_id" in taros_browser.session
        data = entry(
            login_id="taro-a",
            email="taro-a@example.jp",
            email_confirm="taro-a@example.jp",
            password="Zr8wKq3Xv6",
            password_confirm="Zr8wKq3Xv6",
            notify_user="",
        )
        admin_client_a.post(reverse("accounts:user-edit", args=[taro.pk]), data)
        taros_browser.get("/")
        assert "_auth_user_id" not in taros_browser.session


class TestDelete:
    def test_confirmation_shows_the_guides_fields(self, admin_client_a, users_a):
        taro = users_a[0]
        page = admin_client_a.get(reverse("accounts:user-delete", args=[taro.pk])).text
        for label in [
            "ログインID",
            "メールアドレス",
            "ニックネーム",
            "表示氏名",
            "役職",
            "部署",
            "連絡先番号",
        ]:
            assert label in page
        assert "削除する" in page and "戻る" in page
        assert User.objects.filter(pk=taro.pk).exists()

    def test_confirmation_names_what_is_lost_and_changes_nothing(
        self, admin_client_a, users_a, mailoutbox
    ):
        taro = users_a[0]
        chrome = signed_in_user(taro)  # a key issued, registered, signed in
        keys.device_key_issue(contract=taro.contract, user=taro, actor=SETUP, device_name="iPad")
        app, _tokens = app_registration_create(
            contract=taro.contract, user=taro, client="ios", device_name="taroのiPhone"
        )
        keys_before = list(DeviceKey.objects.values().order_by("pk"))

        page = admin_client_a.get(reverse("accounts:user-delete", args=[taro.pk])).text

        assert "ログインID「taro-a」ではログインできなくなり" in page
        assert "削除した利用者IDはもとに戻せません。" in page
        assert "削除される端末認証キー（2件）:" in page and "iPad" in page
        assert "終了するアプリのログイン（1件）:" in page and "taroのiPhone（iOSアプリ）" in page
        assert User.objects.filter(pk=taro.pk).exists()
        assert list(DeviceKey.objects.values().order_by("pk")) == keys_before
        app.refresh_from_db()
        assert app.state == "active"
        assert chrome.get(HOME).status_code == 200
        assert mailoutbox == []

    def test_delete_removes_and_says_so(self, admin_client_a, users_a):
        taro = users_a[0]
        response = admin_client_a.post(reverse("accounts:user-delete", args=[taro.pk]))
        assert response.url == LIST
        assert not User.objects.filter(pk=taro.pk).exists()
        assert "利用者ID「taro-a」を削除しました。" in admin_client_a.get(LIST).text


@pytest.mark.parametrize(
    "name", ["accounts:user-edit", "accounts:user-delete", "accounts:user-created"]
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_contracts_user_is_404_and_unchanged(admin_client_a, users_b, name, method):
    jiro = users_b[0]
    response = getattr(admin_client_a, method)(
        reverse(name, args=[jiro.pk]), entry(login_id="stolen", create="1")
    )
    assert response.status_code == 404
    jiro.refresh_from_db()
    assert jiro.login_id == "jiro-b"


@pytest.mark.parametrize("name", ["accounts:user-edit", "accounts:user-delete"])
def test_the_administrator_is_not_a_user_id_to_edit(admin_client_a, admin_a, name):
    assert admin_client_a.get(reverse(name, args=[admin_a.pk])).status_code == 404


def test_changes_need_the_csrf_token(admin_a, users_a):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_a)
    response = browser.post(reverse("accounts:user-delete", args=[users_a[0].pk]))
    assert response.status_code == 403
    assert User.objects.filter(pk=users_a[0].pk).exists()


def test_each_row_leads_to_its_device_keys(admin_client_a, contract_a, users_a):
    from devicekeys.services import device_key_issue

    device_key_issue(contract=contract_a, user=users_a[0], actor=SETUP)
    page = admin_client_a.get(LIST).text
    assert f"{reverse('devicekeys:key-list')}?login_id=taro-a" in page
    assert reverse("devicekeys:user-keys-stop", args=[users_a[0].pk]) in page
    assert reverse("devicekeys:user-keys-stop", args=[users_a[1].pk]) not in page


def test_each_row_offers_a_key_for_its_login_id_and_counts_its_keys_by_state(
    admin_client_a, contract_a, users_a
):
    from devicekeys import services as keys

    taro = users_a[0]
    for name in ("PC", "Phone", "Tablet", "Old"):
        keys.device_key_issue(contract=contract_a, user=taro, actor=SETUP, device_name=name)
    pc, phone, tablet, old = taro.device_keys.order_by("pk")
    keys.device_key_register(contract=contract_a, key=pc, actor=taro)
    keys.device_key_stop(contract=contract_a, key=tablet, actor=SETUP)
    for _attempt in range(3):
        with contextlib.suppress(keys.KeyEntryRefused):
            keys.device_key_enter(
                contract=contract_a,
                actor=taro,
                user=taro,
                entered="A" * 8 if "A" * 8 not in (phone.key, old.key) else "B" * 8,
                ip="192.0.2.1",
                user_agent="",
            )
    page = admin_client_a.get(LIST).text
    [taro_row] = [
        row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if "taro-a</strong>" in row
    ]
    [hana_row] = [
        row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if "hana-a</strong>" in row
    ]
    states = re.sub(
        r"<[^>]+>", " ", re.search(r'<ul class="key-states">.*?</ul>', taro_row).group(0)
    )
    assert states.split() == ["●", "利用中", "1", "■", "利用停止", "1", "✕", "無効", "2"]
    assert "4件" in taro_row
    assert 'class="key-states"' not in hana_row and "0件" in hana_row
    issue = reverse("devicekeys:key-issue")
    assert f'href="{issue}?login_id=taro-a"' in taro_row
    assert f'href="{issue}?login_id=hana-a"' in hana_row


def test_the_created_page_leads_on_to_issuing_the_key(admin_client_a, users_a):
    page = admin_client_a.get(reverse("accounts:user-created", args=[users_a[1].pk])).text
    assert f'href="{reverse("devicekeys:key-issue")}?login_id=hana-a"' in page
    assert "続けて端末認証キーを発行してください" in page

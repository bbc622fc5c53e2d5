"""ログ管理: every change leaves exactly one entry, in its own transaction, with no
secret in it; each administrator sees only their contract's entries."""

import csv
import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts
from accounts.models import SignInFailures
from audit.actions import Action
from audit.models import AuditEntry
from core import actors
from devicekeys import services as keys
from tests.conftest import PASSWORD
from tests.devicekeys.browser import signed_in_user
from tests.twostep.test_sessions import password_only

LOGS = reverse("audit:entry-list")
DOWNLOAD = reverse("audit:entry-download")


def entries(**filters):
    return list(AuditEntry.objects.filter(**filters).order_by("id"))


def new_user(contract, actor, login_id="sato01", **fields):
    return accounts.user_create(
        contract=contract,
        actor=actor,
        login_id=login_id,
        password=PASSWORD,
        email=f"{login_id}@example.jp",
        **fields,
    )


class TestEachChangeWritesOneEntry:
    def test_contract_created_by_a_command_names_the_system(self, db):
        admin = accounts.contract_create(
            login_id="kanri01",
            email="k@example.jp",
            password=PASSWORD,
            actor=actors.command("create_contract"),
        )
        [entry] = entries(action=Action.CONTRACT_CREATED)
        assert entry.contract == admin.contract
        assert (entry.actor_role, entry.actor_login_id) == ("system", "manage.py create_contract")
        assert entry.target == "kanri01"

    def test_user_created_changed_deleted(self, admin_a, contract_a):
        user = new_user(contract_a, admin_a, display_name="佐藤")
        accounts.user_change(
            contract=contract_a,
            actor=admin_a,
            user=user,
            login_id="sato01",
            email="sato01@example.jp",
            display_name="佐藤 花子",
            password="Zr8wKq3Xv6",
        )
        accounts.user_delete(contract=contract_a, actor=admin_a, user=user)

        created, changed, deleted = entries(target="sato01")
        assert created.action == Action.USER_CREATED
        assert created.changes["display_name"] == ["", "佐藤"]
        assert changed.action == Action.USER_CHANGED
        assert changed.changes["display_name"] == ["佐藤", "佐藤 花子"]
        assert changed.changes["password"] == ["********", "********"]
        assert deleted.action == Action.USER_DELETED
        assert {e.actor_login_id for e in (created, changed, deleted)} == {"admin-a"}
        assert {e.actor_role for e in (created, changed, deleted)} == {"administrator"}

    def test_device_key_life(self, admin_a, contract_a, users_a):
        taro = users_a[0]
        key = keys.device_key_issue(contract=contract_a, user=taro, actor=admin_a)
        keys.device_key_rename(contract=contract_a, key=key, device_name="Chrome", actor=admin_a)
        keys.device_key_reissue(contract=contract_a, key=key, actor=admin_a)
        keys.device_key_stop(contract=contract_a, key=key, actor=admin_a)
        keys.device_key_unstop(contract=contract_a, key=key, actor=admin_a)
        keys.device_key_delete(contract=contract_a, key=key, actor=admin_a)

        log = entries(contract=contract_a, action__startswith="device_key")
        assert [e.action for e in log] == [
            Action.DEVICE_KEY_ISSUED,
            Action.DEVICE_KEY_RENAMED,
            Action.DEVICE_KEY_REISSUED,
            Action.DEVICE_KEY_STOPPED,
            Action.DEVICE_KEY_UNSTOPPED,
            Action.DEVICE_KEY_DELETED,
        ]
        assert log[1].changes == {"device_name": ["端末-1", "Chrome"]}
        assert log[3].changes == {"status": ["active", "stopped"]}  # words on the page
        assert log[5].target == "Chrome (taro-a)"
        assert log[0].changes["device_key"][1].startswith("******")

    def test_stop_all_keys_writes_one_entry_per_key(self, admin_a, contract_a, users_a):
        for _ in range(3):
            keys.device_key_issue(contract=contract_a, user=users_a[0], actor=admin_a)
        stopped = keys.device_key_stop_all_for_user(
            contract=contract_a, user=users_a[0], actor=admin_a
        )
        assert stopped == 3
        assert len(entries(action=Action.DEVICE_KEY_STOPPED)) == 3


class TestTransactions:
    def test_a_refused_change_writes_nothing(self, admin_a, contract_a):
        with pytest.raises(ValidationError):
            new_user(contract_a, admin_a, login_id="ab")
        assert entries(action=Action.USER_CREATED) == []

    def test_a_rolled_back_change_writes_nothing(self, admin_a, contract_a):
        with pytest.raises(RuntimeError), transaction.atomic():
            new_user(contract_a, admin_a)
            raise RuntimeError("the caller's transaction fails after the service")
        assert entries(action=Action.USER_CREATED) == []


def test_no_password_or_whole_key_anywhere_in_the_log(admin_a, contract_a):
    secret_password = "Zr8wKq3Xv6"
    user = accounts.user_create(
        contract=contract_a,
        actor=admin_a,
        login_id="sato01",
        password=secret_password,
        email="s@example.jp",
    )
    accounts.user_change(
        contract=contract_a,
        actor=admin_a,
        user=user,
        login_id="sato01",
        email="s@example.jp",
        password="Hn5vRt2Wq8",
    )
    key = keys.device_key_issue(contract=contract_a, user=user, actor=admin_a)
    first_value = key.key
    key = keys.device_key_reissue(contract=contract_a, key=key, actor=admin_a)
    keys.device_key_register(contract=contract_a, key=key, actor=user)
    accounts.user_delete(contract=contract_a, actor=admin_a, user=user)

    dump = repr(list(AuditEntry.objects.values()))
    for secret in [secret_password, "Hn5vRt2Wq8", first_value, key.key]:
        assert secret not in dump
    assert "pbkdf2" not in dump and "argon2" not in dump and "md5$" not in dump


class TestSignInEvents:
    def sign_in(self, client, login_id, password=PASSWORD):
        return client.post(
            reverse("accounts:login"),
            {"username": login_id, "password": password},
            HTTP_USER_AGENT="Mozilla/5.0 Chrome/130",
        )

    def test_success_failure_and_sign_out(self, client, admin_a):
        self.sign_in(client, "admin-a", "Wrong7pass")
        self.sign_in(client, "admin-a")
        client.post(reverse("accounts:logout"))

        failed, signed_in, signed_out = entries(
            contract=admin_a.contract, action__startswith="sign_"
        )
        assert failed.action == Action.SIGN_IN_FAILED
        assert failed.actor_role == "anonymous" and failed.target == "admin-a"
        assert signed_in.action == Action.SIGN_IN
        assert signed_in.actor_ip == "127.0.0.1"
        assert signed_in.actor_user_agent == "Mozilla/5.0 Chrome/130"
        assert signed_out.action == Action.SIGN_OUT

    def test_throttling_is_logged(self, client, admin_a, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            self.sign_in(client, "admin-a", "Wrong7pass")
        assert len(entries(action=Action.SIGN_IN_THROTTLED, contract=admin_a.contract)) == 1

    def test_failure_for_an_unknown_login_id_has_no_contract(self, client, db):
        self.sign_in(client, "nobody-x")
        [entry] = entries(action=Action.SIGN_IN_FAILED)
        assert entry.contract is None and entry.target == "nobody-x"


class TestWrongSecretsNameTheSignedInAccount:
    """A wrong current password on a page of a signed-in account (パスワード変更 in
    環境設定 or on a user ID's home, 本人確認) is 現在のパスワード誤り by that account in
    ログ管理, not a failed sign-in by someone not signed in; it still counts towards
    the sign-in throttle."""

    PAGES = {
        "settings": ("admin", reverse("accounts:settings-password"), "環境設定のパスワード変更"),
        "own": ("user", reverse("accounts:password-change"), "パスワード変更"),
        "confirm": ("admin", reverse("twostep:confirm"), "本人確認"),
    }

    @staticmethod
    def row_of(page: str, action: str) -> str:
        rows = re.findall(r"<tr>\s*<td data-label=.*?</tr>", page, re.S)
        [row] = [row for row in rows if f">{action}</td>" in row]
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()

    @pytest.mark.parametrize("where", list(PAGES))
    def test_the_administrator_reads_who_typed_it_and_where(
        self, where, admin_a, admin_client_a, users_a
    ):
        who, page_url, page_name = self.PAGES[where]
        browser = password_only() if who == "admin" else signed_in_user(users_a[0])
        account = admin_a if who == "admin" else users_a[0]
        response = browser.post(
            page_url,
            {"current_password": "Wrong7pass", "password": "Kd4wPq8Zr2", "next": "/console/"},
        )
        assert "現在のパスワードが正しくありません。" in response.text

        page = admin_client_a.get(LOGS).text
        row = self.row_of(page, "現在のパスワード誤り")
        role = "管理者" if who == "admin" else "利用者"
        assert f"現在のパスワード誤り {account.login_id} {role} {account.login_id}" in row
        assert f"画面: — → {page_name}" in row
        assert ">ログイン失敗</td>" not in page and "未ログイン" not in page
        # The throttle counts it as before.
        assert SignInFailures.objects.get(user=account).failures == 1

    def test_in_english_too(self, admin_a, admin_client_a):
        password_only().post(
            reverse("accounts:settings-password"), {"current_password": "Wrong7pass"}
        )
        admin_client_a.cookies["django_language"] = "en"
        page = admin_client_a.get(LOGS).text
        assert "Wrong current password" in page
        assert "Page: — → Password change in Settings" in page

    def test_locking_it_out_is_logged_under_the_account_too(self, admin_a, settings):
        browser = password_only()
        for _ in range(settings.AXES_FAILURE_LIMIT):
            response = browser.post(
                reverse("accounts:settings-password"), {"current_password": "Wrong7pass"}
            )
        assert response.status_code == 429
        [throttled] = entries(action=Action.SIGN_IN_THROTTLED)
        assert (throttled.actor_role, throttled.actor_login_id) == ("administrator", "admin-a")
        assert throttled.contract == admin_a.contract
        wrong = entries(action=Action.CURRENT_PASSWORD_WRONG)
        assert len(wrong) == settings.AXES_FAILURE_LIMIT
        assert not entries(action=Action.SIGN_IN_FAILED)

    def test_another_login_ids_password_at_the_sign_in_page_stays_a_failed_sign_in(
        self, client, admin_a, users_a
    ):
        """Signed in as taro-a, a sign-in attempt for admin-a is no current password."""
        browser = signed_in_user(users_a[0])
        browser.post(reverse("accounts:logout"))
        browser.post(reverse("accounts:login"), {"username": "admin-a", "password": "Wrong7"})
        [failed] = entries(action=Action.SIGN_IN_FAILED)
        assert (failed.actor_role, failed.target) == ("anonymous", "admin-a")
        assert not entries(action=Action.CURRENT_PASSWORD_WRONG)


class TestLogScreen:
    def test_shows_own_entries_newest_first(self, admin_client_a, admin_a, contract_a):
        new_user(contract_a, admin_a, "first-1")
        new_user(contract_a, admin_a, "second-2")
        page = admin_client_a.get(LOGS).content.decode()
        assert page.index("second-2") < page.index("first-1")
        assert "利用者ID作成" in page

    def test_never_shows_another_contracts_entries(self, admin_client_a, admin_b, contract_b):
        new_user(contract_b, admin_b, "secret-b")
        found = admin_client_a.get(LOGS, {"login_id": "secret-b"}).content.decode()
        assert "条件に一致する記録はありません" in found
        for query in [{}, {"login_id": "secret"}, {"action": Action.USER_CREATED}]:
            assert "secret-b" not in admin_client_a.get(LOGS, query).content.decode()
            assert (
                "secret-b"
                not in b"".join(admin_client_a.get(DOWNLOAD, query).streaming_content).decode()
            )

    def test_filters_by_action_login_id_and_period(self, admin_client_a, admin_a, contract_a):
        with time_machine.travel("2026-04-01 10:00 +0900"):
            new_user(contract_a, admin_a, "april-1")
        with time_machine.travel("2026-05-01 10:00 +0900"):
            new_user(contract_a, admin_a, "may-1")
        page = lambda **q: admin_client_a.get(LOGS, q).content.decode()  # noqa: E731
        assert "april-1" not in page(date_from="2026-04-02")
        assert "may-1" in page(date_from="2026-04-02")
        assert "may-1" not in page(date_to="2026-04-30")
        assert "april-1" in page(date_from="2026-04-01", date_to="2026-04-01")
        assert "may-1" not in page(login_id="april")
        assert "april-1" not in page(action=Action.USER_DELETED)

    def test_a_bad_filter_gets_a_message_not_a_500(self, admin_client_a):
        response = admin_client_a.get(LOGS, {"date_from": "2026-13-45", "action": "nonsense"})
        assert response.status_code == 200
        assert "field-errors" in response.content.decode()

    def test_keyset_pages_of_fifty(self, admin_client_a, admin_a, contract_a):
        from audit.services import record

        for n in range(120):
            record(Action.USER_CREATED, contract=contract_a, actor=admin_a, target=f"u-{n:03d}")
        first = admin_client_a.get(LOGS).content.decode()
        assert "u-119" in first and "u-070" in first and "u-069" not in first
        cursor = first.split('rel="next"')[0].rsplit("before=", 1)[1].split('"')[0]
        second = admin_client_a.get(LOGS, {"before": cursor}).content.decode()
        assert "u-069" in second and "u-020" in second and "u-070" not in second

    def test_page_queries_do_not_grow_with_the_log(
        self, admin_client_a, admin_a, contract_a, django_assert_max_num_queries
    ):
        from audit.services import record

        for n in range(300):
            record(Action.USER_CREATED, contract=contract_a, actor=admin_a, target=f"u-{n}")
        admin_client_a.get(LOGS)  # the sign-in's first page (twostep looks up its devices)
        with django_assert_max_num_queries(6):
            admin_client_a.get(LOGS)

    def test_csv_opens_in_excel_and_neutralises_formulas(self, admin_client_a, admin_a, contract_a):
        user = new_user(contract_a, admin_a, "sato01", display_name="=HYPERLINK(1)")
        key = keys.device_key_issue(contract=contract_a, user=user, actor=admin_a)
        keys.device_key_rename(
            contract=contract_a, key=key, device_name="=HYPERLINK(2)", actor=admin_a
        )
        response = admin_client_a.get(DOWNLOAD)
        body = b"".join(response.streaming_content)
        assert body.startswith(b"\xef\xbb\xbf")
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert rows[0][:3] == ["日時", "操作", "操作者"]
        created = next(r for r in rows if r[1] == "利用者ID作成")
        # Inside a cell a formula is only text; a cell that starts with one is neutralised.
        assert "スケジューラー・掲示板用表示氏名: — → =HYPERLINK(1)" in created[7]
        renamed = next(r for r in rows if r[1] == "端末名変更")
        assert renamed[6] == "'=HYPERLINK(2) (sato01)"
        assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_logs_are_in_the_menu(admin_client_a):
    assert f'href="{LOGS}"' in admin_client_a.get(reverse("accounts:console")).content.decode()


def test_prune_deletes_old_entries_and_logs_itself(admin_a, contract_a):
    from audit.services import record

    with time_machine.travel(timezone.now() - timedelta(days=500)):
        record(Action.USER_CREATED, contract=contract_a, actor=admin_a, target="old")
    record(Action.USER_CREATED, contract=contract_a, actor=admin_a, target="new")
    out = io.StringIO()
    call_command("prune_audit_log", "--older-than", "400", stdout=out)
    assert not AuditEntry.objects.filter(target="old").exists()
    assert AuditEntry.objects.filter(target="new").exists()
    [pruned] = entries(action=Action.LOG_PRUNED)
    assert pruned.changes["deleted"] == ["", "1"]
    assert "Deleted 1" in out.getvalue()

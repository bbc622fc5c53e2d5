"""ログ管理 speaks in words: every name any service records has a label from the models
(or the short list of names no model has), and no stored value (a status code, a
boolean) reaches the page or the CSV as stored, in Japanese or in English."""

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import translation

from accounts import services as accounts
from accounts import throttling
from api import rules as app_rules
from api import services as api_services
from api.registrations import app_registration_create
from audit import labels
from audit.actions import Action
from audit.models import AuditEntry
from audit.services import audit_prune
from core import actors
from csvimport.services import user_import
from devicekeys import rules
from devicekeys import services as keys
from devicekeys.models import DeviceKey
from notifications.models import Notification, Status
from notifications.services import notification_resend
from tests.conftest import PASSWORD
from tests.csvimport.csvfiles import good_file
from twostep import services as twostep

LOGS = reverse("audit:entry-list")
DOWNLOAD = reverse("audit:entry-download")
# Stored values that must never be shown as they are.
RAW = {
    "True",
    "False",
    *rules.Status.values,
    *rules.Refusal.values,
    *app_rules.State.values,
    *app_rules.Event.values,
    *rules.Client.values,
}


def test_every_action_names_the_model_of_its_changes():
    assert set(labels.SUBJECTS) == set(Action.values)


@pytest.fixture
def every_change(admin_a, contract_a, users_a, django_capture_on_commit_callbacks, settings):
    """One entry of each kind a service records with changes, made through the services."""
    taro, hana = users_a
    user = accounts.user_create(
        contract=contract_a,
        actor=admin_a,
        login_id="sato01",
        password=PASSWORD,
        email="sato01@example.jp",
        display_name="佐藤",
        title="課長",
        department="営業",
        phone="03-0000-0000",
    )
    accounts.user_change(
        contract=contract_a,
        actor=admin_a,
        user=user,
        login_id="sato02",
        email="sato02@example.jp",
        display_name="佐藤 一",
        title="部長",
        department="総務",
        phone="03-1111-1111",
        password="Hn5vRt2Wq8",
    )
    accounts.user_profile_change(
        contract=contract_a, actor=taro, user=taro, nickname="たろう", display_name="太郎"
    )
    accounts.user_password_change(contract=contract_a, actor=taro, user=taro, password="Hn5vRt2Wq8")
    user_import(contract=contract_a, actor=admin_a, content=good_file(), file_name="a.csv")
    key = keys.device_key_issue(contract=contract_a, user=taro, actor=admin_a)
    key = keys.device_key_rename(contract=contract_a, key=key, device_name="PC", actor=admin_a)
    key = keys.device_key_reissue(contract=contract_a, key=key, actor=admin_a)
    key = keys.device_key_stop(contract=contract_a, key=key, actor=admin_a)
    key = keys.device_key_unstop(contract=contract_a, key=key, actor=admin_a)
    key = keys.device_key_register(contract=contract_a, key=key, actor=taro)
    keys.device_key_stop_all_for_user(contract=contract_a, user=taro, actor=admin_a)
    for reason in rules.Refusal:
        keys.device_key_record_refusal(contract=contract_a, actor=taro, key=key, reason=reason)
    keys.device_key_delete(contract=contract_a, key=key, actor=admin_a)
    keys.device_key_issue(contract=contract_a, user=hana, actor=admin_a)
    for _ in range(rules.WRONG_ENTRY_LIMIT):  # the third makes hana-a's key 無効
        keys.device_key_record_wrong_entry(
            contract=contract_a, user=hana, actor=hana, ip="192.0.2.1"
        )
    for required in (False, True):
        keys.access_setting_change(
            contract=contract_a,
            actor=admin_a,
            device_auth_required=required,
            notify_on_register=required,
        )
    with django_capture_on_commit_callbacks(execute=False):
        Notification.objects.update(status=Status.FAILED)
        notification_resend(notifications=Notification.objects.all(), actor=admin_a)
    audit_prune(older_than_days=400, actor=actors.command("prune_audit_log"))
    settings.ACCOUNT_FAILURE_LIMIT = 1
    throttling.count_failure("hana-a")  # the account-wide ceiling's first delay
    accounts.user_delete(contract=contract_a, actor=admin_a, user=user)
    # 環境設定, the password reset and 二段階認証
    accounts.administrator_password_change(
        contract=contract_a, actor=admin_a, user=admin_a, password="Kd4wPq8Zr2"
    )
    settings.PASSWORD_RESET_TIMEOUT = 3600
    for _ in range(throttling.RESETS_PER_LOGIN_ID + 1):  # the last one held back
        accounts.password_reset_request(login_id="hana-a", ip="192.0.2.9")
    accounts.password_reset_complete(user=hana, password="Kd4wPq8Zr3")
    accounts.email_change_request(
        contract=contract_a, actor=admin_a, user=admin_a, email="new@example.jp"
    )
    admin_a.refresh_from_db()
    twostep.totp_begin(user=admin_a)
    twostep.totp_confirm(user=admin_a, token="000000", actor=admin_a)  # recorded, wrong or right
    twostep.recovery_codes_renew(user=admin_a, actor=admin_a)
    [code] = twostep.recovery_codes_renew(user=admin_a, actor=admin_a)[:1]
    twostep.code_verify(user=admin_a, token=code)
    twostep.two_step_reset(user=admin_a, actor=actors.System("support"))
    assert DeviceKey.objects.filter(status=rules.Status.INVALID).exists()
    return list(AuditEntry.objects.exclude(changes={}).order_by("pk"))


def test_every_recorded_name_has_a_label(every_change):
    recorded = {(entry.action, name) for entry in every_change for name in entry.changes}
    assert len({action for action, _name in recorded}) >= 15  # the scenario reached them all
    unlabelled = {pair for pair in recorded if labels.label(*pair) is None}
    assert unlabelled == set()


@pytest.mark.parametrize("language", ["ja", "en"])
def test_no_value_is_shown_as_stored(every_change, language):
    with translation.override(language):
        shown = [change for entry in every_change for change in labels.describe(entry)]
    assert {change.before for change in shown} & RAW == set()
    assert {change.after for change in shown} & RAW == set()
    names = {name for entry in every_change for name in entry.changes}
    assert {change.label for change in shown} & names == set()


@pytest.mark.parametrize("language", ["ja", "en"])
def test_app_sign_in_entries_are_in_words(admin_a, contract_a, users_a, language):
    """The ends of app sign-ins (by the administrator, by the app, 全端末からサインアウト):
    every name labelled, no state, reason or client shown as stored."""
    taro, hana = users_a
    app, _tokens = app_registration_create(
        contract=contract_a, user=taro, client="tool", device_name="Tool"
    )
    api_services.app_registration_end(
        contract=contract_a, user=taro, registration=app, actor=admin_a
    )
    tokens = api_services.account_token_issue(
        user=hana, client=rules.Client.TOOL, device_name="", actor=hana
    )
    api_services.app_token_revoke(token=tokens.access_token, client=rules.Client.TOOL)
    accounts.user_sign_out_everywhere(contract=contract_a, actor=admin_a, user=hana)
    entries = list(AuditEntry.objects.exclude(changes={}))
    actions = {entry.action for entry in entries}
    assert {Action.APP_SIGN_IN_ENDED, Action.DEVICE_SIGNED_OUT} <= actions
    assert AuditEntry.objects.filter(action=Action.SIGNED_OUT_EVERYWHERE).exists()
    recorded = {(entry.action, name) for entry in entries for name in entry.changes}
    assert {pair for pair in recorded if labels.label(*pair) is None} == set()
    with translation.override(language):
        shown = [change for entry in entries for change in labels.describe(entry)]
    assert {change.before for change in shown} & RAW == set()
    assert {change.after for change in shown} & RAW == set()


def _changes_cells(page: str) -> str:
    return "\n".join(re.findall(r'<ul class="changes">(.*?)</ul>', page, re.S))


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "ja",
            [
                "ステータス: 利用中 → 利用停止",
                "ステータス: 利用停止 → 利用中",
                "利用者のログインに端末認証キーを必要とする: オン → オフ",
                "端末が端末認証キーを登録したときに管理者へメールで通知する: オフ → オン",
                "誤入力回数: 2 → 3",
                "理由: — → 端末認証キーの利用停止",
                "部署: 営業 → 総務",
            ],
        ),
        (
            "en",
            [
                "Status: In use → Stopped",
                "Status: Stopped → In use",
                ": On → Off",
                ": Off → On",
                "Reason: — → Device key stopped",
                "Department: 営業 → 総務",
            ],
        ),
    ],
)
def test_the_page_and_the_csv_show_words(every_change, admin_client_a, language, words):
    admin_client_a.cookies["django_language"] = language
    cells = _changes_cells(admin_client_a.get(LOGS).text)
    for raw in RAW:  # as a whole value: "Device key stopped" is words
        assert not re.search(rf"(?:: |→ ){raw}(?:</li>| →| /|$)", cells, re.M), raw
    for name in ("notify_on_register", "device_auth_required", "wrong_entries", "reason"):
        assert name not in cells
    for text in words:
        assert text in cells
    body = b"".join(admin_client_a.get(DOWNLOAD).streaming_content).decode("utf-8-sig")
    changes = "\n".join(row[7] for row in csv.reader(io.StringIO(body)))
    for text in words:
        assert text in changes
    assert "notify_on_register" not in changes and "True" not in changes

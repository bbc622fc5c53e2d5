"""ログ管理 in words: the labels and values of an entry's changes, taken from the
models, in the page's language.

An entry's `changes` maps a name to [before, after], as the service recorded them:
model field names with their stored values (a status code, "True"). Each action
names the model its changes come from (SUBJECTS); a field's label is its
verbose_name, a value of a field with choices is the choice's label (利用中,
利用停止, 無効), a boolean is オン / オフ. What no model names (counts of an
import, the reason a session ended, ...) is in OTHER_NAMES and OTHER_VALUES.
The ログ管理 page and its CSV both show `describe(entry)`; a test holds every name
any service records to a label here.

This module sits with the ログ管理 screen, above the apps whose models it names;
audit.services (record) sits below them and knows none of this.
"""

from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.models import SignInFailures, User
from api.models import AppRegistration
from audit.actions import Action
from devicekeys.models import AccessSetting, DeviceKey, WrongEntryCounter
from devicekeys.rules import Client, Refusal

# The model whose fields an action's changes name (None: the names are all OTHER_NAMES).
SUBJECTS: dict[str, type[models.Model] | None] = {
    Action.CONTRACT_CREATED: User,
    Action.USER_CREATED: User,
    Action.USER_CHANGED: User,
    Action.USER_DELETED: User,
    Action.PROFILE_CHANGED: User,
    Action.PASSWORD_CHANGED: User,
    Action.USERS_IMPORTED: None,
    Action.DEVICE_KEY_ISSUED: DeviceKey,
    Action.DEVICE_KEY_RENAMED: DeviceKey,
    Action.DEVICE_KEY_REISSUED: DeviceKey,
    Action.DEVICE_KEY_STOPPED: DeviceKey,
    Action.DEVICE_KEY_UNSTOPPED: DeviceKey,
    Action.DEVICE_KEY_DELETED: DeviceKey,
    Action.DEVICE_REGISTERED: DeviceKey,
    Action.DEVICE_KEY_WRONG: WrongEntryCounter,
    Action.DEVICE_KEY_INVALIDATED: DeviceKey,
    Action.DEVICE_SIGNED_OUT: AppRegistration,
    Action.APP_REGISTRATION_REFUSED: DeviceKey,
    Action.SESSION_ENDED: None,
    Action.ACCESS_SETTING_CHANGED: AccessSetting,
    Action.SIGN_IN: None,
    Action.SIGN_IN_FAILED: None,
    Action.CURRENT_PASSWORD_WRONG: None,
    Action.SIGN_IN_THROTTLED: None,
    Action.SIGN_OUT: None,
    Action.SIGN_IN_THROTTLE_LIFTED: None,
    Action.ACCOUNT_THROTTLED: SignInFailures,
    Action.MAIL_RESENT: None,
    Action.LOG_PRUNED: None,
    Action.API_CLIENT_CREATED: None,
    Action.API_CLIENT_REVOKED: None,
    Action.ADMIN_PASSWORD_CHANGED: User,
    Action.PASSWORD_RESET_REQUESTED: None,
    Action.PASSWORD_RESET: User,
    Action.EMAIL_CHANGE_REQUESTED: User,
    Action.EMAIL_CHANGED: User,
    Action.TWO_STEP_ENROLLED: None,
    Action.TWO_STEP_REMOVED: None,
    Action.TWO_STEP_FAILED: None,
    Action.TWO_STEP_PASSED: None,
    Action.RECOVERY_CODE_USED: None,
    Action.RECOVERY_CODES_RENEWED: None,
    Action.TWO_STEP_RESET: None,
    Action.APP_SIGN_IN_ENDED: AppRegistration,
    Action.SIGNED_OUT_EVERYWHERE: None,
}

# Names no model field has. The masked key is recorded as "device_key" (a field named
# "key" would be blanked by audit.services as a secret); its label is the model's.
OTHER_NAMES = {
    "device_key": DeviceKey._meta.get_field("key").verbose_name,
    "lines": _("行数"),
    "created": _("作成件数"),
    "deleted": _("削除件数"),
    "older_than_days": _("保存期間（日）"),
    "notification": _("通知番号"),
    "reason": _("理由"),
    "delay_minutes": _("制限時間（分）"),
    "method": _("方法"),
    "sent": _("メール"),
    "page": _("画面"),
    # What an app's sign-out recorded before app registrations (the key's field).
    "registered_by": DeviceKey._meta.get_field("registered_by").verbose_name,
}
OTHER_VALUES = {
    "reason": dict(Refusal.choices),
    "registered_by": dict(Client.choices),
    "method": {
        "totp": _("認証アプリ"),
        "passkey": _("パスキー"),
        "recovery": _("リカバリーコード"),
    },
    # Where a signed-in account's current password was asked (the page's URL name).
    "page": {
        "accounts:settings-password": _("環境設定のパスワード変更"),
        "accounts:password-change": _("パスワード変更"),
        "twostep:confirm": _("本人確認"),
    },
    # A password reset request: the mail went, or the throttle held it back.
    "sent": {"True": _("送信"), "False": _("送信せず（依頼が多すぎるため）")},
}

ON, OFF = _("オン"), _("オフ")
NOTHING = "—"  # an empty value (a field set for the first time)
STORED_TRUE, STORED_FALSE = "True", "False"  # how audit.services stores a boolean


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def _field(action: str, name: str) -> models.Field | None:
    model = SUBJECTS.get(action)
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def label(action: str, name: str) -> str | None:
    """The words for a changed name of this action's entries, or None when neither
    the action's model nor OTHER_NAMES knows it."""
    field = _field(action, name)
    if field is not None:
        return capfirst(field.verbose_name)
    if name in OTHER_NAMES:
        return str(OTHER_NAMES[name])
    return None


def value(action: str, name: str, stored: str) -> str:
    """A stored value as the console shows it: a choice's label, オン / オフ, — for
    nothing, or as stored (an entry written before a value had words keeps its words)."""
    if stored == "":
        return NOTHING
    field = _field(action, name)
    if isinstance(field, models.BooleanField):
        return str({STORED_TRUE: ON, STORED_FALSE: OFF}.get(stored, stored))
    choices = dict(field.flatchoices) if field is not None and field.choices else None
    if choices is None:
        choices = OTHER_VALUES.get(name, {})
    return str(choices.get(stored, stored))


def describe(entry) -> list[Change]:
    """An entry's changes in words, in the order they were recorded."""
    return [
        Change(
            label=label(entry.action, name) or name,
            before=value(entry.action, name, before),
            after=value(entry.action, name, after),
        )
        for name, (before, after) in entry.changes.items()
    ]


def describe_text(entry) -> str:
    """describe() as one line, for the CSV download."""
    return " / ".join(
        f"{change.label}: {change.before} → {change.after}" for change in describe(entry)
    )

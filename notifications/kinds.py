"""The kinds of notification mail the guide sends, and the context each one takes.

Pure rules: no database, no request. `notify()` checks a call against these
before anything is recorded, so a typo, a missing value or a password passed by
mistake fails loudly in the caller's test instead of reaching a mailbox.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    USER_CREATED = "user_created", _("利用者ID作成")
    USER_CHANGED = "user_changed", _("利用者ID変更")
    USER_DELETED = "user_deleted", _("利用者ID削除")
    DEVICE_KEY_ISSUED = "device_key_issued", _("端末認証キー発行")
    DEVICE_KEY_REISSUED = "device_key_reissued", _("端末認証キー再発行")
    DEVICE_KEY_REGISTERED = "device_key_registered", _("端末認証キー登録")
    SIGN_IN_FAILURES = "sign_in_failures", _("ログイン失敗の多発")
    PASSWORD_RESET = "password_reset", _("パスワード再設定")
    PASSWORD_CHANGED = "password_changed", _("パスワード変更")
    EMAIL_CHANGE_CONFIRM = "email_change_confirm", _("メールアドレス変更の確認")
    EMAIL_CHANGE_NOTICE = "email_change_notice", _("メールアドレス変更の受付")
    TWO_STEP_RESET = "two_step_reset", _("二段階認証のリセット")
    APP_SIGN_INS_ENDED = "app_sign_ins_ended", _("アプリのログイン終了")
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere", _("全端末からサインアウト")


USER_CREATED = Kind.USER_CREATED
USER_CHANGED = Kind.USER_CHANGED
USER_DELETED = Kind.USER_DELETED
DEVICE_KEY_ISSUED = Kind.DEVICE_KEY_ISSUED
DEVICE_KEY_REISSUED = Kind.DEVICE_KEY_REISSUED
DEVICE_KEY_REGISTERED = Kind.DEVICE_KEY_REGISTERED
SIGN_IN_FAILURES = Kind.SIGN_IN_FAILURES
PASSWORD_RESET = Kind.PASSWORD_RESET
PASSWORD_CHANGED = Kind.PASSWORD_CHANGED
EMAIL_CHANGE_CONFIRM = Kind.EMAIL_CHANGE_CONFIRM
EMAIL_CHANGE_NOTICE = Kind.EMAIL_CHANGE_NOTICE
TWO_STEP_RESET = Kind.TWO_STEP_RESET
APP_SIGN_INS_ENDED = Kind.APP_SIGN_INS_ENDED
SIGNED_OUT_EVERYWHERE = Kind.SIGNED_OUT_EVERYWHERE

# The context each kind takes: name -> (type, required). Nothing else is accepted,
# so no mail can ever be given a password to carry.
_DEVICE_KEY = {"key": (str, True), "device_name": (str, True)}
CONTEXT = {
    Kind.USER_CREATED: {},
    Kind.USER_CHANGED: {"changed_fields": (list, False), "password_changed": (bool, False)},
    Kind.USER_DELETED: {},
    Kind.DEVICE_KEY_ISSUED: _DEVICE_KEY,
    Kind.DEVICE_KEY_REISSUED: _DEVICE_KEY,
    # To the administrator (アクセス設定): which login ID registered which device, from where.
    Kind.DEVICE_KEY_REGISTERED: {
        "key_login_id": (str, True),
        "device_name": (str, True),
        "ip_address": (str, True),
    },
    # To the administrator (or the account itself): a login ID's sign-ins keep failing.
    Kind.SIGN_IN_FAILURES: {
        "target_login_id": (str, True),
        "failures": (int, True),
        "window_minutes": (int, True),
    },
    # パスワードをお忘れの方: the single-use link, valid `minutes`.
    Kind.PASSWORD_RESET: {"link": (str, True), "minutes": (int, True)},
    Kind.PASSWORD_CHANGED: {"reset": (bool, False)},
    # To the new address (notify's `recipient`): the link that makes it the account's.
    Kind.EMAIL_CHANGE_CONFIRM: {"link": (str, True), "hours": (int, True)},
    # To the old address: a change to `new_email` was asked for.
    Kind.EMAIL_CHANGE_NOTICE: {"new_email": (str, True)},
    Kind.TWO_STEP_RESET: {},
    # To the user ID: the administrator ended these app sign-ins (their device names).
    Kind.APP_SIGN_INS_ENDED: {"device_names": (list, True)},
    # To the user ID: every session and app sign-in ended; how many apps.
    Kind.SIGNED_OUT_EVERYWHERE: {"app_count": (int, True)},
}

# Context values that are secrets: wiped from the outbox row once the mail is sent.
SECRET_CONTEXT = frozenset({"key", "link"})


def clean_context(kind: str, context: dict) -> tuple[Kind, dict]:
    """Check a notify() call; return the kind and a JSON-ready copy of its context.

    Raises ValueError for an unknown kind and TypeError for a context that does
    not fit the kind (unknown, missing or mistyped values).
    """
    kind = Kind(kind)
    allowed = CONTEXT[kind]
    unknown = sorted(set(context) - set(allowed))
    if unknown:
        raise TypeError(f"notify({kind.value!r}) takes no {', '.join(unknown)}")
    cleaned = {}
    for name, (expected, required) in allowed.items():
        if name not in context:
            if required:
                raise TypeError(f"notify({kind.value!r}) needs {name}")
            continue
        value = context[name]
        if expected is list:
            if isinstance(value, str) or not hasattr(value, "__iter__"):
                raise TypeError(f"{name} must be a list of field names or labels")
            value = [str(item) for item in value]
        elif not isinstance(value, expected):
            raise TypeError(f"{name} must be a {expected.__name__}")
        cleaned[name] = value
    return kind, cleaned

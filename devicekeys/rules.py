"""Pure rules of device authentication keys (端末認証キー): no database, no request.

- the key format: 8 characters drawn with `secrets` from A–Z a–z 0–9 without the
  look-alikes 0 O 1 I l (a key is read from a mail and typed by hand), compared
  case-sensitively; a key issued before from all 62 can still be entered;
- how a registered key is shown: masked but for its last 2 characters;
- the device name (端末名): 1–32 characters after trimming; the default name of
  an unnamed key, and the name a browser gives itself when it registers one;
- the status state machine: which action may move a key from which state to
  which, and who may trigger it (the administrator or the sign-in flow);
- at sign-in: how an entered key is read, and why a registered device is
  refused (Refusal).

Services ask `apply()` before every change, and the list asks `allowed()`
which buttons to offer, so the rules are written once.
"""

import re
import secrets
import string
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.limits import Limit
from devicekeys.exceptions import InvalidTransition

# 端末認証キーは1契約につき999個まで (the guide): counted by device_key_issue under the
# contract's lock, shown by the key screens, all in these words.
KEYS_PER_CONTRACT = Limit(
    999,
    rule_text=_("端末認証キーは1契約につき%(limit)d個まで作成できます。"),
    remedy=_("追加で作成するには、不要な端末認証キーを削除してください。"),
)
KEY_LIMIT = KEYS_PER_CONTRACT.maximum
KEY_LENGTH = 8
# Characters read one for another (0/O, 1/I/l) are never drawn: 57 characters,
# 8 × log2(57) = 46.7 bits (all 62 gave 47.6); three wrong entries make a key 無効.
LOOK_ALIKES = "0O1Il"
ENTERED_KEY_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits
KEY_ALPHABET = "".join(c for c in ENTERED_KEY_ALPHABET if c not in LOOK_ALIKES)
KEY_VISIBLE_SUFFIX = 2  # characters of a registered key still shown
KEY_MASK = "*"
WRONG_ENTRY_LIMIT = 3  # wrong entries after which a key becomes 無効
DEVICE_NAME_MAX_LENGTH = 32
DEVICE_NAME_REQUIRED = _("端末名を入力してください。")
DEFAULT_DEVICE_NAME = "端末-%(number)d"  # a key issued without a name


# --- The key ------------------------------------------------------------------------


def generate_key() -> str:
    """A new key: KEY_LENGTH characters drawn from KEY_ALPHABET with `secrets`."""
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


def is_well_formed_key(value: str) -> bool:
    """Whether `value` can be a key: KEY_LENGTH letters and digits, look-alikes
    included, since keys issued before they were left out are still waiting."""
    return len(value) == KEY_LENGTH and all(c in ENTERED_KEY_ALPHABET for c in value)


def key_suffix(key: str) -> str:
    """What is kept in clear once the key is registered."""
    return key[-KEY_VISIBLE_SUFFIX:]


def masked_key(suffix: str) -> str:
    """A key shown masked but for its last characters (its `key_suffix`): `******Zg`.
    Screens, Django admin and ログ管理 show a key through DeviceKey.masked_key, which
    calls this."""
    return KEY_MASK * (KEY_LENGTH - len(suffix)) + suffix


MASKED_NOTE = _("（登録済みのため末尾%(count)d文字のみ表示）")


def masked_note() -> str:
    """What the screens say beside a masked key."""
    return MASKED_NOTE % {"count": KEY_VISIBLE_SUFFIX}


def normalize_entered_key(value: str) -> str:
    """A key as typed at sign-in: full-width characters (an IME left on) read as
    half-width, surrounding white space dropped. Case is kept: keys are case-sensitive."""
    return unicodedata.normalize("NFKC", value or "").strip()


# --- The device name ----------------------------------------------------------------


def clean_device_name(value: str) -> str:
    """端末名: trimmed, 1–32 characters, no control characters. Returns the trimmed name."""
    name = (value or "").strip()
    if not name:
        raise ValidationError(DEVICE_NAME_REQUIRED, code="device_name_required")
    if len(name) > DEVICE_NAME_MAX_LENGTH:
        raise ValidationError(
            _("端末名は%(max)d文字以内で入力してください（現在%(length)d文字）。"),
            code="device_name_length",
            params={"max": DEVICE_NAME_MAX_LENGTH, "length": len(name)},
        )
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise ValidationError(
            _("端末名に使用できない文字（改行や制御文字）が含まれています。"),
            code="device_name_characters",
        )
    return name


_DEFAULT_DEVICE_NAME = re.compile(re.escape(DEFAULT_DEVICE_NAME).replace(r"%\(number\)d", r"\d+"))

# (marker in the User-Agent, the browser's name), the first match wins: Edge, Opera and
# Samsung Internet also say "Chrome", and Chrome also says "Safari".
BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("Edge/", "Edge"),
    ("OPR/", "Opera"),
    ("OPiOS/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)


class Client(models.TextChoices):
    """What registered a key: a browser at the sign-in page, or an app or tool through
    the token API (its `client_id`). The guide: 「ブラウザ、スマホアプリ、専用ツールなどの
    ご利用環境ごとに端末認証キーの発行が必要です」."""

    BROWSER = "browser", _("ブラウザ")
    IOS = "ios", _("iOSアプリ")
    ANDROID = "android", _("Androidアプリ")
    DESKTOP = "desktop", _("デスクトップアプリ")
    TOOL = "tool", _("専用ツール")


APP_CLIENTS = tuple(client for client in Client if client != Client.BROWSER)
# The name an app or tool registers a key under when it gives none (numbered like
# the browsers' names: iOS-2, ...). Plain ASCII: the same name in every language.
APP_DEVICE_NAMES = {
    Client.IOS: "iOS",
    Client.ANDROID: "Android",
    Client.DESKTOP: "Desktop",
    Client.TOOL: "Tool",
}


def default_device_name(key_count: int) -> str:
    """The name of a key issued without one, in a contract holding `key_count` keys
    before it: 端末-N, N its place among them."""
    return DEFAULT_DEVICE_NAME % {"number": key_count + 1}


def is_default_device_name(name: str) -> bool:
    """Whether `name` is the 端末-N of a key the administrator issued without a name."""
    return bool(_DEFAULT_DEVICE_NAME.fullmatch(name))


def browser_name(user_agent: str) -> str:
    """The browser a User-Agent names (Chrome, Firefox, Safari, Edge, ...), or ""."""
    for marker, name in BROWSERS:
        if marker in (user_agent or ""):
            return name
    return ""


def free_device_name(base: str, taken) -> str:
    """`base`, or the guide's `base-2`, `base-3`, ... when the name is taken in the contract."""
    taken = set(taken)
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


# --- The state machine --------------------------------------------------------------


class Status(models.TextChoices):
    """ステータス, in the guide's words."""

    ACTIVE = "active", _("利用中")
    STOPPED = "stopped", _("利用停止")
    INVALID = "invalid", _("無効")


class By(StrEnum):
    """Who triggers an action."""

    ADMINISTRATOR = "administrator"
    SIGN_IN = "sign_in"  # the sign-in flow, on behalf of the user entering the key


class Action(StrEnum):
    ISSUE = "issue"
    RENAME = "rename"
    REISSUE = "reissue"
    STOP = "stop"
    UNSTOP = "unstop"
    DELETE = "delete"
    REGISTER = "register"
    MARK_INVALID = "mark_invalid"


@dataclass(frozen=True)
class KeyState:
    """A key's state: its status, and whether a device has registered it."""

    status: Status
    registered: bool


NEW = KeyState(Status.ACTIVE, registered=False)  # issued or reissued, waiting for a device
IN_USE = KeyState(Status.ACTIVE, registered=True)
STOPPED_NEW = KeyState(Status.STOPPED, registered=False)
STOPPED_IN_USE = KeyState(Status.STOPPED, registered=True)
INVALID = KeyState(Status.INVALID, registered=False)

STATES = (NEW, IN_USE, STOPPED_NEW, STOPPED_IN_USE, INVALID)  # every state a key can be in
GONE = None  # no key: before ISSUE, after DELETE

WHO = {
    Action.ISSUE: By.ADMINISTRATOR,
    Action.RENAME: By.ADMINISTRATOR,
    Action.REISSUE: By.ADMINISTRATOR,
    Action.STOP: By.ADMINISTRATOR,
    Action.UNSTOP: By.ADMINISTRATOR,
    Action.DELETE: By.ADMINISTRATOR,
    Action.REGISTER: By.SIGN_IN,
    Action.MARK_INVALID: By.SIGN_IN,
}

# (action, state before) -> state after. A pair missing here is refused.
TRANSITIONS: dict[tuple[Action, KeyState | None], KeyState | None] = {
    (Action.ISSUE, GONE): NEW,
    **{(Action.RENAME, s): s for s in STATES},
    # A new key value: registration cleared, status 利用中. The way out of 無効.
    **{(Action.REISSUE, s): NEW for s in STATES},
    # 遠隔アクセスロック, and back. A 無効 key offers neither.
    (Action.STOP, NEW): STOPPED_NEW,
    (Action.STOP, IN_USE): STOPPED_IN_USE,
    (Action.UNSTOP, STOPPED_NEW): NEW,
    (Action.UNSTOP, STOPPED_IN_USE): IN_USE,
    **{(Action.DELETE, s): GONE for s in STATES},
    # A key is a one-time enrollment code: only an unregistered, usable key can be entered.
    (Action.REGISTER, NEW): IN_USE,
    (Action.MARK_INVALID, NEW): INVALID,
}


def allowed(action: Action, state: KeyState | None, *, by: By) -> bool:
    return WHO[action] == by and (action, state) in TRANSITIONS


def apply(action: Action, state: KeyState | None, *, by: By) -> KeyState | None:
    """The state after `action`; InvalidTransition when the rules refuse it."""
    if not allowed(action, state, by=by):
        raise InvalidTransition(action, state, by)
    return TRANSITIONS[(action, state)]


def after_wrong_entry(wrong_entries: int) -> tuple[int, bool]:
    """One more wrong entry: the new count, and whether the key now becomes 無効."""
    wrong_entries += 1
    return wrong_entries, wrong_entries >= WRONG_ENTRY_LIMIT


# --- A registered device at sign-in and on every request ------------------------------


class Refusal(models.TextChoices):
    """Why a signed-in device may no longer use the service (the page it is shown says
    so; ログ管理 shows the label)."""

    STOPPED = "stopped", _("端末認証キーの利用停止")  # 停止 (遠隔アクセスロック)
    INVALID = "invalid", _("端末認証キーの無効")
    # the key has another value now; the old credential is void
    REISSUED = "reissued", _("端末認証キーの再発行")
    DELETED = "deleted", _("端末認証キーの削除")
    # the browser no longer holds the credential
    CREDENTIAL_MISSING = "credential", _("端末の登録情報なし")
    ACCOUNT_GONE = (
        "account",
        _("ログインIDの削除または無効"),
    )  # the login ID was deleted or disabled
    # a session that did not pass the device check at sign-in
    SIGN_IN_AGAIN = "sign_in", _("再ログインが必要")
    # an app registered without a key, in a contract that now requires one (アクセス設定)
    KEY_REQUIRED = "key_required", _("端末認証キーが必要")


# What a refused device is told, in a browser (devicekeys.middleware) and in an app
# (GET /api/device/status): one wording per reason.
REFUSAL_MESSAGES = {
    Refusal.STOPPED: _(
        "この端末の端末認証キーは、管理者によって利用停止にされました。"
        "この端末からはご利用になれません。停止の解除は管理者にご依頼ください。"
    ),
    Refusal.INVALID: _(
        "この端末の端末認証キーは無効になりました。"
        "管理者に端末認証キーの再発行を依頼し、新しいキーでログインしてください。"
    ),
    Refusal.REISSUED: _(
        "この端末の端末認証キーが再発行されたため、この端末の登録は取り消されました。"
        "新しい端末認証キー（管理者からメールで届きます）を入力すると、再びご利用になれます。"
    ),
    Refusal.DELETED: _(
        "この端末の端末認証キーは、管理者によって削除されました。この端末からはご利用になれません。"
    ),
    Refusal.CREDENTIAL_MISSING: _(
        "この端末（ブラウザ）に保存されていた登録情報が見つかりません。"
        "Cookieが削除された可能性があります。管理者に端末認証キーの再発行を依頼してください。"
    ),
    Refusal.ACCOUNT_GONE: _(
        "このログインIDは削除されたか、利用できない状態になりました。管理者にお問い合わせください。"
    ),
    Refusal.SIGN_IN_AGAIN: _(
        "ログインの状態を確認できませんでした。もう一度ログインしてください。"
    ),
    Refusal.KEY_REQUIRED: _(
        "この契約では、端末ごとに端末認証キーの登録が必要になりました。"
        "管理者から届く端末認証キーで、この端末をもう一度登録してください。"
    ),
}


def refusal(
    state: KeyState | None, *, same_credential: bool, credential_in_browser: bool
) -> Refusal | None:
    """Whether the device a session signed in with may go on, and if not, why.

    `state` is the key's state now (GONE once deleted); `same_credential` whether
    the key still holds the credential the session was bound to (再発行 clears it,
    a later registration replaces it); `credential_in_browser` whether the browser
    still sends it.
    """
    if state is GONE:
        return Refusal.DELETED
    if state.status == Status.INVALID:
        return Refusal.INVALID
    if not state.registered or not same_credential:
        return Refusal.REISSUED
    if state.status == Status.STOPPED:
        return Refusal.STOPPED
    if not credential_in_browser:
        return Refusal.CREDENTIAL_MISSING
    return None

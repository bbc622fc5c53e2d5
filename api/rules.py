"""Pure rules of an app registration (アプリのログイン): no database, no request.

An app registration is what the token endpoint gives an app or tool: a token bound
either to a key's registration (`azd_…`, kind KEY) or to the login ID alone
(`azu_…`, kind ACCOUNT, where アクセス設定 requires no key). This module holds its
lifecycle: the states, the events that move it, and which kind each event reaches;
and what GET /api/device/status tells an app about it.

- A login-ID token ends with the login ID's password (changed or reset): it proved
  nothing but the password. It ends for good when device authentication is
  switched on: switching it off again revives nothing.
- A key-bound token follows its key: 停止 suspends it until 停止解除, 再発行 and
  削除 end it. It survives a password change: the device proved its key, and a new
  registration would need a 再発行 (docs/API.md).
- Both end with the login ID's deletion, the app's own sign-out, the administrator
  or the user ending it, 全端末からサインアウト, and a refresh token used twice.

Services ask `after()` for each registration an event reaches, and the lists ask
`can_end()` which buttons to offer, so the rules are written once.
"""

import secrets
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from devicekeys.rules import REFUSAL_MESSAGES, Refusal

ACCOUNT_TOKEN_PREFIX = "azu_"  # noqa: S105 (a prefix, not a secret)
KEY_TOKEN_PREFIX = "azd_"  # noqa: S105
REFRESH_TOKEN_PREFIX = "azr_"  # noqa: S105
PUBLIC_ID_PREFIX = "reg_"
SCOPE = "storage"  # what a token opens: the storage service, as its user ID


def new_public_id() -> str:
    """A registration's public name: 128 random bits, telling nothing of how many
    registrations there are."""
    return PUBLIC_ID_PREFIX + secrets.token_urlsafe(16)


class Kind(models.TextChoices):
    """What a registration's token is bound to."""

    KEY = "key", _("端末認証キー")
    ACCOUNT = "account", _("ログインIDのみ")


# --- Its tokens ---------------------------------------------------------------------------
#
# A registration holds short-lived access tokens and one refresh token at a time
# (api.models.AppToken). An access token opens the storage service for
# settings.API_ACCESS_TOKEN_SECONDS; the refresh token (RFC 6749 §6) gets the next
# pair while the registration is in use, once: each use rotates it, and an old one
# presented again ends the registration (RFC 9700 §4.14.2, no grace period).


class TokenKind(models.TextChoices):
    ACCESS = "access", _("アクセストークン")
    REFRESH = "refresh", _("リフレッシュトークン")


ACCESS_TOKEN_PREFIXES = {Kind.KEY: KEY_TOKEN_PREFIX, Kind.ACCOUNT: ACCOUNT_TOKEN_PREFIX}
TOKEN_LOOKUP_BYTES = 9  # the random id a token is told apart by in a log line
TOKEN_SECRET_BYTES = 32


def new_token(prefix: str) -> str:
    """`<prefix><random id>.<secret>`: the prefix says what the token is (azd_ a
    key-bound access token, azu_ a login-ID one, azr_ a refresh token), the id is
    random (it tells nothing of the registration or the key), 256 random bits follow.
    Only the SHA-256 of the whole string is kept."""
    lookup = secrets.token_urlsafe(TOKEN_LOOKUP_BYTES)
    return f"{prefix}{lookup}.{secrets.token_urlsafe(TOKEN_SECRET_BYTES)}"


def access_token_expired(expires_at, now) -> bool:
    """An access token from before expiry (none kept) never expires by time."""
    return expires_at is not None and expires_at <= now


class State(models.TextChoices):
    ACTIVE = "active", _("利用中")
    SUSPENDED = "suspended", _("利用停止")  # its key 停止, until 停止解除
    ENDED = "ended", _("終了")  # for good


class Event(models.TextChoices):
    """What happens to a registration; the one that suspended or ended it is kept
    as its reason, shown in the lists and told by GET /api/device/status."""

    KEY_STOPPED = "key_stopped", _("端末認証キーの利用停止")
    KEY_UNSTOPPED = "key_unstopped", _("端末認証キーの停止解除")
    KEY_REISSUED = "key_reissued", _("端末認証キーの再発行")
    KEY_DELETED = "key_deleted", _("端末認証キーの削除")
    PASSWORD_CHANGED = "password_changed", _("パスワードの変更")
    PASSWORD_RESET = "password_reset", _("パスワードの再設定")
    ACCOUNT_DELETED = "account_deleted", _("ログインIDの削除")
    KEY_REQUIRED = "key_required", _("端末認証キーの必須化")
    APP_SIGNED_OUT = "app_signed_out", _("アプリのログアウト")
    ENDED_BY_ADMINISTRATOR = "by_administrator", _("管理者による終了")
    ENDED_BY_USER = "by_user", _("利用者による終了")
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere", _("全端末からサインアウト")
    REFRESH_TOKEN_REUSED = "refresh_token_reused", _("使用済みリフレッシュトークンの再使用")


# The events that end a registration of each kind, whether it is in use or suspended.
_ENDED_BY_BOTH = {
    Event.ACCOUNT_DELETED,
    Event.APP_SIGNED_OUT,
    Event.ENDED_BY_ADMINISTRATOR,
    Event.ENDED_BY_USER,
    Event.SIGNED_OUT_EVERYWHERE,
    Event.REFRESH_TOKEN_REUSED,
}
ENDING = {
    Kind.KEY: _ENDED_BY_BOTH | {Event.KEY_REISSUED, Event.KEY_DELETED},
    Kind.ACCOUNT: _ENDED_BY_BOTH
    | {Event.PASSWORD_CHANGED, Event.PASSWORD_RESET, Event.KEY_REQUIRED},
}
LIVE = (State.ACTIVE, State.SUSPENDED)  # a registration not yet ended

# (event, kind, state before) -> state after. A triple missing here leaves the
# registration as it is: an ended one stays ended, and a key-bound one does not
# hear of a password change.
TRANSITIONS: dict[tuple[Event, Kind, State], State] = {
    **{
        (event, kind, state): State.ENDED
        for kind in Kind
        for event in ENDING[kind]
        for state in LIVE
    },
    (Event.KEY_STOPPED, Kind.KEY, State.ACTIVE): State.SUSPENDED,
    (Event.KEY_UNSTOPPED, Kind.KEY, State.SUSPENDED): State.ACTIVE,
}


def after(event: Event, kind: Kind, state: State) -> State | None:
    """The state after `event`, or None when the event leaves the registration as it is."""
    return TRANSITIONS.get((event, kind, state))


def reached(event: Event, kind: Kind) -> list[State]:
    """The states in which a registration of `kind` is changed by `event` (what a
    service filters the rows by)."""
    return [state for state in State if (event, kind, state) in TRANSITIONS]


def reason_after(event: Event, state: State) -> str:
    """The reason kept once `event` moved a registration to `state`: none while in use."""
    return "" if state == State.ACTIVE else event.value


def can_end(state: State) -> bool:
    """Whether the administrator or the user may still end it (the lists' button)."""
    return (Event.ENDED_BY_ADMINISTRATOR, Kind.ACCOUNT, state) in TRANSITIONS


# --- What GET /api/device/status tells the app ------------------------------------------

ACTIVE_MESSAGE = _("この端末はご利用になれます。")
ENDED_MESSAGES = {
    Event.PASSWORD_CHANGED: _(
        "このログインIDのパスワードが変更されたため、この端末のログインは終了しました。"
        "新しいパスワードでもう一度ログインしてください。"
    ),
    Event.ENDED_BY_ADMINISTRATOR: _(
        "この端末のログインは、管理者によって終了されました。もう一度ログインしてください。"
    ),
    Event.ENDED_BY_USER: _(
        "この端末のログインは、ログインIDの利用者によって終了されました。"
        "もう一度ログインしてください。"
    ),
    Event.SIGNED_OUT_EVERYWHERE: _(
        "管理者がこのログインIDを全端末からサインアウトしました。もう一度ログインしてください。"
    ),
    Event.REFRESH_TOKEN_REUSED: _(
        "この端末のリフレッシュトークンが二度使われたため、盗まれたおそれがあるとしてログインを"
        "終了しました。もう一度ログインしてください。"
    ),
}
# event -> (state word, message). The words of a key's refusal are a browser's
# (devicekeys.rules.REFUSAL_MESSAGES): one wording per reason.
TOLD = {
    Event.KEY_STOPPED: ("stopped", REFUSAL_MESSAGES[Refusal.STOPPED]),
    Event.KEY_REISSUED: ("reissued", REFUSAL_MESSAGES[Refusal.REISSUED]),
    Event.KEY_DELETED: ("deleted", REFUSAL_MESSAGES[Refusal.DELETED]),
    Event.ACCOUNT_DELETED: ("deleted", REFUSAL_MESSAGES[Refusal.ACCOUNT_GONE]),
    Event.KEY_REQUIRED: ("invalid", REFUSAL_MESSAGES[Refusal.KEY_REQUIRED]),
    Event.PASSWORD_CHANGED: ("password_changed", ENDED_MESSAGES[Event.PASSWORD_CHANGED]),
    Event.PASSWORD_RESET: ("password_changed", ENDED_MESSAGES[Event.PASSWORD_CHANGED]),
    Event.REFRESH_TOKEN_REUSED: ("token_reused", ENDED_MESSAGES[Event.REFRESH_TOKEN_REUSED]),
    **{
        event: ("signed_out", ENDED_MESSAGES[event])
        for event in (
            Event.ENDED_BY_ADMINISTRATOR,
            Event.ENDED_BY_USER,
            Event.SIGNED_OUT_EVERYWHERE,
        )
    },
}
ACCOUNT_GONE = ("invalid", REFUSAL_MESSAGES[Refusal.ACCOUNT_GONE])  # disabled meanwhile
# What an app that signed out itself is told: nothing, as for a token never given.
UNTOLD = frozenset({Event.APP_SIGNED_OUT})


def opens(state: State, *, account_active: bool) -> bool:
    """Whether the registration's token opens the storage service now."""
    return state == State.ACTIVE and account_active


def told(state: State, reason: str, *, account_active: bool) -> tuple[str, object] | None:
    """GET /api/device/status: the state word and message an app is told, or None
    when it is to be told nothing (it revoked its token itself)."""
    if state == State.ACTIVE:
        return ("active", ACTIVE_MESSAGE) if account_active else ACCOUNT_GONE
    event = Event(reason)
    if event in UNTOLD:
        return None
    return TOLD[event]


RESOURCE_URL_MAX_LENGTH = 200
RESOURCE_URL_INVALID = _(
    "リソースのURLは、http:// または https:// で始まる、クエリやフラグメントのないURLで"
    "入力してください（200文字以内）。"
)


def validate_resource_url(value: str) -> str:
    """An API client's resource URL (RFC 8707: an absolute URI without a fragment; no
    query either, so that a resource server can match it as a prefix of its own URLs),
    or "" for none. Its length is checked first, so a long value costs nothing more."""
    value = value.strip()
    if not value:
        return ""
    if len(value) > RESOURCE_URL_MAX_LENGTH:
        raise ValidationError(RESOURCE_URL_INVALID, code="invalid")
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ValidationError(RESOURCE_URL_INVALID, code="invalid") from None
    parts = urlsplit(value)
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValidationError(RESOURCE_URL_INVALID, code="invalid")
    return value

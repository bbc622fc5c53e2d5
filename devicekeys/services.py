"""Business operations on device authentication keys (端末認証キー): one function
per operation.

Views, manage.py commands, Django admin and the user-ID services all call these.
Each owns its transaction, looks up and locks the row it changes itself (raising
DeviceKeyNotFound or UserNotFound when it is gone or another contract's), asks
devicekeys.rules whether the change is allowed (raising InvalidTransition when
not), and raises ValidationError keyed by the console's form fields (user,
device_name) for bad input, or core.exceptions.LimitReached at 999 keys. `actor` is
required: the signed-in account, or a core.actors.System.

The key value is a secret: it goes only into the row, the administrator's screen
and the user's mail. Log lines name keys by id.
"""

import logging
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from accounts.exceptions import UserNotFound
from accounts.models import Actor, Contract, Role, User
from api.registrations import app_registration_create, app_registrations_apply
from api.rules import Event
from api.tokens import IssuedTokens
from audit import services as audit
from audit.actions import Action as AuditAction
from devicekeys import credentials, rules, wrong_entries
from devicekeys.exceptions import (
    DeviceKeyNotFound,
    KeyEntryRefused,
    NoKeyWaiting,
    TooManyEntries,
    WrongKey,
)
from devicekeys.models import AccessSetting, DeviceKey
from devicekeys.rules import KEYS_PER_CONTRACT, Action, By, Client
from devicekeys.selectors import access_setting_get, device_key_count, waiting_keys
from notifications import kinds
from notifications.services import notify

logger = logging.getLogger(__name__)

UNKNOWN_USER = _("選択したログインIDが見つかりません。一覧から選び直してください。")
USER_AGENT_MAX_LENGTH = DeviceKey._meta.get_field("last_user_agent").max_length


def _actor_id(actor: Actor) -> str:
    return str(actor.pk) if isinstance(actor, User) else str(actor)


def _record(event: AuditAction, key: DeviceKey, actor: Actor, changes: dict | None = None) -> None:
    """The audit entry (in the caller's transaction) and a log line; both name the
    key by its device name and login ID, never by its value."""
    audit.record(
        event,
        contract=key.contract,
        actor=actor,
        target=f"{key.device_name} ({key.user.login_id})",
        changes=changes,
    )
    logger.info(
        "device key %s %s (contract %s, user %s, actor %s)",
        key.pk,
        event,
        key.contract_id,
        key.user_id,
        _actor_id(actor),
    )


def _contract_user(contract: Contract, user: User) -> User:
    """The user ID `user` as a member of this contract, or UserNotFound."""
    found = User.objects.for_contract(contract).users().filter(pk=user.pk).first()
    if found is None:
        raise UserNotFound
    return found


def _locked_key(contract: Contract, key: DeviceKey) -> DeviceKey:
    """The contract's key `key` read again (with its login ID) and locked to the end of
    the transaction, or DeviceKeyNotFound: deleted meanwhile, or not this contract's."""
    keys = (
        DeviceKey.objects.for_contract(contract)
        .filter(user__contract=contract)
        .select_related("user")
        .select_for_update(of=("self",))
    )
    found = keys.filter(pk=key.pk).first()
    if found is None:
        raise DeviceKeyNotFound
    return found


def _clean_device_name(value: str) -> str:
    """The rule's trimmed name, or its error keyed by the form field."""
    try:
        return rules.clean_device_name(value)
    except ValidationError as error:
        raise ValidationError({"device_name": error.error_list}) from error


def _new_key_value(contract: Contract) -> str:
    """A key no other usable key of the contract holds (caller holds the contract lock).

    Registered keys are kept only as salted hashes and can never be entered
    again, so only the keys still in clear can collide; the partial unique
    constraint on (contract, key) holds the same rule in the database.
    """
    keys = DeviceKey.objects.for_contract(contract)
    while True:
        value = rules.generate_key()
        if not keys.filter(key=value).exists():
            return value


def _set_new_key(key: DeviceKey, value: str) -> None:
    """Give `key` a new, unregistered value: what issue and reissue share."""
    key.key = value
    key.key_suffix = rules.key_suffix(value)
    key.key_hash = ""
    key.status = rules.NEW.status
    key.created_at = timezone.now()
    key.registered_at = None
    key.last_used_at = None
    key.credential_hash = ""  # the device that had registered the old value is out
    key.last_ip = None
    key.last_user_agent = ""
    key.registered_by = ""


@sensitive_variables("value")
@transaction.atomic
def device_key_issue(
    *, contract: Contract, user: User, actor: Actor, device_name: str = ""
) -> DeviceKey:
    """端末認証キー新規発行: a new key for `user`, 利用中 and not yet registered, mailed
    to the user's address. A blank `device_name` becomes 端末-N. A user ID that is not
    (or no longer) the contract's is an error of the form's `user` field."""
    rules.apply(Action.ISSUE, rules.GONE, by=By.ADMINISTRATOR)
    contract = Contract.objects.lock(contract)
    try:
        user = _contract_user(contract, user)
    except UserNotFound as error:
        raise ValidationError({"user": UNKNOWN_USER}, code="unknown_user") from error
    count = device_key_count(contract=contract)
    KEYS_PER_CONTRACT.check(count)
    if device_name.strip():
        device_name = _clean_device_name(device_name)
    else:
        device_name = rules.default_device_name(count)
    key = DeviceKey(contract=contract, user=user, device_name=device_name)
    value = _new_key_value(contract)
    _set_new_key(key, value)
    key.save()
    notify("device_key_issued", user=user, key=value, device_name=key.device_name)
    _record(AuditAction.DEVICE_KEY_ISSUED, key, actor, {"device_key": ["", key.masked_key]})
    return key


@transaction.atomic
def device_key_rename(
    *, contract: Contract, key: DeviceKey, device_name: str, actor: Actor
) -> DeviceKey:
    """端末名変更: 1–32 characters, trimmed; duplicates are allowed."""
    device_name = _clean_device_name(device_name)
    key = _locked_key(contract, key)
    rules.apply(Action.RENAME, key.state, by=By.ADMINISTRATOR)
    before = key.device_name
    key.device_name = device_name
    key.save(update_fields=["device_name"])
    _record(AuditAction.DEVICE_KEY_RENAMED, key, actor, {"device_name": [before, device_name]})
    return key


@sensitive_variables("value")
@transaction.atomic
def device_key_reissue(*, contract: Contract, key: DeviceKey, actor: Actor) -> DeviceKey:
    """再発行: a new key value, registration cleared, status 利用中, wrong entries
    reset, mailed to the user. The device that had registered the old key loses
    access at its next request."""
    contract = Contract.objects.lock(contract)
    key = _locked_key(contract, key)
    rules.apply(Action.REISSUE, key.state, by=By.ADMINISTRATOR)
    app_registrations_apply(
        contract=contract, event=Event.KEY_REISSUED, actor=actor, device_keys=[key.pk]
    )
    value = _new_key_value(contract)
    _set_new_key(key, value)
    key.save()
    notify("device_key_reissued", user=key.user, key=value, device_name=key.device_name)
    _record(AuditAction.DEVICE_KEY_REISSUED, key, actor, {"device_key": ["", key.masked_key]})
    return key


def _change_status(contract: Contract, key: DeviceKey, action: Action, actor: Actor):
    key = _locked_key(contract, key)
    before = key.status
    key.status = rules.apply(action, key.state, by=By.ADMINISTRATOR).status
    key.save(update_fields=["status"])
    event = (
        AuditAction.DEVICE_KEY_STOPPED
        if action == Action.STOP
        else AuditAction.DEVICE_KEY_UNSTOPPED
    )
    _record(event, key, actor, {"status": [before, key.status]})
    app_event = Event.KEY_STOPPED if action == Action.STOP else Event.KEY_UNSTOPPED
    app_registrations_apply(contract=contract, event=app_event, actor=actor, device_keys=[key.pk])
    return key


@transaction.atomic
def device_key_stop(*, contract: Contract, key: DeviceKey, actor: Actor) -> DeviceKey:
    """停止 (遠隔アクセスロック): 利用停止; the registered device loses access at its
    next request."""
    return _change_status(contract, key, Action.STOP, actor)


@transaction.atomic
def device_key_unstop(*, contract: Contract, key: DeviceKey, actor: Actor) -> DeviceKey:
    """停止解除: back to 利用中; the registered device works again without a new key."""
    return _change_status(contract, key, Action.UNSTOP, actor)


@transaction.atomic
def device_key_delete(*, contract: Contract, key: DeviceKey, actor: Actor) -> None:
    """削除: the key is gone and the device that registered it can no longer use the service."""
    key = _locked_key(contract, key)
    rules.apply(Action.DELETE, key.state, by=By.ADMINISTRATOR)
    _record(AuditAction.DEVICE_KEY_DELETED, key, actor)
    app_registrations_apply(
        contract=contract, event=Event.KEY_DELETED, actor=actor, device_keys=[key.pk]
    )
    key.delete()


@transaction.atomic
def device_key_stop_all_for_user(*, contract: Contract, user: User, actor: Actor) -> int:
    """「このログインIDの全キーを停止」: stop every key of `user` that can be stopped
    (a 無効 or already stopped key stays as it is). Returns how many were stopped."""
    user = _contract_user(contract, user)
    stoppable = [
        state.status
        for state in rules.STATES
        if rules.allowed(Action.STOP, state, by=By.ADMINISTRATOR)
    ]
    keys = DeviceKey.objects.for_contract(contract).filter(user=user, status__in=stoppable)
    # Only the keys' rows are locked (of=self): FOR UPDATE on the joined contract and
    # user rows would deadlock against an issue or 再発行 holding the contract lock.
    stopped = []
    for key in keys.select_related("contract", "user").select_for_update(of=("self",)):
        before, key.status = key.status, rules.Status.STOPPED
        _record(AuditAction.DEVICE_KEY_STOPPED, key, actor, {"status": [before, key.status]})
        stopped.append(key.pk)
    app_registrations_apply(
        contract=contract, event=Event.KEY_STOPPED, actor=actor, device_keys=stopped
    )
    return keys.update(status=rules.Status.STOPPED)


@transaction.atomic
def device_key_delete_all_for_user(*, contract: Contract, user: User, actor: Actor) -> int:
    """Delete every key of `user` (the user-ID deletion calls this). Returns how many."""
    user = _contract_user(contract, user)
    keys = DeviceKey.objects.for_contract(contract).filter(user=user)
    for key in keys.select_related("contract", "user"):
        _record(AuditAction.DEVICE_KEY_DELETED, key, actor)
    app_registrations_apply(contract=contract, event=Event.KEY_DELETED, actor=actor, user=user)
    deleted = keys.delete()[1].get(DeviceKey._meta.label, 0)
    return deleted


# --- For the sign-in flow -----------------------------------------------------------


@transaction.atomic
def device_key_register(
    *,
    contract: Contract,
    key: DeviceKey,
    actor: Actor,
    credential_hash: str = "",
    device_name: str = "",
    client: Client = Client.BROWSER,
    ip: str | None = None,
    user_agent: str = "",
) -> DeviceKey:
    """A device has entered this (unregistered, 利用中) key: from now on the key is
    kept only as a salted hash and shown masked; it can never be entered again.
    The key keeps the hash of a browser's credential, the name the device goes
    by (when given), what registered it (a browser, an app) and its first use
    (time, IP address, browser)."""
    key = _locked_key(contract, key)
    rules.apply(Action.REGISTER, key.state, by=By.SIGN_IN)
    key.key_hash = make_password(key.key)
    key.key = ""
    key.credential_hash = credential_hash
    key.device_name = device_name or key.device_name
    key.registered_at = key.last_used_at = timezone.now()
    key.last_ip = ip
    key.last_user_agent = user_agent[:USER_AGENT_MAX_LENGTH]
    key.registered_by = client
    key.save(
        update_fields=[
            "key",
            "key_hash",
            "credential_hash",
            "device_name",
            "registered_at",
            "last_used_at",
            "last_ip",
            "last_user_agent",
            "registered_by",
        ]
    )
    _record(AuditAction.DEVICE_REGISTERED, key, actor, {"registered_by": ["", client]})
    return key


@transaction.atomic
def device_key_record_wrong_entry(
    *, contract: Contract, user: User, actor: Actor, ip: str | None
) -> int:
    """`user` entered a wrong key at sign-in, from the address `ip`: one more for both
    limits of devicekeys.wrong_entries. At the third in a row every key of the login
    ID that is waiting for a device (利用中, unregistered) becomes 無効, which only
    再発行 undoes. Returns how many more wrong entries are allowed: 0 when the keys
    have just become 無効."""
    return _count_wrong_entry(
        wrong_entries.lock_counter(contract, user), contract=contract, user=user, actor=actor, ip=ip
    )


def _count_wrong_entry(counter, *, contract: Contract, user: User, actor: Actor, ip) -> int:
    counted = wrong_entries.count_wrong(counter, ip=ip)
    audit.record(
        AuditAction.DEVICE_KEY_WRONG,
        contract=contract,
        actor=actor,
        target=user.login_id,
        changes={"wrong_entries": [counted.before, counted.after]},
    )
    if counted.invalidates:
        waiting = waiting_keys(contract=contract, user=user).select_related("contract", "user")
        for key in waiting.select_for_update(of=("self",)):
            key.status = rules.apply(Action.MARK_INVALID, key.state, by=By.SIGN_IN).status
            key.save(update_fields=["status"])
            _record(AuditAction.DEVICE_KEY_INVALIDATED, key, actor)
    return counted.remaining


def _registered_device_name(contract: Contract, key: DeviceKey, wanted: str) -> str:
    """A key issued without a name (端末-N) takes the name the device goes by (a
    browser's own, an app's or its client's), numbered like the guide's Chrome-16
    when the contract has it already; a name the administrator chose stays."""
    if not wanted or not rules.is_default_device_name(key.device_name):
        return key.device_name
    others = DeviceKey.objects.for_contract(contract).exclude(pk=key.pk)
    taken = others.filter(device_name__startswith=wanted).values_list("device_name", flat=True)
    return rules.free_device_name(wanted, taken)


@dataclass(frozen=True)
class Enrollment:
    """A device has registered `key`. A browser's credential is `token`, its cookie
    (the key keeps its hash); an app's are `app_tokens`, its access and refresh tokens
    (its app registration keeps their hashes). Only the device ever holds them."""

    key: DeviceKey
    token: str = field(repr=False, default="")
    app_tokens: IssuedTokens | None = None


@sensitive_variables("entered", "token")
@transaction.atomic
def _enter(
    *, contract, actor, user, entered, ip, user_agent, client, device_name
) -> Enrollment | KeyEntryRefused:
    if wait := wrong_entries.address_blocked(contract, ip):
        return TooManyEntries(wait)
    counter = wrong_entries.lock_counter(contract, user)
    waiting = list(waiting_keys(contract=contract, user=user).select_for_update())
    if not waiting:
        return NoKeyWaiting()
    match = next((key for key in waiting if constant_time_compare(key.key, entered)), None)
    if match is None:
        return WrongKey(
            _count_wrong_entry(counter, contract=contract, user=user, actor=actor, ip=ip)
        )
    wrong_entries.reset(counter)
    browser = client == Client.BROWSER
    token = credentials.new_token() if browser else ""
    wanted = rules.browser_name(user_agent) if browser else device_name
    key = device_key_register(
        contract=contract,
        key=match,
        actor=actor,
        # A browser's cookie is checked against its key on every request; an app's
        # token is its app registration's (api.registrations).
        credential_hash=credentials.token_hash(token) if browser else "",
        device_name=_registered_device_name(contract, match, wanted),
        client=client,
        ip=ip,
        user_agent=user_agent,
    )
    app_tokens = None
    if not browser:
        _registration, app_tokens = app_registration_create(
            contract=contract,
            user=user,
            client=client,
            device_name=key.device_name,
            device_key=key,
            ip=ip,
        )
    if access_setting_get(contract=contract).notify_on_register:
        administrator = User.objects.for_contract(contract).get(role=Role.ADMINISTRATOR)
        notify(
            kinds.DEVICE_KEY_REGISTERED,
            user=administrator,
            key_login_id=user.login_id,
            device_name=key.device_name,
            ip_address=ip or "",
        )
    return Enrollment(key=key, token=token, app_tokens=app_tokens)


@sensitive_variables("entered")
def device_key_enter(
    *,
    contract: Contract,
    actor: Actor,
    user: User,
    entered: str,
    ip: str | None,
    user_agent: str,
    client: Client = Client.BROWSER,
    device_name: str = "",
) -> Enrollment:
    """端末認証キーの入力: `user`, whose password was right, enters a key in a browser
    that holds no credential for them (the sign-in page), or in an app or tool
    (`client`, the token API, with the name the app gives or its client's).

    A key of `user` waiting for a device (利用中, unregistered) that matches
    registers this device (device_key_register): the device gets a new credential
    token (a cookie, or an access token), an unnamed key the device's name, and the
    administrator a mail when アクセス設定 asks for one. Otherwise a KeyEntryRefused
    is raised: WrongKey (counted per login ID and per address:
    devicekeys.wrong_entries), NoKeyWaiting, or TooManyEntries (too many wrong keys of
    the contract from this IP address, whatever the login ID). A wrong entry is
    committed before the exception is raised.
    """
    outcome = _enter(
        contract=contract,
        actor=actor,
        user=user,
        entered=rules.normalize_entered_key(entered),
        ip=ip,
        user_agent=user_agent,
        client=client,
        device_name=device_name or rules.APP_DEVICE_NAMES.get(client, ""),
    )
    if isinstance(outcome, KeyEntryRefused):
        raise outcome
    return outcome


def device_key_record_use(
    *, contract_id: int, key_id: int, ip: str | None = None, user_agent: str | None = None
) -> None:
    """最終利用日時 of a registered key, and the device's IP address and browser when
    known, for the administrator's list. A browser's request check and the storage
    service's introspection of an app's token call this at most once a minute per
    key: one UPDATE, no lock. (The introspection knows no device address.)"""
    values = {"last_used_at": timezone.now()}
    if ip is not None or user_agent is not None:
        values |= {"last_ip": ip, "last_user_agent": (user_agent or "")[:USER_AGENT_MAX_LENGTH]}
    DeviceKey.objects.filter(contract_id=contract_id, pk=key_id).update(**values)


def device_key_record_refusal(
    *, contract: Contract, actor: User, key: DeviceKey | None, reason: rules.Refusal
) -> None:
    """A signed-in device was refused (停止, 再発行, 削除, ...) and its session ended."""
    audit.record(
        AuditAction.SESSION_ENDED,
        contract=contract,
        actor=actor,
        target=f"{key.device_name} ({actor.login_id})" if key else actor.login_id,
        changes={"reason": ["", reason.value]},
    )
    logger.info("session of user %s ended: device %s", actor.pk, reason.value)


ACCESS_SETTING_FIELDS = ("device_auth_required", "notify_on_register")


@transaction.atomic
def access_setting_change(
    *, contract: Contract, actor: Actor, device_auth_required: bool, notify_on_register: bool
) -> AccessSetting:
    """アクセス設定: whether the contract's users need a device authentication key at
    sign-in, and whether the administrator is mailed when a device registers one.
    Sessions already signed in keep the check they signed in with. Switching it on
    ends, for good, every app registration bound to a login ID alone (api.rules)."""
    before = access_setting_get(contract=contract)
    setting, _created = AccessSetting.objects.update_or_create(
        contract=contract,
        defaults={
            "device_auth_required": device_auth_required,
            "notify_on_register": notify_on_register,
        },
    )
    changes = {
        name: [getattr(before, name), getattr(setting, name)]
        for name in ACCESS_SETTING_FIELDS
        if getattr(before, name) != getattr(setting, name)
    }
    if changes:
        audit.record(
            AuditAction.ACCESS_SETTING_CHANGED, contract=contract, actor=actor, changes=changes
        )
    if device_auth_required and not before.device_auth_required:
        # For good: the login-ID tokens proved no key, and switching device
        # authentication off again revives none of them.
        app_registrations_apply(contract=contract, event=Event.KEY_REQUIRED, actor=actor)
    return setting

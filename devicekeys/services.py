"""Business operations on device authentication keys (端末認証キー): one function
per operation.

Views, manage.py commands and the user-ID services all call these. Each owns its
transaction, asks devicekeys.rules whether the change is allowed (raising
devicekeys.exceptions.InvalidTransition when not), and raises ValidationError
keyed by the console's form fields (user, device_name) for bad input, or
accounts.exceptions.LimitReached at 999 keys.

The key value is a secret: it goes only into the row, the administrator's screen
and the user's mail. Log lines name keys by id.
"""

import logging

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from accounts.exceptions import LimitReached
from accounts.models import Contract, Role, User
from audit import services as audit
from audit.actions import Action as AuditAction
from devicekeys import rules
from devicekeys.models import DeviceKey
from devicekeys.rules import Action, By
from devicekeys.selectors import access_device_key, device_key_count
from notifications.services import notify

logger = logging.getLogger(__name__)

KEY_LIMIT_REACHED = _(
    "端末認証キーは1契約につき%(limit)d個まで作成できます。"
    "追加で作成するには、不要な端末認証キーを削除してください。"
)
UNKNOWN_USER = _("選択したログインIDが見つかりません。一覧から選び直してください。")
DEFAULT_DEVICE_NAME = "端末-%(number)d"


def _actor_id(actor: User | None) -> str:
    return str(actor.pk) if actor is not None else "command"


def _record(
    event: AuditAction, key: DeviceKey, actor: User | None, changes: dict | None = None
) -> None:
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
    """The user ID `user` as a member of this contract, or a field error."""
    found = User.objects.for_contract(contract).filter(role=Role.USER, pk=user.pk).first()
    if found is None:
        raise ValidationError({"user": UNKNOWN_USER}, code="unknown_user")
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
    key.wrong_entries = 0
    key.created_at = timezone.now()
    key.registered_at = None
    key.last_used_at = None


@sensitive_variables("value")
@transaction.atomic
def device_key_issue(
    *, contract: Contract, user: User, actor: User | None, device_name: str = ""
) -> DeviceKey:
    """端末認証キー新規発行: a new key for `user`, 利用中 and not yet registered, mailed
    to the user's address. A blank `device_name` becomes 端末-N."""
    rules.apply(Action.ISSUE, rules.GONE, by=By.ADMINISTRATOR)
    contract = Contract.objects.lock(contract)
    user = _contract_user(contract, user)
    count = device_key_count(contract=contract)
    if count >= rules.KEY_LIMIT:
        raise LimitReached(KEY_LIMIT_REACHED % {"limit": rules.KEY_LIMIT})
    if device_name.strip():
        device_name = _clean_device_name(device_name)
    else:
        device_name = DEFAULT_DEVICE_NAME % {"number": count + 1}
    key = DeviceKey(contract=contract, user=user, device_name=device_name)
    value = _new_key_value(contract)
    _set_new_key(key, value)
    key.save()
    notify("device_key_issued", user=user, key=value, device_name=key.device_name)
    _record(
        AuditAction.DEVICE_KEY_ISSUED,
        key,
        actor,
        {"device_key": ["", rules.masked_key(value[-2:])]},
    )
    return key


@transaction.atomic
def device_key_rename(
    *, contract: Contract, key: DeviceKey, device_name: str, actor: User | None
) -> DeviceKey:
    """端末名変更: 1–32 characters, trimmed; duplicates are allowed."""
    device_name = _clean_device_name(device_name)
    key = access_device_key(contract, key.pk, for_update=True)
    rules.apply(Action.RENAME, key.state, by=By.ADMINISTRATOR)
    before = key.device_name
    key.device_name = device_name
    key.save(update_fields=["device_name"])
    _record(AuditAction.DEVICE_KEY_RENAMED, key, actor, {"device_name": [before, device_name]})
    return key


@sensitive_variables("value")
@transaction.atomic
def device_key_reissue(*, contract: Contract, key: DeviceKey, actor: User | None) -> DeviceKey:
    """再発行: a new key value, registration cleared, status 利用中, wrong entries
    reset, mailed to the user. The device that had registered the old key loses
    access at its next request."""
    contract = Contract.objects.lock(contract)
    key = access_device_key(contract, key.pk, for_update=True)
    rules.apply(Action.REISSUE, key.state, by=By.ADMINISTRATOR)
    value = _new_key_value(contract)
    _set_new_key(key, value)
    key.save()
    notify("device_key_reissued", user=key.user, key=value, device_name=key.device_name)
    _record(
        AuditAction.DEVICE_KEY_REISSUED,
        key,
        actor,
        {"device_key": ["", rules.masked_key(value[-2:])]},
    )
    return key


def _change_status(contract: Contract, key: DeviceKey, action: Action, actor: User | None):
    key = access_device_key(contract, key.pk, for_update=True)
    before = key.get_status_display()
    key.status = rules.apply(action, key.state, by=By.ADMINISTRATOR).status
    key.save(update_fields=["status"])
    event = (
        AuditAction.DEVICE_KEY_STOPPED
        if action == Action.STOP
        else AuditAction.DEVICE_KEY_UNSTOPPED
    )
    _record(event, key, actor, {"status": [before, key.get_status_display()]})
    return key


@transaction.atomic
def device_key_stop(*, contract: Contract, key: DeviceKey, actor: User | None) -> DeviceKey:
    """停止 (遠隔アクセスロック): 利用停止; the registered device loses access at its
    next request."""
    return _change_status(contract, key, Action.STOP, actor)


@transaction.atomic
def device_key_unstop(*, contract: Contract, key: DeviceKey, actor: User | None) -> DeviceKey:
    """停止解除: back to 利用中; the registered device works again without a new key."""
    return _change_status(contract, key, Action.UNSTOP, actor)


@transaction.atomic
def device_key_delete(*, contract: Contract, key: DeviceKey, actor: User | None) -> None:
    """削除: the key is gone and the device that registered it can no longer use the service."""
    key = access_device_key(contract, key.pk, for_update=True)
    rules.apply(Action.DELETE, key.state, by=By.ADMINISTRATOR)
    _record(AuditAction.DEVICE_KEY_DELETED, key, actor)
    key.delete()


@transaction.atomic
def device_key_stop_all_for_user(*, contract: Contract, user: User, actor: User | None) -> int:
    """「このログインIDの全キーを停止」: stop every key of `user` that can be stopped
    (a 無効 or already stopped key stays as it is). Returns how many were stopped."""
    user = _contract_user(contract, user)
    stoppable = [
        state.status
        for state in rules.STATES
        if rules.allowed(Action.STOP, state, by=By.ADMINISTRATOR)
    ]
    keys = DeviceKey.objects.for_contract(contract).filter(user=user, status__in=stoppable)
    for key in keys.select_related("contract", "user").select_for_update():
        before = key.get_status_display()
        key.status = rules.Status.STOPPED
        _record(
            AuditAction.DEVICE_KEY_STOPPED,
            key,
            actor,
            {"status": [before, key.get_status_display()]},
        )
    return keys.update(status=rules.Status.STOPPED)


@transaction.atomic
def device_key_delete_all_for_user(*, contract: Contract, user: User, actor: User | None) -> int:
    """Delete every key of `user` (the user-ID deletion calls this). Returns how many."""
    user = _contract_user(contract, user)
    keys = DeviceKey.objects.for_contract(contract).filter(user=user)
    for key in keys.select_related("contract", "user"):
        _record(AuditAction.DEVICE_KEY_DELETED, key, actor)
    deleted, _by_model = keys.delete()
    return deleted


# --- For the sign-in flow -----------------------------------------------------------


@transaction.atomic
def device_key_register(
    *, contract: Contract, key: DeviceKey, actor: User | None = None
) -> DeviceKey:
    """A device has entered this (unregistered, 利用中) key: from now on the key is
    kept only as a salted hash and shown masked; it can never be entered again."""
    key = access_device_key(contract, key.pk, for_update=True)
    rules.apply(Action.REGISTER, key.state, by=By.SIGN_IN)
    key.key_hash = make_password(key.key)
    key.key = ""
    key.wrong_entries = 0
    key.registered_at = timezone.now()
    key.save(update_fields=["key", "key_hash", "wrong_entries", "registered_at"])
    _record(AuditAction.DEVICE_REGISTERED, key, actor)
    return key


@transaction.atomic
def device_key_record_wrong_entry(
    *, contract: Contract, key: DeviceKey, actor: User | None = None
) -> DeviceKey:
    """The user entered a wrong key for this (unregistered, 利用中) key; at the
    third wrong entry the key becomes 無効 and only 再発行 brings it back."""
    key = access_device_key(contract, key.pk, for_update=True)
    # Entries count only against a key that is waiting for its device.
    invalid_state = rules.apply(Action.MARK_INVALID, key.state, by=By.SIGN_IN)
    key.wrong_entries, invalid = rules.after_wrong_entry(key.wrong_entries)
    if invalid:
        key.status = invalid_state.status
        _record(AuditAction.DEVICE_KEY_INVALIDATED, key, actor)
    key.save(update_fields=["wrong_entries", "status"])
    return key

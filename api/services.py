"""The operations of the app API (docs/API.md): one function each, like every
service of the console. Keys, their registration and their three strikes stay the
business of devicekeys.services; this module adds what an app needs besides.

Tokens. An app's access token is 256 random bits with a prefix that says what it is
bound to, and the console keeps only its SHA-256:
- `azd_…` bound to a key's registration: its hash is the key's credential_hash,
  exactly like a browser's cookie credential. 停止 makes it inactive, 停止解除
  active again; 再発行, 削除, the login ID deleted or disabled end it for good.
- `azu_…` bound to the login ID alone (an AccountToken), where アクセス設定 does not
  require device authentication. It opens nothing while the contract requires it.
A token has no expiry: it lives as long as the registration it is bound to.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import BooleanField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from accounts.models import Actor, User
from api.models import AccountToken, ApiClient
from audit import services as audit
from audit.actions import Action
from devicekeys import credentials, rules
from devicekeys.models import AccessSetting, DeviceKey, RetiredCredential
from devicekeys.rules import Client, Refusal
from devicekeys.services import device_key_record_use, device_key_sign_out

logger = logging.getLogger(__name__)

SCOPE = "storage"  # what a token opens: the storage service, as its user ID
ACCOUNT_TOKEN_PREFIX = "azu_"  # noqa: S105 (a prefix, not a secret)
CLIENT_ID_PREFIX = "azc_"
USE_WRITE_INTERVAL = timedelta(minutes=1)  # 最終利用日時, as for browsers

# GET /api/device/status: the state an app is told, by why its token opens nothing.
STATES = {
    None: "active",
    Refusal.STOPPED: "stopped",
    Refusal.INVALID: "invalid",
    Refusal.REISSUED: "reissued",
    Refusal.DELETED: "deleted",
    Refusal.ACCOUNT_GONE: "invalid",
    Refusal.KEY_REQUIRED: "invalid",
}
ACTIVE_MESSAGE = _("この端末はご利用になれます。")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- API clients (the storage service) --------------------------------------------------


@sensitive_variables("secret")
@transaction.atomic
def api_client_create(
    *, name: str, actor: Actor, client_id: str = "", secret: str = ""
) -> tuple[ApiClient, str]:
    """A new resource server client; returns it and its secret, which exists nowhere
    else afterwards (only its hash is kept). Both are random; only the development
    data of seed_demo names them, so that docs/API.md's examples work as written."""
    secret = secret or secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name.strip()[:100],
        client_id=client_id or CLIENT_ID_PREFIX + secrets.token_urlsafe(12),
        secret_hash=_hash(secret),
    )
    audit.record(Action.API_CLIENT_CREATED, contract=None, actor=actor, target=str(client))
    logger.info("API client %s created", client.client_id)
    return client, secret


@transaction.atomic
def api_client_revoke(*, client: ApiClient, actor: Actor) -> ApiClient:
    """The client can introspect no more (its secret opens nothing). Idempotent."""
    updated = ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated:
        audit.record(Action.API_CLIENT_REVOKED, contract=None, actor=actor, target=str(client))
        logger.info("API client %s revoked", client.client_id)
    return ApiClient.objects.get(pk=client.pk)


@sensitive_variables("secret")
def api_client_authenticate(client_id: str, secret: str) -> ApiClient | None:
    """The active client with this ID and secret, or None (one query)."""
    client = ApiClient.objects.filter(client_id=client_id, revoked_at__isnull=True).first()
    if client is None or not constant_time_compare(client.secret_hash, _hash(secret)):
        return None
    return client


# --- Tokens -------------------------------------------------------------------------------


@sensitive_variables("token")
@transaction.atomic
def account_token_issue(*, user: User, client: Client, device_name: str, actor: Actor) -> str:
    """An app's token bound to the login ID alone (アクセス設定 requires no key).
    Returns the token; only its hash is kept."""
    token = ACCOUNT_TOKEN_PREFIX + secrets.token_urlsafe(credentials.TOKEN_BYTES)
    name = device_name or rules.APP_DEVICE_NAMES[client]
    AccountToken.objects.create(
        contract_id=user.contract_id,
        user=user,
        token_hash=_hash(token),
        client=client,
        device_name=name,
    )
    audit.record(
        Action.DEVICE_REGISTERED,
        contract=user.contract,
        actor=actor,
        target=f"{name} ({user.login_id})",
        changes={"registered_by": ["", client]},
    )
    return token


@transaction.atomic
def app_registration_refused(*, user: User, client: Client) -> None:
    """An app of `user` gave a right password but no key a device could register now
    (none issued, all registered, 利用停止 or 無効): recorded for the administrator."""
    audit.record(
        Action.APP_REGISTRATION_REFUSED,
        contract=user.contract,
        actor=user,
        target=user.login_id,
        changes={"registered_by": ["", client]},
    )


@dataclass(frozen=True)
class Holder:
    """What a token is bound to, as found now, and why it opens nothing (`refusal`,
    None while it is active)."""

    user: User
    client: str
    device_name: str
    issued_at: datetime
    refusal: Refusal | None
    key: DeviceKey | None = None
    account_token: AccountToken | None = None

    @property
    def active(self) -> bool:
        return self.refusal is None

    @property
    def last_used_at(self) -> datetime | None:
        return (self.key or self.account_token).last_used_at


def _key_holder(token: str) -> Holder | None:
    key = (
        DeviceKey.objects.filter(credential_hash=credentials.token_hash(token))
        .select_related("user", "contract")
        .first()
    )
    if key is None:
        return None
    if not key.user.is_active:
        refusal = Refusal.ACCOUNT_GONE
    else:
        refusal = rules.refusal(key.state, same_credential=True, credential_in_browser=True)
    return Holder(
        user=key.user,
        client=key.registered_by,
        device_name=key.device_name,
        issued_at=key.registered_at,
        refusal=refusal,
        key=key,
    )


def _account_holder(token: str) -> Holder | None:
    setting = AccessSetting.objects.filter(contract=OuterRef("contract")).values(
        "device_auth_required"
    )[:1]
    found = (
        AccountToken.objects.filter(token_hash=_hash(token))
        .select_related("user")
        .annotate(
            key_required=Coalesce(
                Subquery(setting), Value(True), output_field=BooleanField()
            )  # no row: the default, required
        )
        .first()
    )
    if found is None:
        return None
    refusal = None
    if not found.user.is_active:
        refusal = Refusal.ACCOUNT_GONE
    elif found.key_required:
        refusal = Refusal.KEY_REQUIRED
    return Holder(
        user=found.user,
        client=found.client,
        device_name=found.device_name,
        issued_at=found.created_at,
        refusal=refusal,
        account_token=found,
    )


@sensitive_variables("token")
def token_holder(token: str) -> Holder | None:
    """What this access token is bound to, or None for a token that opens nothing
    (unknown, revoked, reissued, deleted): one query."""
    if token.startswith(credentials.APP_TOKEN_PREFIX):
        return _key_holder(token)
    if token.startswith(ACCOUNT_TOKEN_PREFIX):
        return _account_holder(token)
    return None


@sensitive_variables("token")
def token_introspect(token: str) -> dict:
    """RFC 7662: what the storage service may know of a token. One query (the token),
    and at most once a minute per registration the UPDATE of its 最終利用日時."""
    holder = token_holder(token)
    if holder is None or not holder.active:
        return {"active": False}
    _record_use(holder)
    return {
        "active": True,
        "scope": SCOPE,
        "client_id": holder.client,
        "username": holder.user.login_id,
        "sub": str(holder.user.pk),
        "token_type": "Bearer",
        "iat": int(holder.issued_at.timestamp()),
        "contract": holder.user.contract_id,
        "device_key_id": holder.key.pk if holder.key else None,
        "device_name": holder.device_name,
    }


def _record_use(holder: Holder) -> None:
    now = timezone.now()
    if holder.last_used_at is not None and now - holder.last_used_at < USE_WRITE_INTERVAL:
        return
    if holder.key is not None:
        device_key_record_use(contract=holder.key.contract, key=holder.key)
    else:
        AccountToken.objects.filter(pk=holder.account_token.pk).update(last_used_at=now)


@dataclass(frozen=True)
class DeviceStatus:
    state: str
    message: str


@sensitive_variables("token")
def device_status(token: str) -> DeviceStatus | None:
    """GET /api/device/status: why an app's token opens nothing (or that it does), in
    the words a browser user is told; None for a token the console never gave or that
    the app revoked itself."""
    holder = token_holder(token)
    if holder is not None:
        refusal = holder.refusal
    else:
        retired = RetiredCredential.objects.filter(
            credential_hash=credentials.token_hash(token)
        ).first()
        if retired is None or not token.startswith(credentials.APP_TOKEN_PREFIX):
            return None
        refusal = Refusal(retired.reason)
    message = ACTIVE_MESSAGE if refusal is None else rules.REFUSAL_MESSAGES[refusal]
    return DeviceStatus(state=STATES[refusal], message=str(message))


@sensitive_variables("token")
def app_token_revoke(*, token: str) -> None:
    """RFC 7009, by the app (its sign-out): the token opens nothing any more. A key's
    registration stays and needs a 再発行 to register again, like a browser whose
    cookie was deleted. An unknown token is no error."""
    holder = token_holder(token)
    if holder is None:
        return
    if holder.key is not None:
        device_key_sign_out(contract=holder.key.contract, key=holder.key, actor=holder.user)
        return
    with transaction.atomic():
        deleted, _by_model = AccountToken.objects.filter(pk=holder.account_token.pk).delete()
        if deleted:
            audit.record(
                Action.DEVICE_SIGNED_OUT,
                contract=holder.user.contract,
                actor=holder.user,
                target=f"{holder.device_name} ({holder.user.login_id})",
                changes={"registered_by": [holder.client, ""]},
            )

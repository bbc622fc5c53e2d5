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
from core.prepared import PreparedQuery
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
    None while it is active): a key's registration, or an AccountToken."""

    user_id: int
    login_id: str
    contract_id: int
    client: str
    device_name: str
    issued_at: datetime
    last_used_at: datetime | None
    refusal: Refusal | None
    key_id: int | None = None
    account_token_id: int | None = None

    @property
    def active(self) -> bool:
        return self.refusal is None


# The lookups of a token, compiled once (core.prepared): its key with the login ID by
# the primary key the token names, or the login ID's token by its hash. For the
# introspection, the same query also reads the storage service's client (its secret's
# hash), so that an active token costs one round trip to the database.
KEY_FIELDS = (
    "credential_hash",
    "status",
    "registered_at",
    "device_name",
    "registered_by",
    "contract_id",
    "last_used_at",
    "user_id",
    "user__login_id",
    "user__is_active",
)
ACCOUNT_TOKEN_FIELDS = (
    "pk",
    "client",
    "device_name",
    "created_at",
    "last_used_at",
    "contract_id",
    "user_id",
    "user__login_id",
    "user__is_active",
    "key_required",
)
KEY_ID = -(2**62) + 17  # stand-ins of the compiled queries
TOKEN_HASH = "\x00token-hash\x00"  # noqa: S105 (a stand-in, not a secret)
CLIENT_ID = "\x00client-id\x00"


def _client_secret(client_id: str) -> Subquery:
    clients = ApiClient.objects.filter(client_id=client_id, revoked_at__isnull=True)
    return Subquery(clients.values("secret_hash")[:1])


def _keys(key_id: int, client_id: str | None = None):
    keys = DeviceKey.objects.filter(pk=key_id)
    if client_id is None:
        return keys.values_list(*KEY_FIELDS)[:1]
    return keys.annotate(client=_client_secret(client_id)).values_list(*KEY_FIELDS, "client")[:1]


def _account_tokens(token_hash: str, client_id: str | None = None):
    setting = AccessSetting.objects.filter(contract=OuterRef("contract"))
    tokens = AccountToken.objects.filter(token_hash=token_hash).annotate(
        # no アクセス設定 row: the default, required
        key_required=Coalesce(
            Subquery(setting.values("device_auth_required")[:1]),
            Value(True),
            output_field=BooleanField(),
        )
    )
    if client_id is None:
        return tokens.values_list(*ACCOUNT_TOKEN_FIELDS)[:1]
    tokens = tokens.annotate(client_secret=_client_secret(client_id))
    return tokens.values_list(*ACCOUNT_TOKEN_FIELDS, "client_secret")[:1]


_KEY = PreparedQuery(_keys, key_id=KEY_ID)
_KEY_AND_CLIENT = PreparedQuery(_keys, key_id=KEY_ID, client_id=CLIENT_ID)
_ACCOUNT_TOKEN = PreparedQuery(_account_tokens, token_hash=TOKEN_HASH)
_ACCOUNT_TOKEN_AND_CLIENT = PreparedQuery(
    _account_tokens, token_hash=TOKEN_HASH, client_id=CLIENT_ID
)
_CLIENT = PreparedQuery(
    lambda client_id: ApiClient.objects.filter(
        client_id=client_id, revoked_at__isnull=True
    ).values_list("secret_hash")[:1],
    client_id=CLIENT_ID,
)


def _key_holder(token: str, row: tuple) -> Holder | None:
    """The key's registration an app token is bound to, when its credential is the
    token's (compared in constant time)."""
    (credential, status, registered_at, name, client, contract_id, used_at, *user) = row
    if not constant_time_compare(credential, credentials.token_hash(token)):
        return None
    user_id, login_id, user_active = user
    if not user_active:
        refusal = Refusal.ACCOUNT_GONE
    else:
        state = rules.KeyState(rules.Status(status), registered=registered_at is not None)
        refusal = rules.refusal(state, same_credential=True, credential_in_browser=True)
    return Holder(
        user_id=user_id,
        login_id=login_id,
        contract_id=contract_id,
        client=client,
        device_name=name,
        issued_at=registered_at,
        last_used_at=used_at,
        refusal=refusal,
        key_id=credentials.key_id_of(token),
    )


def _account_holder(row: tuple) -> Holder:
    (pk, client, name, created_at, used_at, contract_id, *user, key_required) = row
    user_id, login_id, user_active = user
    refusal = None
    if not user_active:
        refusal = Refusal.ACCOUNT_GONE
    elif key_required:
        refusal = Refusal.KEY_REQUIRED
    return Holder(
        user_id=user_id,
        login_id=login_id,
        contract_id=contract_id,
        client=client,
        device_name=name,
        issued_at=created_at,
        last_used_at=used_at,
        refusal=refusal,
        account_token_id=pk,
    )


def _lookup(token: str, client_id: str | None = None) -> tuple[Holder | None, tuple]:
    """What the token is bound to (None: nothing), and what else the query read (the
    client's secret hash when `client_id` is given and the token's row exists)."""
    key_id = (
        credentials.key_id_of(token) if token.startswith(credentials.APP_TOKEN_PREFIX) else None
    )
    if key_id is not None:
        query = _KEY if client_id is None else _KEY_AND_CLIENT
        rows = query.rows(key_id=key_id, **({"client_id": client_id} if client_id else {}))
        width = len(KEY_FIELDS)
        if rows:
            return _key_holder(token, rows[0][:width]), rows[0][width:]
    elif token.startswith(ACCOUNT_TOKEN_PREFIX):
        query = _ACCOUNT_TOKEN if client_id is None else _ACCOUNT_TOKEN_AND_CLIENT
        values = {"token_hash": _hash(token), **({"client_id": client_id} if client_id else {})}
        rows = query.rows(**values)
        width = len(ACCOUNT_TOKEN_FIELDS)
        if rows:
            return _account_holder(rows[0][:width]), rows[0][width:]
    return None, ()


@sensitive_variables("token")
def token_holder(token: str) -> Holder | None:
    """What this access token is bound to, or None for a token that opens nothing
    (unknown, revoked, reissued, deleted): one query."""
    holder, _more = _lookup(token)
    return holder


@sensitive_variables("token", "client_secret")
def token_introspect(token: str, *, client_id: str, client_secret: str) -> dict | None:
    """RFC 7662: what the storage service may know of a token; None when the client
    (HTTP Basic) is not an active API client with this secret. One query for a token
    the console knows (its row and the client's together), two for another, and at
    most once a minute per registration the UPDATE of its 最終利用日時."""
    holder, more = _lookup(token, client_id)
    if not more:  # no row of the token: the client read on its own
        more = next(iter(_CLIENT.rows(client_id=client_id)), (None,))
    (client_hash,) = more
    if client_hash is None or not constant_time_compare(client_hash, _hash(client_secret)):
        return None
    if holder is None or not holder.active:
        return {"active": False}
    _record_use(holder)
    return {
        "active": True,
        "scope": SCOPE,
        "client_id": holder.client,
        "username": holder.login_id,
        "sub": str(holder.user_id),
        "token_type": "Bearer",
        "iat": int(holder.issued_at.timestamp()),
        "contract": holder.contract_id,
        "device_key_id": holder.key_id,
        "device_name": holder.device_name,
    }


def _record_use(holder: Holder) -> None:
    now = timezone.now()
    if holder.last_used_at is not None and now - holder.last_used_at < USE_WRITE_INTERVAL:
        return
    if holder.key_id is not None:
        device_key_record_use(contract_id=holder.contract_id, key_id=holder.key_id)
    else:
        AccountToken.objects.filter(pk=holder.account_token_id).update(last_used_at=now)


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
    user = User.objects.select_related("contract").get(pk=holder.user_id)
    if holder.key_id is not None:
        key = DeviceKey.objects.select_related("user").get(pk=holder.key_id)
        device_key_sign_out(contract=user.contract, key=key, actor=user)
        return
    with transaction.atomic():
        deleted, _by_model = AccountToken.objects.filter(pk=holder.account_token_id).delete()
        if deleted:
            audit.record(
                Action.DEVICE_SIGNED_OUT,
                contract=user.contract,
                actor=user,
                target=f"{holder.device_name} ({user.login_id})",
                changes={"registered_by": [holder.client, ""]},
            )

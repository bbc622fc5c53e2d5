"""The operations of the app API (docs/API.md): one function each, like every
service of the console. Keys, their registration and their three strikes stay the
business of devicekeys.services; this module adds what an app needs besides.

Tokens. An app's access token is 256 random bits with a prefix that says what it is
bound to, and the console keeps only its SHA-256, in its app registration
(api.models.AppRegistration, the one row the grant, the introspection, the
revocation, the status call and the console's lists share):
- `azd_…` bound to a key's registration: 停止 suspends it, 停止解除 lets it in again;
  再発行, 削除 and the login ID's deletion end it for good. A password change does
  not: the device proved its key.
- `azu_…` bound to the login ID alone, where アクセス設定 does not require device
  authentication: it ends with the password (changed or reset), the login ID's
  deletion, and for good when device authentication is switched on.
Both end with the app's own sign-out, the administrator's or the user's end and
全端末からサインアウト (api.rules holds the table). A token has no expiry.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.debug import sensitive_variables

from accounts.exceptions import UserNotFound
from accounts.models import Actor, Contract, User
from api import rules
from api.exceptions import AppRegistrationNotFound
from api.models import ApiClient, AppRegistration
from api.registrations import app_registration_create, app_registrations_apply
from api.rules import Event, State
from audit import services as audit
from audit.actions import Action
from core.prepared import PreparedQuery
from devicekeys import credentials
from devicekeys import rules as key_rules
from devicekeys.models import RetiredCredential
from devicekeys.rules import Client, Refusal
from devicekeys.services import device_key_record_use
from notifications import kinds
from notifications.services import notify

logger = logging.getLogger(__name__)

SCOPE = "storage"  # what a token opens: the storage service, as its user ID
CLIENT_ID_PREFIX = "azc_"
USE_WRITE_INTERVAL = timedelta(minutes=1)  # 最終利用日時, as for browsers

# GET /api/device/status of a token retired before registrations kept their reason.
STATES = {Refusal.REISSUED: "reissued", Refusal.DELETED: "deleted"}


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


@sensitive_variables("client_secret")
def api_client_authenticate(*, client_id: str, client_secret: str) -> ApiClient | None:
    """The active API client of this ID and secret (HTTP Basic), or None: the check
    that introspection makes in its token's own query, for the endpoints that need
    the client itself (the event streams of ssf/)."""
    if "\x00" in client_id:  # no client's (and no text column takes it on PostgreSQL)
        return None
    client = ApiClient.objects.filter(client_id=client_id, revoked_at__isnull=True).first()
    if client is None or not _secret_matches(client.secret_hash, client_secret):
        return None
    return client


def _secret_matches(secret_hash: str | None, secret: str) -> bool:
    return secret_hash is not None and constant_time_compare(secret_hash, _hash(secret))


# --- Tokens -------------------------------------------------------------------------------


@sensitive_variables("token")
@transaction.atomic
def account_token_issue(
    *, user: User, client: Client, device_name: str, actor: Actor, ip: str | None = None
) -> str:
    """An app's token bound to the login ID alone (アクセス設定 requires no key): a new
    app registration. Returns the token; only its hash is kept. (A key-bound token
    comes from devicekeys.services.device_key_enter, which registers the key.)"""
    token = rules.ACCOUNT_TOKEN_PREFIX + secrets.token_urlsafe(credentials.TOKEN_BYTES)
    name = device_name or key_rules.APP_DEVICE_NAMES[client]
    app_registration_create(
        contract=user.contract, user=user, client=client, device_name=name, token=token, ip=ip
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
    """The app registration a token belongs to, as found now."""

    pk: int
    state: State
    reason: str
    client: str
    device_name: str
    issued_at: datetime
    last_used_at: datetime | None
    contract_id: int
    key_id: int | None
    user_id: int | None
    login_id: str | None
    account_active: bool

    @property
    def active(self) -> bool:
        return rules.opens(self.state, account_active=self.account_active)


# The lookup of a token, compiled once (core.prepared): its registration with the login
# ID, by the unique index of its hash. For the introspection, the same query also reads
# the storage service's client (its secret's hash), so that a token the console knows
# costs one round trip to the database.
FIELDS = (
    "pk",
    "state",
    "reason",
    "client",
    "device_name",
    "created_at",
    "last_used_at",
    "contract_id",
    "device_key_id",
    "user_id",
    "user__login_id",
    "user__is_active",
)
TOKEN_HASH = "\x00token-hash\x00"  # noqa: S105 (a stand-in, not a secret)
CLIENT_ID = "\x00client-id\x00"


def _client_secret(client_id: str) -> Subquery:
    clients = ApiClient.objects.filter(client_id=client_id, revoked_at__isnull=True)
    return Subquery(clients.values("secret_hash")[:1])


def _registrations(token_hash: str, client_id: str | None = None):
    rows = AppRegistration.objects.filter(token_hash=token_hash)
    if client_id is None:
        return rows.values_list(*FIELDS)[:1]
    rows = rows.annotate(client_secret=_client_secret(client_id))
    return rows.values_list(*FIELDS, "client_secret")[:1]


_REGISTRATION = PreparedQuery(_registrations, token_hash=TOKEN_HASH)
_REGISTRATION_AND_CLIENT = PreparedQuery(_registrations, token_hash=TOKEN_HASH, client_id=CLIENT_ID)
_CLIENT = PreparedQuery(
    lambda client_id: ApiClient.objects.filter(
        client_id=client_id, revoked_at__isnull=True
    ).values_list("secret_hash")[:1],
    client_id=CLIENT_ID,
)


def _holder(row: tuple) -> Holder:
    (pk, state, reason, client, name, created_at, used_at, contract_id, key_id, *user) = row
    user_id, login_id, user_active = user
    return Holder(
        pk=pk,
        state=State(state),
        reason=reason,
        client=client,
        device_name=name,
        issued_at=created_at,
        last_used_at=used_at,
        contract_id=contract_id,
        key_id=key_id,
        user_id=user_id,
        login_id=login_id,
        account_active=bool(user_active),
    )


def _lookup(token: str, client_id: str | None = None) -> tuple[Holder | None, tuple]:
    """The registration of the token (None: none), and what else the query read (the
    client's secret hash when `client_id` is given and the token's row exists)."""
    if not token:
        return None, ()
    query = _REGISTRATION if client_id is None else _REGISTRATION_AND_CLIENT
    values = {"token_hash": credentials.token_hash(token)}
    rows = query.rows(**values, **({"client_id": client_id} if client_id else {}))
    if not rows:
        return None, ()
    return _holder(rows[0][: len(FIELDS)]), rows[0][len(FIELDS) :]


@sensitive_variables("token")
def token_holder(token: str) -> Holder | None:
    """The registration of this access token, in whatever state, or None for a token
    the console never gave: one query."""
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
    if not _secret_matches(client_hash, client_secret):
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


def _record_use(holder: Holder, ip: str | None = None) -> None:
    """最終利用日時 of the registration (and of its key, for the key list), at most once
    a minute; the address only where the app itself calls (the introspection comes
    from the storage service, which knows no device address)."""
    now = timezone.now()
    if holder.last_used_at is not None and now - holder.last_used_at < USE_WRITE_INTERVAL:
        return
    values = {"last_used_at": now} | ({"last_ip": ip} if ip else {})
    AppRegistration.objects.filter(pk=holder.pk).update(**values)
    if holder.key_id is not None:
        device_key_record_use(contract_id=holder.contract_id, key_id=holder.key_id)


@dataclass(frozen=True)
class DeviceStatus:
    state: str
    message: str


@sensitive_variables("token")
def device_status(token: str, *, ip: str | None = None) -> DeviceStatus | None:
    """GET /api/device/status: why an app's token opens nothing (or that it does), in
    the words a browser user is told; None for a token the console never gave or that
    the app revoked itself. An active registration's app was here (`ip`): its
    最終利用日時 and address are kept."""
    holder = token_holder(token)
    if holder is None:
        return _retired_status(token)
    told = rules.told(holder.state, holder.reason, account_active=holder.account_active)
    if told is None:
        return None
    if holder.active:
        _record_use(holder, ip)
    state, message = told
    return DeviceStatus(state=state, message=str(message))


def _retired_status(token: str) -> DeviceStatus | None:
    """A key-bound token whose key was reissued or deleted before app registrations
    kept their reason (devicekeys.models.RetiredCredential)."""
    if not token.startswith(credentials.APP_TOKEN_PREFIX):
        return None
    retired = RetiredCredential.objects.filter(
        credential_hash=credentials.token_hash(token)
    ).first()
    if retired is None:
        return None
    refusal = Refusal(retired.reason)
    return DeviceStatus(state=STATES[refusal], message=str(key_rules.REFUSAL_MESSAGES[refusal]))


@sensitive_variables("token")
def app_token_revoke(*, token: str) -> None:
    """RFC 7009, by the app (its sign-out): the token opens nothing any more. A key's
    registration stays and needs a 再発行 to register again, like a browser whose
    cookie was deleted. An unknown token is no error."""
    holder = token_holder(token)
    if holder is None or holder.user_id is None:
        return
    user = User.objects.select_related("contract").get(pk=holder.user_id)
    app_registrations_apply(
        contract=user.contract,
        event=Event.APP_SIGNED_OUT,
        actor=user,
        registrations=AppRegistration.objects.filter(pk=holder.pk),
    )


# --- The console's lists: the administrator's and the user's own ---------------------------


def _ended_by(actor: Actor, user: User) -> Event:
    """The user ending their own, or the administrator ending a user ID's."""
    return (
        Event.ENDED_BY_USER
        if getattr(actor, "pk", None) == user.pk
        else Event.ENDED_BY_ADMINISTRATOR
    )


def _end(contract: Contract, user: User, actor: Actor, registrations) -> int:
    user = User.objects.for_contract(contract).users().filter(pk=user.pk).first()
    if user is None:
        raise UserNotFound
    event = _ended_by(actor, user)
    ended = app_registrations_apply(
        contract=contract, event=event, actor=actor, user=user, registrations=registrations
    )
    if ended and event == Event.ENDED_BY_ADMINISTRATOR:
        notify(
            kinds.APP_SIGN_INS_ENDED,
            user=user,
            device_names=[registration.device_name for registration in ended],
        )
    return len(ended)


@transaction.atomic
def app_registration_end(
    *, contract: Contract, user: User, registration: AppRegistration, actor: Actor
) -> int:
    """終了 of one app sign-in of the user ID `user`, by the administrator (the user is
    mailed, always: an app of theirs stopped working) or by the user (no mail).
    AppRegistrationNotFound when it is not the user's in this contract; an ended one
    stays as it is. Returns how many ended (0 or 1)."""
    rows = AppRegistration.objects.for_contract(contract).filter(pk=registration.pk, user=user)
    if not rows.exists():
        raise AppRegistrationNotFound
    return _end(contract, user, actor, rows)


@transaction.atomic
def app_registrations_end_all(*, contract: Contract, user: User, actor: Actor) -> int:
    """「すべて終了」: every app sign-in of `user` not yet ended; mailed as one."""
    return _end(contract, user, actor, None)

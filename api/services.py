"""The operations of the app API (docs/API.md): one function each, like every
service of the console. Keys, their registration and their three strikes stay the
business of devicekeys.services; this module adds what an app needs besides.

Tokens. An app's access token is 256 random bits after a prefix that says what it is
bound to and a random id, and the console keeps only its SHA-256, as one of its app
registration's tokens (api.models.AppToken, hung on api.models.AppRegistration, the
one row the grant, the refresh, the introspection, the revocation, the status call
and the console's lists share). It expires after API_ACCESS_TOKEN_SECONDS; the
refresh token gets the next one while the registration is in use:
- `azd_…` bound to a key's registration: 停止 suspends it, 停止解除 lets it in again;
  再発行, 削除 and the login ID's deletion end it for good. A password change does
  not: the device proved its key.
- `azu_…` bound to the login ID alone, where アクセス設定 does not require device
  authentication: it ends with the password (changed or reset), the login ID's
  deletion, and for good when device authentication is switched on.
Both end with the app's own sign-out, the administrator's or the user's end and
全端末からサインアウト and a refresh token used twice (api.rules holds the table).
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.debug import sensitive_variables

from accounts.exceptions import UserNotFound
from accounts.models import Actor, Contract, User
from api import rules
from api.exceptions import AppRegistrationNotFound
from api.models import ApiClient, AppRegistration, AppToken
from api.registrations import app_registration_create, app_registrations_apply
from api.rules import SCOPE, Event, State, TokenKind, validate_resource_url
from api.tokens import IssuedTokens, access_lifetime, app_tokens_issue
from audit import services as audit
from audit.actions import Action
from core.actors import System
from core.prepared import PreparedQuery
from devicekeys import credentials
from devicekeys import rules as key_rules
from devicekeys.models import RetiredCredential
from devicekeys.rules import Client, Refusal
from devicekeys.services import device_key_record_use
from notifications import kinds
from notifications.services import notify

logger = logging.getLogger(__name__)
SYSTEM = System("app API")  # ends a registration whose login ID is already gone

CLIENT_ID_PREFIX = "azc_"
USE_WRITE_INTERVAL = timedelta(minutes=1)  # 最終利用日時, as for browsers
# How long a used refresh token is kept to recognise a second use (which ends its
# registration); an older one is simply unknown (invalid_grant) and ends nothing.
ROTATED_KEPT = timedelta(days=30)

# GET /api/device/status of a token retired before registrations kept their reason.
STATES = {Refusal.REISSUED: "reissued", Refusal.DELETED: "deleted"}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- API clients (the storage service) --------------------------------------------------


@sensitive_variables("secret")
@transaction.atomic
def api_client_create(
    *, name: str, actor: Actor, client_id: str = "", secret: str = "", resource_url: str = ""
) -> tuple[ApiClient, str]:
    """A new resource server client; returns it and its secret, which exists nowhere
    else afterwards (only its hash is kept). Both are random; only the development
    data of seed_demo names them, so that docs/API.md's examples work as written.
    `resource_url`, the resource server's own URL, joins introspection's `aud`
    (ValidationError unless it is an absolute http(s) URL without query or fragment)."""
    secret = secret or secrets.token_urlsafe(32)
    client = ApiClient(
        name=name.strip()[:100],
        client_id=client_id or CLIENT_ID_PREFIX + secrets.token_urlsafe(12),
        secret_hash=_hash(secret),
        resource_url=validate_resource_url(resource_url),
    )
    client.save()
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


@transaction.atomic
def account_token_issue(
    *, user: User, client: Client, device_name: str, actor: Actor, ip: str | None = None
) -> IssuedTokens:
    """An app's tokens bound to the login ID alone (アクセス設定 requires no key): a new
    app registration. Returns the tokens; only their hashes are kept. (Key-bound ones
    come from devicekeys.services.device_key_enter, which registers the key.)"""
    name = device_name or key_rules.APP_DEVICE_NAMES[client]
    _registration, tokens = app_registration_create(
        contract=user.contract, user=user, client=client, device_name=name, ip=ip
    )
    audit.record(
        Action.DEVICE_REGISTERED,
        contract=user.contract,
        actor=actor,
        target=f"{name} ({user.login_id})",
        changes={"registered_by": ["", client]},
    )
    return tokens


@sensitive_variables("refresh_token")
@transaction.atomic
def app_token_refresh(*, refresh_token: str, client: Client) -> IssuedTokens | None:
    """The refresh token grant (RFC 6749 §6): the next access token and refresh token
    of the registration `refresh_token` belongs to, while it is in use (api.rules:
    not after 停止 until 停止解除, never once ended); None (invalid_grant) otherwise,
    for a token of another client, and for one the console never gave. Each refresh
    token is used once: presented again, it ends its registration
    (Event.REFRESH_TOKEN_REUSED), whoever holds the newer one."""
    row = (
        AppToken.objects.select_related("registration__contract", "registration__user")
        .select_for_update(of=("self",))
        .filter(token_hash=credentials.token_hash(refresh_token), kind=TokenKind.REFRESH)
        .first()
    )
    if row is None or row.registration.client != client:
        return None
    registration = row.registration
    user = registration.user
    if row.rotated_at is not None:
        logger.warning("refresh token of app registration %s used twice", registration.pk)
        app_registrations_apply(
            contract=registration.contract,
            event=Event.REFRESH_TOKEN_REUSED,
            actor=user or SYSTEM,
            registrations=AppRegistration.objects.filter(pk=registration.pk),
        )
        return None
    if user is None or not rules.opens(State(registration.state), account_active=user.is_active):
        return None
    now = timezone.now()
    AppToken.objects.filter(pk=row.pk).update(rotated_at=now)
    # What no request can use any more: access tokens past expiry, refresh tokens
    # used long ago.
    registration.tokens.filter(
        models.Q(kind=TokenKind.ACCESS, expires_at__lt=now)
        | models.Q(kind=TokenKind.REFRESH, rotated_at__lt=now - ROTATED_KEPT)
    ).delete()
    return app_tokens_issue(registration, now=now)


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
    """A token the console gave, and the app registration it belongs to, as found now."""

    token_kind: TokenKind
    token_issued_at: datetime
    token_expires_at: datetime | None
    pk: int
    public_id: str
    state: State
    reason: str
    client: str
    device_name: str
    last_used_at: datetime | None
    contract_id: int
    key_id: int | None
    user_id: int | None
    login_id: str | None
    account_active: bool

    @property
    def active(self) -> bool:
        """Whether the registration opens the storage service now (whatever the token)."""
        return rules.opens(self.state, account_active=self.account_active)

    def opens(self, now: datetime) -> bool:
        """Whether this token, as an access token, opens the storage service now."""
        return (
            self.token_kind == TokenKind.ACCESS
            and not rules.access_token_expired(self.token_expires_at, now)
            and self.active
        )


# The lookup of a token, compiled once (core.prepared): the token's row by the unique
# index of its hash, with its registration and login ID joined. For the
# introspection, the same query also reads the storage service's client (its secret's
# hash), so that a token the console knows costs one round trip to the database.
FIELDS = (
    "kind",
    "issued_at",
    "expires_at",
    "registration_id",
    "registration__public_id",
    "registration__state",
    "registration__reason",
    "registration__client",
    "registration__device_name",
    "registration__last_used_at",
    "registration__contract_id",
    "registration__device_key_id",
    "registration__user_id",
    "registration__user__login_id",
    "registration__user__is_active",
)
TOKEN_HASH = "\x00token-hash\x00"  # noqa: S105 (a stand-in, not a secret)
CLIENT_ID = "\x00client-id\x00"


CLIENT_FIELDS = ("secret_hash", "resource_url")  # what introspection reads of its client


def _client(client_id: str, field: str) -> Subquery:
    clients = ApiClient.objects.filter(client_id=client_id, revoked_at__isnull=True)
    return Subquery(clients.values(field)[:1])


def _tokens(token_hash: str, client_id: str | None = None):
    rows = AppToken.objects.filter(token_hash=token_hash)
    if client_id is None:
        return rows.values_list(*FIELDS)[:1]
    rows = rows.annotate(
        **{f"client_{field}": _client(client_id, field) for field in CLIENT_FIELDS}
    )
    return rows.values_list(*FIELDS, *(f"client_{field}" for field in CLIENT_FIELDS))[:1]


_TOKEN = PreparedQuery(_tokens, token_hash=TOKEN_HASH)
_TOKEN_AND_CLIENT = PreparedQuery(_tokens, token_hash=TOKEN_HASH, client_id=CLIENT_ID)
_CLIENT = PreparedQuery(
    lambda client_id: ApiClient.objects.filter(
        client_id=client_id, revoked_at__isnull=True
    ).values_list(*CLIENT_FIELDS)[:1],
    client_id=CLIENT_ID,
)


def _holder(row: tuple) -> Holder:
    kind, issued_at, expires_at, pk, public_id, state, reason, *rest = row
    client, name, used_at, contract_id, key_id, user_id, login_id, user_active = rest
    return Holder(
        token_kind=TokenKind(kind),
        token_issued_at=issued_at,
        token_expires_at=expires_at,
        pk=pk,
        public_id=public_id,
        state=State(state),
        reason=reason,
        client=client,
        device_name=name,
        last_used_at=used_at,
        contract_id=contract_id,
        key_id=key_id,
        user_id=user_id,
        login_id=login_id,
        account_active=bool(user_active),
    )


def _lookup(token: str, client_id: str | None = None) -> tuple[Holder | None, tuple]:
    """The token's row and registration (None: none), and what else the query read
    (the client's secret hash when `client_id` is given and the token's row exists)."""
    if not token:
        return None, ()
    query = _TOKEN if client_id is None else _TOKEN_AND_CLIENT
    values = {"token_hash": credentials.token_hash(token)}
    rows = query.rows(**values, **({"client_id": client_id} if client_id else {}))
    if not rows:
        return None, ()
    return _holder(rows[0][: len(FIELDS)]), rows[0][len(FIELDS) :]


@sensitive_variables("token")
def token_holder(token: str) -> Holder | None:
    """The token (access or refresh) and its registration, in whatever state, or None
    for a token the console never gave: one query."""
    holder, _more = _lookup(token)
    return holder


@sensitive_variables("token", "client_secret")
def token_introspect(token: str, *, client_id: str, client_secret: str) -> dict | None:
    """RFC 7662: what the storage service may know of an access token; None when the
    client (HTTP Basic) is not an active API client with this secret. One query for a
    token the console knows (its row, its registration and the client's secret
    together), two for another, and at most once a minute per registration the UPDATE
    of its 最終利用日時. A refresh token, an expired access token and one whose
    registration is not in use are `{"active": false}`. `exp` is the token's expiry;
    for a token from before expiry, now + API_ACCESS_TOKEN_SECONDS, so that no cache
    keeps it longer than a new one."""
    holder, more = _lookup(token, client_id)
    if not more:  # no row of the token: the client read on its own
        more = next(iter(_CLIENT.rows(client_id=client_id)), (None, ""))
    client_hash, resource_url = more
    if not _secret_matches(client_hash, client_secret):
        return None
    now = timezone.now()
    if holder is None or not holder.opens(now):
        return {"active": False}
    _record_use(holder)
    expires_at = holder.token_expires_at or now + access_lifetime()
    return {
        "active": True,
        "scope": SCOPE,
        "client_id": holder.client,
        "username": holder.login_id,
        "sub": str(holder.user_id),
        "token_type": "Bearer",
        "iat": int(holder.token_issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        # The API client that asked, and the resource it serves (RFC 8707) if it named one.
        "aud": [client_id, resource_url] if resource_url else client_id,
        "sid": holder.public_id,
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
    if holder.token_kind != TokenKind.ACCESS:  # a refresh token is no bearer token
        return None
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
def app_token_revoke(*, token: str, client: Client) -> None:
    """RFC 7009, by the app `client` (its sign-out), with its access or its refresh
    token: the registration ends, and with it every token it holds. A key's
    registration stays and needs a 再発行 to register again, like a browser whose
    cookie was deleted. An unknown token, or one issued to another client, is no
    error and changes nothing (RFC 7009 §2.1, §2.2)."""
    holder = token_holder(token)
    if holder is None or holder.user_id is None or holder.client != client:
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

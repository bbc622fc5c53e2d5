"""The operations on app registrations (アプリのログイン) that the events of other
apps reach: a key's 停止, 停止解除, 再発行 and 削除 (devicekeys.services), the login
ID's password, deletion and 全端末からサインアウト (accounts.services), アクセス設定
(devicekeys.services), and the app API's own grant and sign-out (api.services).

It sits below all of them (it imports no other operation but audit's and the
security events' of ssf, which it records for every registration suspended or
ended), so that the
services of keys and of login IDs can call it in their own transaction: the event
and its registrations' new states commit together, or not at all. Which event
moves which registration is api.rules' table, asked here only.
"""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Actor, Contract, User
from api import rules
from api.models import AppRegistration
from api.rules import Event, Kind, State
from api.tokens import IssuedTokens, app_tokens_issue
from audit import services as audit
from audit.actions import Action
from devicekeys.models import DeviceKey
from devicekeys.rules import Client
from ssf import services as ssf

logger = logging.getLogger(__name__)


def app_registration_create(
    *,
    contract: Contract,
    user: User,
    client: Client,
    device_name: str,
    device_key: DeviceKey | None = None,
    ip: str | None = None,
) -> tuple[AppRegistration, IssuedTokens]:
    """The registration of an app that has just proved who it is, and its first tokens
    (api.tokens; only their hashes are kept): bound to `device_key`, or to the login ID
    alone. The caller records the registration in ログ管理 (a key's registration
    already is)."""
    now = timezone.now()
    registration = AppRegistration.objects.create(
        contract=contract,
        user=user,
        client=client,
        kind=Kind.KEY if device_key is not None else Kind.ACCOUNT,
        device_key=device_key,
        device_name=device_name,
        created_at=device_key.registered_at if device_key is not None else now,
        last_used_at=now,
        last_ip=ip,
    )
    return registration, app_tokens_issue(registration, now=registration.created_at)


def _audit_action(event: Event) -> Action:
    return Action.DEVICE_SIGNED_OUT if event == Event.APP_SIGNED_OUT else Action.APP_SIGN_IN_ENDED


@transaction.atomic
def app_registrations_apply(
    *,
    contract: Contract,
    event: Event,
    actor: Actor,
    user: User | None = None,
    device_keys: Iterable[int] | None = None,
    registrations: QuerySet | None = None,
) -> list[AppRegistration]:
    """`event` happened to the contract's registrations: those of `user`, of the keys
    `device_keys`, or `registrations` (all of them when none is named). Each that
    api.rules says the event reaches moves to its new state with the event kept as
    its reason; each ending is recorded in ログ管理 (a suspension and its end follow
    the key's own entry), and each suspension or end is pushed to the storage service
    (ssf: CAEP session-revoked). Returns the registrations that ended, as they were."""
    rows = AppRegistration.objects.for_contract(contract)
    if registrations is not None:
        rows = rows.filter(pk__in=registrations.values("pk"))
    if user is not None:
        rows = rows.filter(user=user)
    if device_keys is not None:
        rows = rows.filter(device_key__in=list(device_keys))
    now = timezone.now()
    ended, moved = [], []
    for kind in Kind:
        for state in rules.reached(event, kind):
            new = rules.after(event, kind, state)
            reached = rows.filter(kind=kind, state=state)
            if new != State.ACTIVE:
                found = list(reached.select_related("user").select_for_update(of=("self",)))
                reached = AppRegistration.objects.filter(pk__in=[row.pk for row in found])
                moved += found
            if new == State.ENDED:
                for row in found:
                    _record_end(contract, row, event, actor)
                ended += found
            reached.update(
                state=new,
                reason=rules.reason_after(event, new),
                ended_at=now if new == State.ENDED else None,
            )
    # The storage service hears of each suspension and end (CAEP session-revoked).
    ssf.sessions_revoked(registrations=moved, event=event, actor=actor)
    return ended


def _record_end(contract: Contract, row: AppRegistration, event: Event, actor: Actor) -> None:
    login_id = row.user.login_id if row.user else ""
    audit.record(
        _audit_action(event),
        contract=contract,
        actor=actor,
        target=f"{row.device_name} ({login_id})",
        changes={"state": [row.state, State.ENDED], "reason": ["", event]},
    )
    logger.info("app registration %s ended: %s (contract %s)", row.pk, event, contract.pk)

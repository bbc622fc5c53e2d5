"""Writing the audit log: `record(...)`, called by every service that changes
something, inside its transaction (a rolled-back change leaves no entry).

Never a password, a password hash or a whole device key: `record` drops the
values of such fields, and callers name keys by their device name and pass key
values only masked (devicekeys.rules.masked_key).
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audit import context
from audit.actions import Action
from audit.models import ActorRole, AuditEntry
from core.actors import Anonymous, System

SECRET_FIELDS = frozenset({"password", "password_hash", "key", "key_hash", "token"})
SECRET_SHOWN_AS = "********"  # noqa: S105 (what is shown instead of a secret)


def _clean(changes: dict | None) -> dict:
    cleaned = {}
    for field, values in (changes or {}).items():
        if field in SECRET_FIELDS:
            cleaned[field] = [SECRET_SHOWN_AS, SECRET_SHOWN_AS]
        else:
            cleaned[field] = ["" if v is None else str(v) for v in values]
    return cleaned


def record(
    action: Action | str,
    *,
    contract,
    actor,
    target: str = "",
    changes: dict | None = None,
) -> AuditEntry:
    """Write one entry. `actor` is the signed-in account (a User), the console itself
    (core.actors.System: a manage.py command, the worker, the sweep) or someone not
    signed in (core.actors.Anonymous: a failed sign-in). IP address and user agent
    come from the current request."""
    request = context.current.get()
    if isinstance(actor, System):
        role, login_id = ActorRole.SYSTEM, actor.name
    elif isinstance(actor, Anonymous):
        role, login_id = ActorRole.ANONYMOUS, actor.login_id
    else:
        role, login_id = actor.role, actor.login_id
    return AuditEntry.objects.create(
        contract=contract,
        action=action,
        actor_login_id=login_id[:254],
        actor_role=role,
        actor_ip=request.ip if request else None,
        actor_user_agent=request.user_agent if request else "",
        target=target[:254],
        changes=_clean(changes),
    )


@transaction.atomic
def audit_prune(*, older_than_days: int, actor) -> int:
    """Delete the entries older than the retention period; the pruning itself is
    recorded (with no contract: it concerns the whole service)."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = AuditEntry.objects.filter(created_at__lt=cutoff).delete()
    record(
        Action.LOG_PRUNED,
        contract=None,
        actor=actor,
        changes={"deleted": ["", deleted], "older_than_days": ["", older_than_days]},
    )
    return deleted

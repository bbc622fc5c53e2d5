"""Wrong 端末認証キー entered at sign-in: the one home of both limits of the key step.

- **Per login ID: 三回で無効** (the guide). Consecutive wrong entries of a login ID
  are counted in its WrongEntryCounter. The counter's row is locked
  (select_for_update; on SQLite the IMMEDIATE write transaction) while an entry is
  compared, so parallel guesses are compared and counted one after the other and
  none gets a fourth try. At WRONG_ENTRY_LIMIT (devicekeys.rules) the login ID's
  waiting keys become 無効 (the service does that) and the count starts again; a
  right key starts it again too.
- **Per IP address and contract**: a wrong key also leaves a WrongEntryFromAddress
  row. An address with DEVICE_KEY_IP_FAILURE_LIMIT of them for one contract within
  AXES_COOLOFF_TIME may enter no key of that contract until the oldest of them is
  older than the period, whatever the login ID. Another contract's users behind the
  same address (an office NAT, a shared building) are not affected.

devicekeys.services.device_key_enter is the only caller at sign-in: it asks
`address_blocked`, locks the counter (`lock_counter`), compares, and then either
`count_wrong` or `reset`.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import Contract, User
from devicekeys import rules
from devicekeys.models import WrongEntryCounter, WrongEntryFromAddress


@dataclass(frozen=True)
class Counted:
    """One more wrong entry: the count before and after it, and whether it was the
    one that makes the login ID's waiting keys 無効 (the count then starts again)."""

    before: int
    after: int
    invalidates: bool

    @property
    def remaining(self) -> int:
        """How many more wrong entries are allowed: 0 when the keys became 無効."""
        return 0 if self.invalidates else rules.WRONG_ENTRY_LIMIT - self.after


def address_blocked(contract: Contract, ip: str | None) -> timedelta | None:
    """How long this IP address must wait before it may enter a key of this contract
    again, when it entered DEVICE_KEY_IP_FAILURE_LIMIT wrong keys of the contract
    within the period (AXES_COOLOFF_TIME), whatever the login IDs; None when it may
    enter one now. Rows older than the period are dropped."""
    now = timezone.now()
    since = now - settings.AXES_COOLOFF_TIME
    WrongEntryFromAddress.objects.filter(at__lt=since).delete()
    limit = settings.DEVICE_KEY_IP_FAILURE_LIMIT
    recent = WrongEntryFromAddress.objects.for_contract(contract).filter(ip=ip, at__gte=since)
    # The address may enter a key again once all but limit - 1 of its entries are
    # older than the period: when the newest of the ones that must age out does.
    newest = recent.order_by("-at").values_list("at", flat=True)[limit - 1 : limit]
    for at in newest:
        return at + settings.AXES_COOLOFF_TIME - now
    return None


def lock_counter(contract: Contract, user: User) -> WrongEntryCounter:
    """The login ID's counter, created when missing, locked to the end of the
    transaction: entries for one login ID are compared and counted one at a time."""
    WrongEntryCounter.objects.bulk_create(
        [WrongEntryCounter(contract=contract, user=user)], ignore_conflicts=True
    )
    return WrongEntryCounter.objects.for_contract(contract).select_for_update().get(user=user)


def count_wrong(counter: WrongEntryCounter, *, ip: str | None) -> Counted:
    """Count one wrong entry on the locked `counter` and from the address `ip`."""
    WrongEntryFromAddress.objects.create(contract_id=counter.contract_id, ip=ip)
    after, invalidates = rules.after_wrong_entry(counter.wrong_entries)
    counted = Counted(before=counter.wrong_entries, after=after, invalidates=invalidates)
    counter.wrong_entries = 0 if invalidates else after
    counter.save(update_fields=["wrong_entries"])
    return counted


def reset(counter: WrongEntryCounter) -> None:
    """A right key: the login ID's count starts again."""
    if counter.wrong_entries:
        counter.wrong_entries = 0
        counter.save(update_fields=["wrong_entries"])

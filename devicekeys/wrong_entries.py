"""Wrong 端末認証キー entered at sign-in: the one home of both limits of the key step.

- **Per login ID: 三回で無効** (the guide). Consecutive wrong entries of a login ID
  are counted in its WrongEntryCounter. The counter's row is locked
  (select_for_update; on SQLite the IMMEDIATE write transaction) while an entry is
  compared, so parallel guesses are compared and counted one after the other and
  none gets a fourth try. At WRONG_ENTRY_LIMIT (devicekeys.rules) the login ID's
  waiting keys become 無効 (the service does that) and the count starts again; a
  right key starts it again too.
- **Per IP address**: a wrong key also leaves a WrongEntryFromAddress row. An
  address with DEVICE_KEY_IP_FAILURE_LIMIT of them within AXES_COOLOFF_TIME may
  enter no key until the period has passed, whatever the login ID.

devicekeys.services.device_key_enter is the only caller at sign-in: it asks
`address_blocked`, locks the counter (`lock_counter`), compares, and then either
`count_wrong` or `reset`.
"""

from dataclasses import dataclass

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


def address_blocked(ip: str | None) -> bool:
    """Whether this IP address entered DEVICE_KEY_IP_FAILURE_LIMIT wrong keys within the
    period (AXES_COOLOFF_TIME), whatever the login IDs. Older rows are dropped."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    WrongEntryFromAddress.objects.filter(at__lt=since).delete()
    recent = WrongEntryFromAddress.objects.filter(ip=ip, at__gte=since).count()
    return recent >= settings.DEVICE_KEY_IP_FAILURE_LIMIT


def lock_counter(contract: Contract, user: User) -> WrongEntryCounter:
    """The login ID's counter, created when missing, locked to the end of the
    transaction: entries for one login ID are compared and counted one at a time."""
    WrongEntryCounter.objects.bulk_create(
        [WrongEntryCounter(contract=contract, user=user)], ignore_conflicts=True
    )
    return WrongEntryCounter.objects.for_contract(contract).select_for_update().get(user=user)


def count_wrong(counter: WrongEntryCounter, *, ip: str | None) -> Counted:
    """Count one wrong entry on the locked `counter` and from the address `ip`."""
    WrongEntryFromAddress.objects.create(ip=ip)
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

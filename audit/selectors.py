"""Reads of the audit log, each for one contract."""

from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from audit.models import AuditEntry


def audit_entry_list(
    contract,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    action: str = "",
    login_id: str = "",
):
    """ログ管理: the contract's entries, newest first, filtered by period (days in the
    console's time zone, both ends included), action, and a login ID that acted
    or was acted on."""
    entries = AuditEntry.objects.for_contract(contract)
    zone = timezone.get_current_timezone()
    if date_from:
        entries = entries.filter(created_at__gte=datetime.combine(date_from, time.min, zone))
    if date_to:
        end = datetime.combine(date_to + timedelta(days=1), time.min, zone)
        entries = entries.filter(created_at__lt=end)
    if action:
        entries = entries.filter(action=action)
    if login_id:
        entries = entries.filter(
            Q(actor_login_id__icontains=login_id) | Q(target__icontains=login_id)
        )
    return entries.order_by("-id")


def keyset_page(entries, *, before: int | None, size: int):
    """One page of entries older than the entry `before` (keyset pagination: the
    cost of a page does not grow with how far back it is). Returns the rows and
    the cursor of the next page (None at the end)."""
    if before:
        entries = entries.filter(id__lt=before)
    rows = list(entries[: size + 1])
    next_cursor = rows[size - 1].id if len(rows) > size else None
    return rows[:size], next_cursor

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.guards import administrator_required
from audit.actions import Action
from audit.forms import AuditFilterForm
from audit.labels import describe_text
from audit.models import ActorRole
from audit.selectors import audit_entry_list, keyset_page
from core.csvsafe import csv_download

ENTRIES_PER_PAGE = 50


def _cursor(request) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


@never_cache
@administrator_required
def entry_list(request):
    """ログ管理: the contract's audit log, newest first, 50 a page."""
    form = AuditFilterForm(request.GET or None)
    entries = audit_entry_list(request.contract, **form.filters() if request.GET else {})
    rows, next_cursor = keyset_page(entries, before=_cursor(request), size=ENTRIES_PER_PAGE)
    context = {
        "title": _("ログ管理"),
        "form": form,
        "rows": rows,
        "next_cursor": next_cursor,
        "first_page": _cursor(request) is None,
    }
    return render(request, "audit/entry_list.html", context)


@administrator_required
def entry_download(request):
    """The filtered entries as CSV (UTF-8 with BOM, Japanese headers)."""
    form = AuditFilterForm(request.GET or None)
    entries = audit_entry_list(request.contract, **form.filters() if request.GET else {})
    actions = dict(Action.choices)
    roles = dict(ActorRole.choices)
    header = [
        _("日時"),
        _("操作"),
        _("操作者"),
        _("操作者の種別"),
        _("IPアドレス"),
        _("ユーザーエージェント"),
        _("対象"),
        _("変更内容"),
    ]
    rows = (
        [
            timezone.localtime(entry.created_at).strftime("%Y/%m/%d %H:%M:%S"),
            actions.get(entry.action, entry.action),
            entry.actor_login_id,
            roles.get(entry.actor_role, entry.actor_role),
            entry.actor_ip or "",
            entry.actor_user_agent,
            entry.target,
            describe_text(entry),
        ]
        for entry in entries.iterator(chunk_size=2000)
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_download(f"azukeru-log-{stamp}.csv", header, rows)

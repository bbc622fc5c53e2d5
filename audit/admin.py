from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The whole service's audit log for support staff: read-only, never deleted here
    (retention is `manage.py prune_audit_log`)."""

    list_display = ["created_at", "contract", "action", "actor_login_id", "actor_role", "target"]
    list_filter = ["action", "actor_role", "created_at"]
    search_fields = ["actor_login_id", "target"]
    list_select_related = ["contract"]
    date_hierarchy = "created_at"
    show_full_result_count = False  # no COUNT(*) over millions of rows

"""The outbox in Django admin at /support/: every notification mail, its state and
its last error, read-only; failed ones can be sent again (the same service as
`manage.py resend_failed_mail`).

A mail names its row in the X-Azukeru-Notification header and its Message-ID
(searchable here by id, login ID, address or key).
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyAdmin
from notifications import services
from notifications.kinds import SECRET_CONTEXT
from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "status",
        "login_id",
        "recipient",
        "language",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "failed_at",
    ]
    list_filter = ["status", "kind", "language"]
    search_fields = ["=id", "login_id", "recipient", "=key", "administrator_login_id"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    # The context is shown without its secrets (a device key not yet delivered).
    fields = [
        "id",
        "kind",
        "status",
        "key",
        "contract",
        "login_id",
        "recipient",
        "language",
        "administrator_login_id",
        "shown_context",
        "created_at",
        "queued_at",
        "attempts",
        "last_attempt_at",
        "next_attempt_at",
        "last_error",
        "sent_at",
        "failed_at",
    ]
    readonly_fields = ["id", "key", "shown_context"]

    @admin.display(description=_("内容"))
    def shown_context(self, obj):
        return {
            name: "********" if name in SECRET_CONTEXT else value
            for name, value in obj.context.items()
        }

    @admin.action(description=_("選択した送信失敗メールを再送する"))
    def resend(self, request, queryset):
        count = services.notification_resend(notifications=queryset, actor=request.user)
        level = messages.SUCCESS if count else messages.WARNING
        self.message_user(
            request,
            ngettext(
                "%(count)d通の送信失敗メールを再送します。",
                "%(count)d通の送信失敗メールを再送します。",
                count,
            )
            % {"count": count},
            level,
        )

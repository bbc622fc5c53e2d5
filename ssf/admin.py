"""The event streams and the security events at /support/, read-only: where each
storage service's receiver is, and each event's delivery, its attempts and its last
error. A stream's authorization header (the receiver's secret) is never shown."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from ssf.models import SecurityEvent, Stream


@admin.register(Stream)
class StreamAdmin(ReadOnlyAdmin):
    list_display = ["stream_id", "client", "endpoint_url", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["=stream_id", "client__client_id", "endpoint_url"]
    fields = [
        "stream_id",
        "client",
        "endpoint_url",
        "has_authorization_header",
        "events_requested",
        "description",
        "status",
        "status_reason",
        "created_at",
        "updated_at",
        "last_verification_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("認証ヘッダー"), boolean=True)
    def has_authorization_header(self, obj):
        return bool(obj.authorization_header)


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = [
        "jti",
        "event_type",
        "stream",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "failed_at",
    ]
    list_filter = ["status", "event_type"]
    search_fields = ["=jti", "stream__stream_id"]
    date_hierarchy = "created_at"
    list_select_related = ["stream"]
    fields = [
        "jti",
        "event_type",
        "stream",
        "claims",
        "status",
        "created_at",
        "attempts",
        "last_attempt_at",
        "next_attempt_at",
        "last_error",
        "sent_at",
        "failed_at",
    ]
    readonly_fields = fields

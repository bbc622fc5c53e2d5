"""The app API in Django admin for support staff: the resource server clients, listed
and revoked through the service (never a secret shown), and the apps' sign-ins
(read-only, never a token)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from api import services
from api.models import ApiClient, AppRegistration
from core.admin import ReadOnlyAdmin


@admin.register(ApiClient)
class ApiClientAdmin(ReadOnlyAdmin):
    list_display = ["name", "client_id", "created_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "client_id"]
    fields = ["name", "client_id", "resource_url", "created_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    @admin.action(description=_("選択したAPIクライアントを無効にする"))
    def revoke(self, request, queryset):
        revoked = 0
        for client in queryset.filter(revoked_at__isnull=True):
            services.api_client_revoke(client=client, actor=request.user)
            revoked += 1
        messages.success(
            request, _("%(count)d件のAPIクライアントを無効にしました。") % {"count": revoked}
        )


@admin.register(AppRegistration)
class AppRegistrationAdmin(ReadOnlyAdmin):
    """Every app's sign-in, read-only (never a token). 全端末からサインアウト is an action
    on the login ID (accounts.admin)."""

    list_display = [
        "device_name",
        "client",
        "kind",
        "user",
        "contract",
        "state",
        "reason",
        "created_at",
        "last_used_at",
        "last_ip",
    ]
    list_filter = ["state", "kind", "client"]
    list_select_related = ["user", "contract"]
    search_fields = ["device_name", "user__login_id"]
    fields = [*list_display, "ended_at"]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

"""Device authentication keys in Django admin for support staff: read-only, keys
only masked, and 停止 through the same service as the console."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from devicekeys import services
from devicekeys.exceptions import DeviceKeyNotFound, InvalidTransition
from devicekeys.models import DeviceKey
from devicekeys.templatetags.device_keys import key_value


@admin.register(DeviceKey)
class DeviceKeyAdmin(ReadOnlyAdmin):
    list_display = [
        "device_name",
        "masked_key",
        "user",
        "contract",
        "status",
        "created_at",
        "registered_at",
    ]
    list_filter = ["status"]
    search_fields = ["device_name", "user__login_id"]
    list_select_related = ["user", "contract"]
    fields = ["device_name", "masked_key", "user", "contract", "status", "created_at"]
    readonly_fields = fields
    actions = ["stop_keys"]

    @admin.display(description=_("端末認証キー"))
    def masked_key(self, key):
        # As the console shows a registered key (the same markup and note), but masked
        # whether registered or not: support staff never read a key out.
        return key_value(key, reveal=False)

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    @admin.action(description=_("選択した端末認証キーを停止する"))
    def stop_keys(self, request, queryset):
        stopped = 0
        for key in queryset.select_related("contract"):
            try:
                services.device_key_stop(contract=key.contract, key=key, actor=request.user)
                stopped += 1
            except (InvalidTransition, DeviceKeyNotFound):
                continue  # already stopped or 無効, or deleted meanwhile
        messages.success(
            request, _("%(count)d件の端末認証キーを停止しました。") % {"count": stopped}
        )

"""Django admin for support staff at /support/.

Read-only for now: a change made here must go through the same service
functions as the console (validators, limits, notifications), so editing is
added one service at a time, never as a raw model save.
"""

from django.contrib import admin

from accounts.models import Contract, User


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "created_at"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["login_id", "role", "contract", "email", "display_name", "created_at"]
    list_filter = ["role"]
    search_fields = ["login_id", "email", "display_name"]
    list_select_related = ["contract"]
    # Never the password hash.
    exclude = ["password", "user_permissions", "groups"]

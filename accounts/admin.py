"""Django admin for support staff at /support/.

Every change made here goes through the same service functions as the console
(validators, limits, notifications, audit): an admin form checks its input by
running the service in a savepoint that is rolled back, so a broken rule shows
as the rule's message on the form, and `save_model` then runs the service for
real. Support staff never see a password hash.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import PROFILE_FIELDS, Contract, Role, User
from core.admin import ReadOnlyAdmin, check_with_service
from core.exceptions import NotFound
from twostep import services as twostep


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "created_at"]
    search_fields = ["name", "members__login_id"]


class SupportUserForm(forms.ModelForm):
    """A user ID as support staff edit it: the console's fields, the password only
    when it is to be set (never shown), and the guide's 通知."""

    password = forms.CharField(
        label=_("パスワード"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("変更する場合のみ入力してください。"),
    )
    notify_user = forms.BooleanField(
        label=_("設定したメールアドレスに通知する"), required=False, initial=True
    )

    class Meta:
        model = User
        fields = ["contract", *PROFILE_FIELDS]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        if "contract" not in self.fields:
            return  # shown read-only (UserAdmin.get_fields): no field to set up
        if self.instance.pk:
            self.fields["contract"].disabled = True
        else:
            self.fields["contract"].required = True
            self.fields["password"].required = True

    def _post_clean(self):
        """The model's own checks are the service's business (called in clean)."""

    def service_call(self):
        data = self.cleaned_data
        profile = {name: data.get(name) or "" for name in PROFILE_FIELDS}
        if self.instance.pk:
            return lambda: services.user_change(
                contract=self.instance.contract,
                actor=self.actor,
                user=self.instance,
                password=data.get("password") or "",
                notify_user=data.get("notify_user", False),
                **profile,
            )
        return lambda: services.user_create(
            contract=data["contract"],
            actor=self.actor,
            password=data.get("password") or "",
            notify_user=data.get("notify_user", False),
            **profile,
        )

    def clean(self):
        data = super().clean()
        if not self.errors:
            check_with_service(self, self.service_call())
        return data


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["login_id", "role", "contract", "email", "display_name", "created_at"]
    list_filter = ["role"]
    search_fields = ["login_id", "email", "display_name"]
    list_select_related = ["contract"]
    actions = ["lift_sign_in_throttle", "reset_two_step", "sign_out_everywhere"]
    form = SupportUserForm
    readonly_fields = ["two_step_factors"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class BoundForm(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, actor=request.user, **inner)

        return BoundForm

    def get_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            # Shown read-only (an administrator, support staff): never the password hash,
            # nor a second factor, only how many there are.
            return ["contract", *PROFILE_FIELDS, "two_step_factors"]
        return ["contract", *PROFILE_FIELDS, "password", "notify_user"]

    def has_change_permission(self, request, obj=None):
        # Administrators and support staff are not user IDs: only these go through
        # the user-ID services.
        return obj is None or obj.role == Role.USER

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.role == Role.USER

    def save_model(self, request, obj, form, change):
        result = form.service_call()()
        if not change:
            obj.pk, obj.login_id = result.pk, result.login_id

    def delete_model(self, request, obj):
        services.user_delete(contract=obj.contract, actor=request.user, user=obj)

    def delete_queryset(self, request, queryset):
        for user in queryset.filter(role=Role.USER).select_related("contract"):
            try:
                self.delete_model(request, user)
            except NotFound as gone:  # deleted meanwhile (by the console, say)
                messages.warning(request, f"{user.login_id}: {gone}")

    @admin.display(description=_("二段階認証"))
    def two_step_factors(self, user):
        """How many second factors the account has (for a reset after a lost phone):
        django-otp's own pages, secrets and all, are not on the support site
        (twostep/admin.py)."""
        return _(
            "認証アプリ %(app)d件、パスキー %(passkeys)d件、リカバリーコード残り %(codes)d件"
        ) % {
            "app": TOTPDevice.objects.filter(user=user, confirmed=True).count(),
            "passkeys": twostep.passkey_list(user=user).count(),
            "codes": twostep.recovery_codes_left(user=user),
        }

    @admin.action(description=_("ログイン制限を解除する"))
    def lift_sign_in_throttle(self, request, queryset):
        for user in queryset:
            services.sign_in_throttle_lift(login_id=user.login_id, actor=request.user)
        messages.success(request, _("選択したログインIDのログイン制限を解除しました。"))

    @admin.action(description=_("二段階認証をリセットする（端末の紛失時）"))
    def reset_two_step(self, request, queryset):
        """Remove every second factor of the selected administrators (twostep), each
        mailed and recorded in ログ管理."""
        reset = 0
        for user in queryset.filter(role=Role.ADMINISTRATOR).select_related("contract"):
            twostep.two_step_reset(user=user, actor=request.user)
            reset += 1
        messages.success(
            request, _("%(count)d件の管理者の二段階認証をリセットしました。") % {"count": reset}
        )

    @admin.action(description=_("全端末からサインアウト"))
    def sign_out_everywhere(self, request, queryset):
        """Every session and app sign-in of the selected user IDs ends, each mailed and
        recorded in ログ管理 (the console's service)."""
        done = 0
        for user in queryset.filter(role=Role.USER).select_related("contract"):
            try:
                services.user_sign_out_everywhere(
                    contract=user.contract, actor=request.user, user=user
                )
            except NotFound as gone:
                messages.warning(request, f"{user.login_id}: {gone}")
                continue
            done += 1
        messages.success(
            request,
            _("%(count)d件のログインIDを全端末からサインアウトしました。") % {"count": done},
        )

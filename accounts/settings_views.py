"""環境設定: the administrator's own password, mail address, the way to 二段階認証
(twostep) and to the 通知 of アクセス設定. Also パスワードをお忘れの方, for
administrators and user IDs alike. Each view: guard → form → one service call →
message → redirect."""

from django.contrib import messages
from django.contrib.auth import password_validation
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.guards import administrator_required
from accounts.settings_forms import (
    EmailChangeForm,
    PasswordResetForm,
    PasswordResetRequestForm,
)
from accounts.views import password_change_flow
from core.clientip import client_address
from devicekeys.selectors import access_setting_get
from twostep import services as twostep
from twostep.guards import sudo_required


@never_cache
@administrator_required
def settings_home(request):
    """環境設定. The 通知 of a device's registration is a part of アクセス設定 (its one
    place): this page says how it is set and leads there."""
    user = request.user
    context = {
        "title": _("環境設定"),
        "two_step": twostep.enrolled(user),
        "notify_on_register": access_setting_get(contract=request.contract).notify_on_register,
    }
    return render(request, "accounts/settings.html", context)


@administrator_required
@require_http_methods(["GET", "POST"])
def settings_notifications(request):
    """The old address of 通知 in 環境設定: アクセス設定 holds it now. A form sent from a
    page of before is not saved; アクセス設定 opens and says so."""
    if request.method == "POST":
        messages.info(
            request, _("通知の設定はアクセス設定に移りました。もう一度保存してください。")
        )
    return redirect(f"{reverse('devicekeys:access-settings')}#notification")


@never_cache
@sensitive_post_parameters("current_password", "password", "password_confirm")
@administrator_required
def settings_password(request):
    """パスワード変更 of the administrator: the current password checked as a sign-in
    is; other sessions end, this one stays; a mail says so."""
    return password_change_flow(request, change=services.administrator_password_change)


@never_cache
@administrator_required
@sudo_required
@require_http_methods(["GET", "POST"])
def settings_email(request):
    """メールアドレス変更: a confirmation link to the new address; the address changes
    when it is followed. Asks for a fresh proof (本人確認) first."""
    form = EmailChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            services.email_change_request(
                contract=request.contract,
                actor=request.user,
                user=request.user,
                email=email,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "%(email)s に確認のメールを送りました。メールのリンクを開くと、"
                    "メールアドレスの変更が完了します（有効期限24時間）。"
                )
                % {"email": email},
            )
            return redirect("accounts:settings")
    context = {"title": _("メールアドレス変更"), "form": form}
    return render(request, "accounts/settings_email.html", context)


@never_cache
@administrator_required
@require_http_methods(["GET", "POST"])
def settings_email_confirm(request, token):
    """The confirmation link: a page with the new address and a button (a mail
    scanner opening the link changes nothing)."""
    email = services.email_change_of(token, user=request.user)
    if request.method == "POST" and email:
        try:
            services.email_change_confirm(
                contract=request.contract, actor=request.user, user=request.user, token=token
            )
        except ValidationError:
            email = None
        else:
            messages.success(
                request, _("メールアドレスを %(email)s に変更しました。") % {"email": email}
            )
            return redirect("accounts:settings")
    context = {"title": _("メールアドレス変更"), "email": email}
    return render(
        request, "accounts/settings_email_confirm.html", context, status=200 if email else 400
    )


# --- パスワードをお忘れの方 --------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request):
    """パスワードをお忘れの方: the same answer whether the login ID exists or not."""
    form = PasswordResetRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(
            login_id=form.cleaned_data["login_id"],
            ip=client_address(request),
        )
        return render(
            request, "accounts/password_reset_sent.html", {"title": _("パスワードの再設定")}
        )
    context = {"title": _("パスワードの再設定"), "form": form}
    return render(request, "accounts/password_reset.html", context)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link of the mail: Django's check of its token (valid an hour, until the
    password changes: single use), the new password through the service."""

    form_class = PasswordResetForm
    template_name = "accounts/password_reset_confirm.html"
    extra_context = {"title": _("パスワードの再設定")}

    def get_context_data(self, **kwargs):
        rules = password_validation.password_validators_help_texts()
        return {**super().get_context_data(**kwargs), "password_rules": rules}

    def form_valid(self, form):
        try:
            services.password_reset_complete(
                user=self.user, password=form.cleaned_data["new_password1"]
            )
        except ValidationError as error:  # the rules of the password, next to its field
            form.add_error("new_password1", error.message_dict["password"])
            return self.form_invalid(form)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        messages.success(
            self.request,
            _("パスワードを再設定しました。新しいパスワードでログインしてください。"),
        )
        return redirect("accounts:login")

"""A user ID's own pages (利用者): the home page, and the self-service the guide
allows (the profile fields D–G with the nickname, and the password). The storage
service itself is another site; this home only says who is signed in, and on
which registered device."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from accounts import services
from accounts.guards import user_required
from accounts.user_forms import ProfileForm
from accounts.views import (
    app_registration_end_flow,
    app_registrations_page,
    password_change_flow,
)
from api.selectors import access_app_registration


@user_required
def user_home(request):
    """ホーム: who is signed in, on which registered device, and what they may change."""
    context = {"title": _("ホーム"), "device": getattr(request, "device_key", None)}
    return render(request, "accounts/user_home.html", context)


@never_cache
@user_required
def profile_edit(request):
    """利用者情報の変更 by the user themselves."""
    form = ProfileForm(initial=ProfileForm.initial_for(request.user))
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                changed = services.user_profile_change(
                    contract=request.contract,
                    actor=request.user,
                    user=request.user,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if changed:
                    messages.success(request, _("登録内容を変更しました。"))
                else:
                    messages.info(request, _("変更された項目はありませんでした。"))
                return redirect("accounts:user-home")
    context = {"title": _("登録内容の変更"), "form": form}
    return render(request, "accounts/profile_edit.html", context)


@never_cache
@sensitive_post_parameters("current_password", "password", "password_confirm")
@user_required
def password_change(request):
    """パスワード変更: the current password is checked as a sign-in is (throttled, counted,
    in ログ管理); other sessions end; this one and this device's registration stay."""
    return password_change_flow(request, change=services.user_password_change)


@user_required
def own_apps(request):
    """アプリのログイン: the user's own app sign-ins, each of which they can end."""
    return app_registrations_page(
        request,
        user=request.user,
        end_url="accounts:own-app-end",
        end_all_url=reverse("accounts:own-apps-end"),
        template="accounts/own_apps.html",
    )


@user_required
def own_app_end(request, registration_pk):
    registration = access_app_registration(request.contract, request.user, registration_pk)
    back = reverse("accounts:own-apps")
    return app_registration_end_flow(
        request, user=request.user, registration=registration, back=back
    )


@user_required
def own_apps_end(request):
    back = reverse("accounts:own-apps")
    return app_registration_end_flow(request, user=request.user, registration=None, back=back)

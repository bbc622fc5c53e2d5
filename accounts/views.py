from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.auth import axes_username
from accounts.forms import SignInForm
from accounts.guards import administrator_required
from accounts.middleware import stamp_sign_in


class SignInView(auth_views.LoginView):
    """ログイン. Django's login() rotates the session key; axes throttles failures."""

    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": _("ログイン")}

    def get_default_redirect_url(self):
        return landing_url(self.request.user)

    def form_valid(self, form):
        response = super().form_valid(form)
        stamp_sign_in(self.request)
        return response


class SignOutView(auth_views.LogoutView):
    """ログアウト (POST only, as Django's LogoutView requires)."""


def landing_url(user) -> str:
    """Where a signed-in account starts: the console for an administrator."""
    return reverse("accounts:console")


def home(request):
    """Where '/' leads: the sign-in page, or the account's starting page."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    return redirect(landing_url(request.user))


@administrator_required
def console(request):
    """The console's start page: the guide's menu items as entry points."""
    return render(request, "accounts/console.html", {"title": _("管理メニュー")})


def locked_out(request, original_response=None, credentials=None):
    """What django-axes shows a throttled sign-in: the login page with the reason."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = SignInForm(request, initial={"username": axes_username(request, credentials)})
    message = _(
        "ログインに続けて失敗したため、このログインIDでのログインを一時的に制限しています。"
        "%(minutes)d分後にもう一度お試しください。"
    ) % {"minutes": minutes}
    context = {"form": form, "locked_message": message, "title": _("ログイン")}
    return render(request, "accounts/login.html", context, status=429)

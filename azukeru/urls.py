from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import include, path, reverse

admin.site.site_header = admin.site.site_title = "Azukeru PRO support"


def _support_sign_in(request, extra_context=None):
    """Support staff sign in on the console's page, with its throttles and its second
    step (twostep): Django admin has no sign-in page of its own."""
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


def _support_may_enter(request) -> bool:
    """Active support staff whose session passed the second step (twostep), which
    support staff always have."""
    user = request.user
    return user.is_active and user.is_staff and user.is_verified()


admin.site.login = _support_sign_in
admin.site.has_permission = _support_may_enter

urlpatterns = [
    path("", include("accounts.urls")),
    path("console/users/import/", include("csvimport.urls")),
    path("login/device/", include("devicekeys.signin_urls")),
    path("console/device-keys/", include("devicekeys.urls")),
    path("console/logs/", include("audit.urls")),
    path("api/", include("api.urls")),
    path("", include("twostep.urls")),
    path("settings/two-step/passkeys/webauthn/", include("twostep.webauthn_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Django admin is the support staff's tool; it is not at the well-known /admin/.
    path("support/", admin.site.urls),
]

from functools import update_wrapper

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import include, path, reverse

from api import views as api_views
from ssf import views as ssf_views

admin.site.site_header = admin.site.site_title = "Azukeru PRO support"


def _support_may_enter(request) -> bool:
    """Active support staff whose session passed the second step (twostep), which
    support staff always have."""
    user = request.user
    return user.is_active and user.is_staff and user.is_verified()


def _support_forbidden(request):
    """An administrator or a user ID signed in: the console's 403 page, in its frame
    (sending them to sign in would bring them straight back here)."""
    return render(request, "403_support.html", status=403)


def _support_sign_in(request, extra_context=None):
    """Support staff sign in on the console's page, with its throttles and its second
    step (twostep): Django admin has no sign-in page of its own."""
    if request.user.is_authenticated:
        if not _support_may_enter(request):
            return _support_forbidden(request)
        return redirect("admin:index")
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


def _support_only(view, cacheable=False):
    """Django admin's guard of every page of the support site (AdminSite.admin_view:
    the permission, never_cache, CSRF) with the console's answers: an anonymous
    visitor is sent to the console's sign-in, anyone else signed in who may not enter
    gets 403. Support staff whose second step is pending never get here: twostep's
    middleware takes them to it first."""
    admitted = AdminSite.admin_view(admin.site, view, cacheable)

    def guarded(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not _support_may_enter(request):
            return _support_forbidden(request)
        return admitted(request, *args, **kwargs)

    return update_wrapper(guarded, admitted)


admin.site.login = _support_sign_in
admin.site.has_permission = _support_may_enter
admin.site.admin_view = _support_only

# The error pages in the viewer's language (core/errorpages.py); 403 is Django's own
# view with templates/403.html.
handler400 = "core.errorpages.bad_request"
handler404 = "core.errorpages.page_not_found"
handler500 = "core.errorpages.server_error"

urlpatterns = [
    path("", include("accounts.urls")),
    path("console/users/import/", include("csvimport.urls")),
    path("login/device/", include("devicekeys.signin_urls")),
    path("console/device-keys/", include("devicekeys.urls")),
    path("console/logs/", include("audit.urls")),
    path("api/", include("api.urls")),
    path("api/ssf/", include("ssf.urls")),
    path(".well-known/ssf-configuration", ssf_views.configuration, name="ssf-configuration"),
    # RFC 8414: at SITE_URL + this path, SITE_URL being the issuer.
    path(".well-known/oauth-authorization-server", api_views.metadata, name="oauth-metadata"),
    path("", include("twostep.urls")),
    path("settings/two-step/passkeys/webauthn/", include("twostep.webauthn_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Django admin is the support staff's tool; it is not at the well-known /admin/.
    path("support/", admin.site.urls),
]

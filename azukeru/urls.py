from django.contrib import admin
from django.urls import include, path

admin.site.site_header = admin.site.site_title = "Azukeru PRO support"

urlpatterns = [
    path("", include("accounts.urls")),
    path("console/users/import/", include("csvimport.urls")),
    path("login/device/", include("devicekeys.signin_urls")),
    path("console/device-keys/", include("devicekeys.urls")),
    path("console/logs/", include("audit.urls")),
    path("api/", include("api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Django admin is the support staff's tool; it is not at the well-known /admin/.
    path("support/", admin.site.urls),
]

from django.urls import path

from api import views

app_name = "api"

# Under /api/ (azukeru/urls.py). These paths are a contract with app makers and the
# storage service: keep them exactly (docs/API.md).
urlpatterns = [
    path("oauth/token", views.token, name="token"),
    path("oauth/introspect", views.introspect, name="introspect"),
    path("oauth/revoke", views.revoke, name="revoke"),
    path("device/status", views.device_status, name="device-status"),
]

from django.urls import path

from ssf import views

app_name = "ssf"

# Under /api/ssf/ (azukeru/urls.py), beside the metadata at
# /.well-known/ssf-configuration. A contract with receivers: keep these paths.
urlpatterns = [
    path("jwks", views.jwks, name="jwks"),
    path("streams", views.streams, name="streams"),
    path("status", views.status, name="status"),
    path("verify", views.verify, name="verify"),
]

"""The user's side of device authentication, under /login/device/ (not the console)."""

from django.urls import path

from devicekeys import signin_views

app_name = "signin"

urlpatterns = [
    path("", signin_views.device_key, name="device-key"),
]

from django.urls import path

from twostep import views

app_name = "twostep"

urlpatterns = [
    path("login/two-step/", views.verify, name="verify"),
    path("settings/confirm/", views.confirm, name="confirm"),
    path("settings/two-step/", views.setup, name="setup"),
    path("settings/two-step/app/", views.app, name="app"),
    path("settings/two-step/app/remove/", views.app_remove, name="app-remove"),
    path("settings/two-step/recovery-codes/", views.recovery_codes, name="recovery-codes"),
    path(
        "settings/two-step/recovery-codes/download/",
        views.recovery_codes_download,
        name="recovery-codes-download",
    ),
    path(
        "settings/two-step/passkeys/<int:pk>/rename/", views.passkey_rename, name="passkey-rename"
    ),
    path(
        "settings/two-step/passkeys/<int:pk>/delete/", views.passkey_delete, name="passkey-delete"
    ),
]

from django.urls import path

from accounts import settings_views, user_views, views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("login/forgot/", settings_views.password_reset, name="password-reset"),
    path(
        "login/reset/<uidb64>/<token>/",
        settings_views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    # A user ID's own pages (accounts/user_views.py)
    path("home/", user_views.user_home, name="user-home"),
    path("home/profile/", user_views.profile_edit, name="profile-edit"),
    path("home/password/", user_views.password_change, name="password-change"),
    path("home/apps/", user_views.own_apps, name="own-apps"),
    path("home/apps/end/", user_views.own_apps_end, name="own-apps-end"),
    path("home/apps/<int:registration_pk>/end/", user_views.own_app_end, name="own-app-end"),
    path("console/", views.console, name="console"),
    # 環境設定 (accounts/settings_views.py); 二段階認証 is twostep/urls.py
    path("console/settings/", settings_views.settings_home, name="settings"),
    path("console/settings/password/", settings_views.settings_password, name="settings-password"),
    path("console/settings/email/", settings_views.settings_email, name="settings-email"),
    path(
        "console/settings/email/confirm/<str:token>/",
        settings_views.settings_email_confirm,
        name="settings-email-confirm",
    ),
    path(
        "console/settings/notifications/",
        settings_views.settings_notifications,
        name="settings-notifications",
    ),
    path("console/users/", views.user_list, name="user-list"),
    path("console/users/new/", views.user_create, name="user-create"),
    path("console/users/<int:pk>/created/", views.user_created, name="user-created"),
    path("console/users/<int:pk>/edit/", views.user_edit, name="user-edit"),
    path("console/users/<int:pk>/delete/", views.user_delete, name="user-delete"),
    path("console/users/<int:pk>/apps/", views.user_apps, name="user-apps"),
    path("console/users/<int:pk>/apps/end/", views.user_apps_end, name="user-apps-end"),
    path(
        "console/users/<int:pk>/apps/<int:registration_pk>/end/",
        views.user_app_end,
        name="user-app-end",
    ),
    path("console/users/<int:pk>/sign-out/", views.user_sign_out, name="user-sign-out"),
    # CSVインポート is csvimport/urls.py, under console/users/import/
    path("console/users/export.csv", views.user_export, name="user-export"),
]

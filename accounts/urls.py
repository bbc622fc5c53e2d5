from django.urls import path

from accounts import user_views, views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    # A user ID's own pages (accounts/user_views.py)
    path("home/", user_views.user_home, name="user-home"),
    path("home/profile/", user_views.profile_edit, name="profile-edit"),
    path("home/password/", user_views.password_change, name="password-change"),
    path("console/", views.console, name="console"),
    path("console/users/", views.user_list, name="user-list"),
    path("console/users/new/", views.user_create, name="user-create"),
    path("console/users/<int:pk>/created/", views.user_created, name="user-created"),
    path("console/users/<int:pk>/edit/", views.user_edit, name="user-edit"),
    path("console/users/<int:pk>/delete/", views.user_delete, name="user-delete"),
    # CSVインポート is csvimport/urls.py, under console/users/import/
    path("console/users/export.csv", views.user_export, name="user-export"),
]

from django.urls import path

from devicekeys import views

app_name = "devicekeys"

urlpatterns = [
    path("", views.key_list, name="key-list"),
    path("issue/", views.key_issue, name="key-issue"),
    path("<int:pk>/issued/", views.key_issued, name="key-issued"),
    path("<int:pk>/rename/", views.key_rename, name="key-rename"),
    path("<int:pk>/reissue/", views.key_reissue, name="key-reissue"),
    path("<int:pk>/stop/", views.key_stop, name="key-stop"),
    path("<int:pk>/unstop/", views.key_unstop, name="key-unstop"),
    path("<int:pk>/delete/", views.key_delete, name="key-delete"),
    path("users/<int:user_id>/stop/", views.user_keys_stop, name="user-keys-stop"),
    path("<int:pk>/", views.key_detail, name="key-detail"),
    path("access/", views.access_settings, name="access-settings"),
]

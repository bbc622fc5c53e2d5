from django.urls import path

from csvimport import views

app_name = "csvimport"

# Under /console/users/import/ (azukeru/urls.py): CSVインポート of 利用者ID一覧.
urlpatterns = [
    path("", views.user_import, name="user-import"),
    path("template.csv", views.user_import_template, name="user-import-template"),
    path("<int:pk>/", views.user_import_job, name="user-import-job"),
    path("<int:pk>/progress/", views.user_import_progress, name="user-import-progress"),
    path("<int:pk>/report.csv", views.user_import_report, name="user-import-report"),
]

from django.urls import path

from tests.storage_service import views

urlpatterns = [
    path("files", views.FileList.as_view()),
    path("ssf/events", views.events),
]

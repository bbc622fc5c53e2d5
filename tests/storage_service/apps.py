from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "tests.storage_service"
    label = "storage"
    default_auto_field = "django.db.models.BigAutoField"

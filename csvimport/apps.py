from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CsvImportConfig(AppConfig):
    """CSVインポート of 利用者ID管理: the file format, the import service, the jobs the
    task worker runs, their screens and `manage.py import_users`. Its model,
    ImportJob, stays in accounts (the table it was created in)."""

    name = "csvimport"
    verbose_name = _("CSVインポート")

    def ready(self):
        from core import maintenance
        from csvimport.tasks import import_jobs_sweep

        maintenance.register("imports", import_jobs_sweep)

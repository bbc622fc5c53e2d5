"""The console's CSV import jobs in Django admin at /support/, read-only: who
imported what, when, how far it got and how it ended (the report names lines,
login IDs and columns only). The file itself, passwords and all, is never shown
nor read here: the queries leave its column out."""

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.models import ImportJob
from core.admin import ReadOnlyAdmin
from csvimport.format import report_row


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "contract",
        "actor",
        "file_name",
        "status",
        "dry_run",
        "lines_total",
        "users_created",
        "created_at",
        "heartbeat_at",
        "finished_at",
    ]
    list_filter = ["status", "dry_run"]
    search_fields = ["=id", "file_name", "actor__login_id", "contract__name"]
    list_select_related = ["contract", "actor"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "contract",
        "actor",
        "file_name",
        "file_held",
        "encoding",
        "detected_encoding",
        "notify_users",
        "dry_run",
        "language",
        "status",
        "lines_total",
        "lines_checked",
        "users_prepared",
        "users_created",
        "report",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
    ]
    readonly_fields = ["id", "file_held", "report"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    @admin.display(description=_("ファイルを保管中"), boolean=True)
    def file_held(self, job):
        """Whether the job still holds its file (until it ends), never what it holds."""
        return ImportJob.objects.filter(pk=job.pk, content__isnull=False).exists()

    @admin.display(description=_("エラーの一覧"))
    def report(self, job):
        """The report as the administrator reads it, in the reader's language."""
        rows = (report_row(problem) for problem in job.problems)
        return format_html_join(
            "",
            "<p>{} {} {} {}</p>",
            ((row["line"], row["login_id"], row["column"], row["message"]) for row in rows),
        )

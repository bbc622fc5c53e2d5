"""CSVインポート of 利用者ID一覧: the upload, the job's progress and result, the
report and the template file.

Each view: guard → (service) → access_import_job → form → one service call →
message → redirect. The upload stores the file as a job and returns at once; the task
worker runs the import (csvimport.tasks), and the job's page follows it.
"""

from django.contrib import messages
from django.contrib.auth import password_validation
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from accounts.guards import administrator_required
from accounts.models import USERS_PER_CONTRACT
from accounts.selectors import user_count
from core.csvsafe import csv_download
from core.uploads import upload_limit, uploaded_files
from csvimport import format as csv_format
from csvimport import tasks
from csvimport.exceptions import ImportInProgress, StorageFull
from csvimport.forms import UserImportForm
from csvimport.selectors import access_import_job, import_job_list

CREATED_LINES_PER_PAGE = 50


@sensitive_variables()  # the file holds passwords: no error report shows a variable below
@upload_limit(csv_format.MAX_BYTES)  # a larger file is refused before it is read whole
@never_cache
@administrator_required
@require_http_methods(["GET", "POST"])
def user_import(request):
    """CSVインポート: CSVファイル, 通知, then 作成する or 確認のみ."""
    contract = request.contract
    tasks.import_jobs_fail_abandoned(contract=contract)
    form = UserImportForm()
    if request.method == "POST":
        form = UserImportForm(request.POST, uploaded_files(request))
        if form.is_valid():
            try:
                job = tasks.import_job_start(
                    contract=contract,
                    actor=request.user,
                    dry_run="check" in request.POST,
                    language=request.LANGUAGE_CODE,
                    **form.service_arguments(),
                )
            except (ImportInProgress, StorageFull) as error:
                messages.error(request, str(error))
                return redirect("csvimport:user-import")
            return redirect("csvimport:user-import-job", pk=job.pk)
    jobs = import_job_list(contract)
    context = {
        "title": _("CSVインポート"),
        "form": form,
        "jobs": jobs,
        "active_job": next((job for job in jobs if job.is_active), None),
        "user_count": user_count(contract),
        "limit": USERS_PER_CONTRACT.maximum,
        "limit_rule": USERS_PER_CONTRACT.rule,
        "max_lines": csv_format.MAX_LINES,
        "example_login_id": csv_format.TEMPLATE_EXAMPLE[0],
        "password_rules": password_validation.password_validators_help_texts(),
    }
    return render(request, "csvimport/user_import.html", context)


@never_cache
@administrator_required
@require_GET
def user_import_job(request, pk):
    """One import: its progress while it runs (updated by static/js/import-progress.js,
    or by the refresh link), then its result."""
    tasks.import_jobs_fail_abandoned(contract=request.contract)
    job = access_import_job(request.contract, pk)
    context = {
        "title": _("CSVインポート"),
        "job": job,
        "problems": [csv_format.report_row(problem) for problem in job.problems],
        # the user IDs created, each with a way on to its key, a page at a time
        "page": Paginator(job.created_lines, CREATED_LINES_PER_PAGE).get_page(
            request.GET.get("page")
        ),
    }
    return render(request, "csvimport/user_import_job.html", context)


@never_cache
@administrator_required
@require_GET
def user_import_progress(request, pk):
    """The job's progress as JSON, for the page's script."""
    tasks.import_jobs_fail_abandoned(contract=request.contract)
    job = access_import_job(request.contract, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": str(job.get_status_display()),
            "active": job.is_active,
            "lines_total": job.lines_total,
            "lines_checked": job.lines_checked,
            "users_prepared": job.users_prepared,
            "users_created": job.users_created,
        }
    )


@administrator_required
@require_GET
def user_import_report(request, pk):
    """The report of a job as CSV: 行, ログインID, 項目, 内容 (never a password)."""
    job = access_import_job(request.contract, pk)
    header = [_("行"), _("ログインID"), _("項目"), _("内容")]
    rows = (csv_format.report_row(problem).values() for problem in job.problems)
    return csv_download(f"user_import_report_{job.pk}.csv", header, rows)


@administrator_required
@require_GET
def user_import_template(request):
    """The template file: the column names and an example line (csv_format.template)."""
    response = HttpResponse(csv_format.template(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="user_import_template.csv"'
    return response

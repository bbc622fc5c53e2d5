"""ImportJob in Django admin: support staff see every job and how it ended, never the
file (with its passwords), and change nothing there."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import ImportJob, ImportStatus
from tests.conftest import login_verified
from tests.csvimport.csvfiles import PASSWORDS, good_file


def a_job(contract, actor, **fields):
    return ImportJob.objects.create(
        contract=contract,
        actor=actor,
        file_name="staff.csv",
        content=good_file(),
        status=ImportStatus.RUNNING,
        lines_total=3,
        **fields,
    )


def test_support_sees_the_jobs_but_never_the_file(client, support_staff, admin_a, admin_b):
    mine, theirs = a_job(admin_a.contract, admin_a), a_job(admin_b.contract, admin_b)
    login_verified(client, support_staff)
    with CaptureQueriesContext(connection) as queries:
        listing = client.get(reverse("admin:accounts_importjob_changelist"))
    assert listing.status_code == 200
    assert f">{mine.pk}<" in listing.text and f">{theirs.pk}<" in listing.text
    detail = client.get(reverse("admin:accounts_importjob_change", args=[mine.pk]))
    assert detail.status_code == 200 and "staff.csv" in detail.text
    for page in (listing, detail):
        assert not any(password in page.text for password in PASSWORDS)
    selected = [q["sql"].split(" FROM ")[0] for q in queries.captured_queries]
    assert not any('"content"' in columns for columns in selected)


def test_support_changes_nothing_there(client, support_staff, admin_a):
    job = a_job(admin_a.contract, admin_a)
    login_verified(client, support_staff)
    change = reverse("admin:accounts_importjob_change", args=[job.pk])
    client.post(change, {"status": ImportStatus.SUCCEEDED, "file_name": "x.csv"})
    assert client.get(reverse("admin:accounts_importjob_add")).status_code == 403
    assert client.post(reverse("admin:accounts_importjob_delete", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert (job.status, job.file_name) == (ImportStatus.RUNNING, "staff.csv")


def test_support_reads_the_report_in_words_in_their_language(client, support_staff, admin_a):
    problem = {
        "line": 4,
        "column": "password",
        "login_id": "kato01",
        "message": [
            ["パスワードに一般的な英単語（%(word)s）を含めることはできません。", {"word": "****"}]
        ],
    }
    job = a_job(admin_a.contract, admin_a, problems=[problem])
    login_verified(client, support_staff)
    change = reverse("admin:accounts_importjob_change", args=[job.pk])
    assert "4 kato01 パスワード パスワードに一般的な英単語（****）を含めることはできません。" in (
        client.get(change).text
    )
    client.cookies["django_language"] = "en"
    page = client.get(change).text
    assert "4 kato01 Password A password must not contain a common English word (****)." in page
    assert "%(word)s" not in page

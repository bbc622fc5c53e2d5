"""CSVインポート and CSVエクスポート through the browser: the upload, the job run
by the task (django-tasks' ImmediateBackend: the task runs when the commit
callbacks do), the progress endpoint, the result, the report, the lock of one
import per contract, the dead worker, and no password left anywhere."""

import codecs
import csv
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from functools import partial

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.views.debug import ExceptionReporter
from django_tasks.signals import task_enqueued

from accounts.models import ImportJob, ImportStatus, User
from csvimport import services as csv_services
from csvimport import tasks
from csvimport import views as csv_views
from csvimport.exceptions import ImportInProgress
from csvimport.tasks import run_import_job
from tests.conftest import task_backend
from tests.csvimport.csvfiles import GOOD, PASSWORDS, csv_bytes, good_file
from tests.csvimport.csvfiles import good_file_with_full_width_spaces as spaced_file
from tests.notifications.test_worker_process import ROOT, database_url
from tests.parallel import at_the_same_moment, on_postgresql

IMPORT = reverse("csvimport:user-import")
LIST = reverse("accounts:user-list")
EXPORT = reverse("accounts:user-export")


def upload(client, content, *, name="staff.csv", button="create", **fields):
    data = {"file": SimpleUploadedFile(name, content, "text/csv"), "encoding": "auto", **fields}
    data[button] = "1"
    return client.post(IMPORT, data)


def job_urls(job) -> dict:
    return {
        name: reverse(f"csvimport:user-import-{name}", args=[job.pk])
        for name in ("job", "progress", "report")
    }


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


@pytest.fixture
def uploaded(admin_client_a, django_capture_on_commit_callbacks):
    """Upload a file and let the worker run it; return the job and its page's URL."""

    def send(content, **options):
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(admin_client_a, content, **options)
        assert response.status_code == 302, response.text
        job = ImportJob.objects.get()
        assert response.url == job_urls(job)["job"]
        return job

    return send


class TestImportScreen:
    def test_the_list_leads_to_import_and_export(self, admin_client_a):
        page = admin_client_a.get(LIST).text
        assert f'href="{IMPORT}"' in page
        assert f'href="{EXPORT}"' in page
        assert "CSVインポート <small>準備中" not in page

    def test_a_full_contract_cannot_start_an_import(
        self, admin_client_a, contract_a, fill_contract
    ):
        fill_contract(contract_a, 999)
        assert f'href="{IMPORT}"' not in admin_client_a.get(LIST).text

    def test_the_screen_has_the_guides_fields_and_explains_the_format(self, admin_client_a):
        page = admin_client_a.get(IMPORT).text
        for words in [
            "CSVファイル",
            "各利用者IDのメールアドレスに通知する",
            "作成する",
            "確認のみ",
            "ログインID,パスワード,メールアドレス",
            "記入例の行（<code>example01</code>）は、そのままなら読み飛ばします",
            "Shift_JIS（CP932）",
            "BOM付き",
            "パスワードルールについて",
            reverse("csvimport:user-import-template"),
            'enctype="multipart/form-data"',
        ]:
            assert words in page

    @pytest.mark.parametrize(
        "language, header",
        [("ja", "ログインID,パスワード,メールアドレス"), ("en", "Login ID,Password,Email address")],
    )
    def test_the_template_file_holds_the_columns_and_an_example_line(
        self, admin_client_a, language, header
    ):
        admin_client_a.post(reverse("set_language"), {"language": language, "next": IMPORT})
        response = admin_client_a.get(reverse("csvimport:user-import-template"))
        assert response.content.startswith(codecs.BOM_UTF8)
        assert response.content.decode("utf-8-sig").splitlines() == [
            header,
            "example01,Rv8Kq3Zt,example01@example.jp",
        ]
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]

    def test_no_file_an_empty_one_or_one_over_1_mib_is_refused_at_once(self, admin_client_a):
        assert "このフィールドは必須です" in admin_client_a.post(IMPORT, {"create": "1"}).text
        assert "空" in upload(admin_client_a, b"").text
        assert "大きすぎます" in upload(admin_client_a, b"x" * (1024 * 1024 + 1)).text
        assert not ImportJob.objects.exists()


class TestEndToEnd:
    def test_upload_progress_and_result(
        self, admin_client_a, contract_a, django_capture_on_commit_callbacks
    ):
        # The upload stores the file and returns; the task is queued on commit.
        with django_capture_on_commit_callbacks() as queued:
            response = upload(admin_client_a, spaced_file("cp932"))
        job = ImportJob.objects.get()
        urls = job_urls(job)
        assert response.url == urls["job"]
        assert (job.status, job.contract, job.file_name) == ("queued", contract_a, "staff.csv")
        assert len(queued) == 1

        # While it waits: the bars, the refresh link, the script that polls.
        page = admin_client_a.get(urls["job"]).text
        assert "<progress" in page and "js/import-progress.js" in page
        assert f'href="{urls["job"]}"' in page and "最新の状態に更新" in page
        progress = admin_client_a.get(urls["progress"]).json()
        assert progress["status"] == "queued" and progress["active"] is True

        # The worker runs it.
        with django_capture_on_commit_callbacks(execute=True):
            queued[0]()

        progress = admin_client_a.get(urls["progress"]).json()
        assert progress == {
            "status": "succeeded",
            "status_label": "完了",
            "active": False,
            "lines_total": 3,
            "lines_checked": 3,
            "users_prepared": 3,
            "users_created": 3,
        }
        page = admin_client_a.get(urls["job"]).text
        assert "3件の利用者IDを作成しました" in page
        assert "<progress" not in page
        assert f'href="{LIST}"' in page
        assert "Shift_JIS（CP932）" in page
        assert sorted(User.objects.for_contract(contract_a).values_list("login_id", flat=True)) == (
            sorted(["admin-a", *(login_id for login_id, _p, _e in GOOD)])
        )

    def test_each_created_line_leads_on_to_issuing_its_key(self, uploaded, admin_client_a):
        job = uploaded(good_file())
        page = admin_client_a.get(job_urls(job)["job"]).text
        issue = reverse("devicekeys:key-issue")
        for line, (login_id, _password, _email) in enumerate(GOOD, 1):
            assert f'<td data-label="行">{line}</td>' in page
            assert f'href="{issue}?login_id={login_id}"' in page
        opened = admin_client_a.get(issue, {"login_id": "Tanaka_3"}).text
        assert re.search(r"checked[^>]*>\s*</td>\s*<td><label[^>]*>Tanaka_3<", opened)

    def test_the_created_lines_are_shown_50_a_page(self, admin_client_a, uploaded):
        rows = [(f"staff{n:03d}", "Hn5vRt2Wq8", f"staff{n:03d}@example.jp") for n in range(60)]
        job = uploaded(csv_bytes(rows))
        assert job.status == "succeeded", job.problems
        issue = reverse("devicekeys:key-issue")
        first = admin_client_a.get(job_urls(job)["job"]).text
        second = admin_client_a.get(job_urls(job)["job"], {"page": 2}).text
        assert first.count(f"{issue}?login_id=") == 50
        assert second.count(f"{issue}?login_id=") == 10
        assert "staff059" in second and "staff059" not in first

    def test_a_check_only_run_offers_no_key(self, uploaded, admin_client_a):
        job = uploaded(good_file(), button="check")
        page = admin_client_a.get(job_urls(job)["job"]).text
        assert "?login_id=" not in page

    def test_notification_mails_when_ticked(self, uploaded, mailoutbox):
        job = uploaded(good_file(), notify_users="on")
        assert job.notify_users
        assert sorted(m.to[0] for m in mailoutbox) == sorted(e for _l, _p, e in GOOD)

    def test_no_mail_when_not_ticked(self, uploaded, mailoutbox):
        uploaded(good_file())
        assert mailoutbox == []

    def test_check_only_creates_nothing(self, uploaded, admin_client_a, contract_a):
        job = uploaded(good_file(), button="check")
        assert job.dry_run and job.status == "succeeded"
        page = admin_client_a.get(job_urls(job)["job"]).text
        assert "確認のみ: 3行すべてに問題はありません" in page
        assert not User.objects.for_contract(contract_a).users().exists()

    def test_a_broken_file_shows_the_lines_to_fix_and_a_csv_report(
        self, uploaded, admin_client_a, contract_a, users_b
    ):
        content = csv_bytes(
            [
                GOOD[0],
                ("=HYPERLINK(x)", PASSWORDS[1], "x@example.jp"),
                ("jiro-b", PASSWORDS[2], "j@example.jp"),
                ("kato01", "Zq9house7X", "kato@example.jp"),
            ]
        )
        job = uploaded(content)
        assert job.status == "rejected"
        urls = job_urls(job)

        page = admin_client_a.get(urls["job"]).text
        assert "3件のエラーがあるため、利用者IDは1つも作成していません" in page
        assert "既に使用されています" in page and "一般的な英単語" in page
        assert urls["report"] in page

        rows = csv_rows(admin_client_a.get(urls["report"]))
        assert rows[0] == ["行", "ログインID", "項目", "内容"]
        assert [row[:3] for row in rows[1:]] == [
            ["2", "'=HYPERLINK(x)", "ログインID"],  # neutralised for Excel
            ["3", "jiro-b", "ログインID"],
            ["4", "kato01", "パスワード"],
        ]
        assert not User.objects.for_contract(contract_a).users().exists()

    def test_a_hostile_file_gets_one_clear_message(self, uploaded, admin_client_a):
        job = uploaded(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", name="photo.png")
        assert job.status == "rejected"
        assert "バイナリデータ" in admin_client_a.get(job_urls(job)["job"]).text

    def test_the_report_is_in_the_language_of_whoever_reads_it(self, uploaded, admin_client_a):
        """Uploaded in Japanese, read in English: the page and the CSV report alike;
        and back in Japanese, the same job in Japanese."""
        job = uploaded(
            csv_bytes([GOOD[0], ("kato01", "Zq9house7X", "kato@example.jp"), ("x" * 61, "a", "b")])
        )
        urls = job_urls(job)
        admin_client_a.cookies["django_language"] = "en"
        page = admin_client_a.get(urls["job"]).text
        assert "common English word (*****)" in page
        assert "Login ID is too long (61 characters). Write at most 60" in page
        rows = csv_rows(admin_client_a.get(urls["report"]))
        assert rows[0] == ["Line", "Login ID", "Field", "Content"]
        assert "common English word (*****)" in rows[1][3]
        assert not any("パスワード" in cell or "ログインID" in cell for row in rows for cell in row)

        admin_client_a.cookies["django_language"] = "ja"
        page = admin_client_a.get(urls["job"]).text
        assert "パスワードに一般的な英単語（*****）を含めることはできません。" in page
        assert "ログインIDが長すぎます（61文字）。60文字以内で記入してください。" in page

    def test_a_file_refused_whole_is_told_in_the_readers_language(self, uploaded, admin_client_a):
        job = uploaded(b"a,b,c\r\n\x01,x,y\r\n")
        admin_client_a.cookies["django_language"] = "en"
        page = admin_client_a.get(job_urls(job)["job"]).text
        assert "This is not a CSV file (line 2 has control characters)." in page

    def test_a_report_stored_in_words_before_stays_readable(self, admin_client_a, contract_a):
        job = ImportJob.objects.create(
            contract=contract_a,
            status=ImportStatus.REJECTED,
            problems=[{"line": 3, "column": "login_id", "login_id": "old-1", "message": "旧形式"}],
        )
        admin_client_a.cookies["django_language"] = "en"
        assert "旧形式" in admin_client_a.get(job_urls(job)["job"]).text
        assert csv_rows(admin_client_a.get(job_urls(job)["report"]))[1] == [
            "3",
            "old-1",
            "Login ID",
            "旧形式",
        ]


class TestOneImportAtATime:
    def test_a_second_upload_while_one_waits_is_refused(
        self, admin_client_a, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks():  # the worker has not started it
            upload(admin_client_a, good_file())
            response = upload(admin_client_a, good_file())
        assert response.url == IMPORT
        assert ImportJob.objects.count() == 1
        page = admin_client_a.get(IMPORT).text
        assert "この契約のCSVインポートを処理しています。終わってから" in page
        assert "処理状況を見る" in page

    def test_the_database_holds_one_active_job_per_contract(self, contract_a, admin_a):
        tasks.import_job_start(contract=contract_a, actor=admin_a, file_name="a", content=b"x")
        with pytest.raises(ImportInProgress):
            tasks.import_job_start(contract=contract_a, actor=admin_a, file_name="b", content=b"x")

    def test_the_unique_constraint_itself(self, contract_a):
        ImportJob.objects.create(contract=contract_a, status="running", content=b"x")
        with pytest.raises(IntegrityError), transaction.atomic():
            ImportJob.objects.create(contract=contract_a, status="queued", content=b"y")

    @on_postgresql("needs parallel connections; SQLite serialises all writers")
    def test_two_uploads_at_the_same_moment_make_one_job(self, settings, admin_a):
        # No worker runs the job meanwhile (with the ImmediateBackend the first job
        # could end before the second upload looks): both meet while it is queued.
        settings.TASKS = task_backend("django_tasks.backends.dummy.DummyBackend")
        queued = []

        def on_enqueued(sender, task_result, **kwargs):
            if task_result.task.func is run_import_job.func:
                queued.append(task_result.kwargs["job_id"])

        task_enqueued.connect(on_enqueued, weak=False)
        browsers = []
        for _ in range(2):
            browsers.append(Client())
            browsers[-1].force_login(admin_a)
        try:
            for n in range(5):
                content = csv_bytes([(f"race{n}-{login_id}", *rest) for login_id, *rest in GOOD])
                responses = at_the_same_moment(
                    *(partial(upload, browser, content) for browser in browsers)
                )
                job = ImportJob.objects.get(status=ImportStatus.QUEUED)  # never two
                urls = [getattr(r, "url", repr(r)) for r in responses]
                assert sorted(urls) == sorted([job_urls(job)["job"], IMPORT])  # no 500
                refused = browsers[urls.index(IMPORT)]
                assert (
                    "この契約のCSVインポートを処理しています。終わってから"
                    in refused.get(IMPORT).text
                )
                assert queued == [job.pk]
                assert tasks.import_job_run(job_id=queued.pop()) == ImportStatus.SUCCEEDED
                assert User.objects.filter(login_id__startswith=f"race{n}-").count() == len(GOOD)
        finally:
            task_enqueued.disconnect(on_enqueued)
        assert ImportJob.objects.count() == 5

    def test_another_contract_may_import_meanwhile(self, contract_a, contract_b, admin_a, admin_b):
        tasks.import_job_start(contract=contract_a, actor=admin_a, file_name="a", content=b"x")
        tasks.import_job_start(contract=contract_b, actor=admin_b, file_name="b", content=b"x")
        assert ImportJob.objects.active().count() == 2

    def test_a_finished_job_does_not_block_the_next(self, uploaded, admin_client_a):
        uploaded(good_file(), button="check")
        response = upload(admin_client_a, good_file())
        assert response.status_code == 302


class TestDeadWorker:
    def start_running_job(self, contract, admin, **fields):
        job = tasks.import_job_start(
            contract=contract, actor=admin, file_name="staff.csv", content=good_file()
        )
        ImportJob.objects.filter(pk=job.pk).update(status="running", **fields)
        return job

    def test_a_job_whose_heartbeat_stopped_is_marked_failed(
        self, admin_client_a, contract_a, admin_a
    ):
        old = timezone.now() - ImportJob.RUNNING_LEASE - timedelta(seconds=1)
        job = self.start_running_job(contract_a, admin_a, started_at=old, heartbeat_at=old)

        progress = admin_client_a.get(job_urls(job)["progress"]).json()
        assert progress["status"] == "failed" and progress["active"] is False
        job.refresh_from_db()
        assert job.content is None
        assert "処理が途中で止まりました" in admin_client_a.get(job_urls(job)["job"]).text
        assert upload(admin_client_a, good_file()).status_code == 302  # free again

    def test_a_job_with_a_recent_heartbeat_is_left_running(
        self, admin_client_a, contract_a, admin_a
    ):
        recent = timezone.now() - timedelta(seconds=30)
        job = self.start_running_job(contract_a, admin_a, started_at=recent, heartbeat_at=recent)
        assert admin_client_a.get(job_urls(job)["progress"]).json()["status"] == "running"

    def test_a_queued_job_no_worker_took_is_given_up_later(self, contract_a, admin_a):
        job = tasks.import_job_start(
            contract=contract_a, actor=admin_a, file_name="a", content=b"x"
        )
        ImportJob.objects.filter(pk=job.pk).update(
            created_at=timezone.now() - ImportJob.QUEUED_LEASE - timedelta(seconds=1)
        )
        assert tasks.import_jobs_fail_abandoned(contract=contract_a) == 1
        assert tasks.import_job_run(job_id=job.pk) == "skipped"  # the task, late

    def test_a_job_given_up_while_it_runs_creates_nothing(self, contract_a, admin_a, monkeypatch):
        job = tasks.import_job_start(
            contract=contract_a, actor=admin_a, file_name="a", content=good_file()
        )

        def hash_then_lose_the_job(passwords, on_progress):
            ImportJob.objects.filter(pk=job.pk).update(status="failed", content=None)
            on_progress(len(passwords), len(passwords))

        monkeypatch.setattr(csv_services, "hash_passwords", hash_then_lose_the_job)
        assert tasks.import_job_run(job_id=job.pk) == ImportStatus.FAILED
        assert not User.objects.for_contract(contract_a).users().exists()

    def test_an_error_in_the_worker_marks_the_job_failed(self, contract_a, admin_a, monkeypatch):
        job = tasks.import_job_start(
            contract=contract_a, actor=admin_a, file_name="a", content=good_file()
        )
        monkeypatch.setattr(User.objects, "bulk_create", lambda users: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            tasks.import_job_run(job_id=job.pk)
        job.refresh_from_db()
        assert (job.status, job.content) == ("failed", None)
        assert not User.objects.for_contract(contract_a).users().exists()


class TestNoPasswordLeft:
    def test_not_in_the_job_the_report_or_the_logs(
        self, admin_client_a, contract_a, caplog, django_capture_on_commit_callbacks, settings
    ):
        caplog.set_level(logging.DEBUG)
        connection.force_debug_cursor = True  # SQL as DEBUG=True would log it
        try:
            for content in [good_file(), csv_bytes([*GOOD, ("bad", "Zq9house7X", "x")])]:
                User.objects.for_contract(contract_a).users().delete()
                with django_capture_on_commit_callbacks(execute=True):
                    upload(admin_client_a, content)
        finally:
            connection.force_debug_cursor = False
        jobs = list(ImportJob.objects.order_by("pk"))
        assert [job.status for job in jobs] == ["succeeded", "rejected"]

        stored = [
            json.dumps(
                {f.name: str(getattr(job, f.attname)) for f in ImportJob._meta.concrete_fields},
                ensure_ascii=False,
            )
            for job in jobs
        ]
        pages = [admin_client_a.get(job_urls(job)["job"]).text for job in jobs]
        report = b"".join(admin_client_a.get(job_urls(jobs[1])["report"]).streaming_content)
        for secret in [*PASSWORDS, "Zq9house7X"]:
            for place in [*stored, *pages, report.decode(), caplog.text]:
                assert secret not in place
        assert all(job.content is None for job in jobs)
        assert "Import job" in caplog.text  # the logs do say what happened


def test_an_error_report_of_the_upload_shows_no_password(admin_a, monkeypatch, rf):
    """What an error mail to the site's ADMINS would hold (Django's reporter, DEBUG off)."""

    def fails(**arguments):  # the file's content is among these
        raise RuntimeError("the database went away")

    monkeypatch.setattr(tasks, "import_job_start", fails)
    request = rf.post(IMPORT, {"file": SimpleUploadedFile("a.csv", good_file()), "create": "1"})
    request.user, request.LANGUAGE_CODE = admin_a, "ja"
    with pytest.raises(RuntimeError) as raised:
        csv_views.user_import(request)
    report = ExceptionReporter(
        request, raised.type, raised.value, raised.tb, is_email=True
    ).get_traceback_html()
    assert "the database went away" in report and "fails" in report
    assert all(password not in report for password in PASSWORDS)


class TestAnotherContractsJob:
    @pytest.mark.parametrize("name", ["job", "progress", "report"])
    def test_is_404(self, admin_client_a, contract_b, admin_b, name):
        job = tasks.import_job_start(
            contract=contract_b, actor=admin_b, file_name="b.csv", content=good_file()
        )
        assert admin_client_a.get(job_urls(job)[name]).status_code == 404

    def test_is_not_listed(self, admin_client_a, contract_b, admin_b):
        tasks.import_job_start(
            contract=contract_b, actor=admin_b, file_name="secret-b.csv", content=good_file()
        )
        page = admin_client_a.get(IMPORT).text
        assert "secret-b.csv" not in page and "処理状況を見る" not in page


class TestExport:
    def test_the_contracts_user_ids_as_excel_csv(
        self, admin_client_a, contract_a, make_user, users_b
    ):
        make_user(
            contract_a,
            "taro-a",
            email="taro@example.jp",
            display_name='=HYPERLINK("x")',
            title="課長",
            department="@営業",
            phone="+81-3-1234-5678",
        )
        make_user(contract_a, "hana-a", display_name="東日本 花子", phone="-1")
        response = admin_client_a.get(EXPORT)
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]
        rows = csv_rows(response)

        assert rows[0] == [
            "ログインID",
            "メールアドレス",
            "スケジューラー・掲示板用表示氏名",
            "役職",
            "部署",
            "連絡先電話番号",
            "作成日時",
        ]
        assert [row[0] for row in rows[1:]] == ["hana-a", "taro-a"]  # not jiro-b, not admin-a
        taro = rows[2]
        assert taro[1:6] == [
            "taro@example.jp",
            '\'=HYPERLINK("x")',
            "課長",
            "'@営業",
            "'+81-3-1234-5678",
        ]
        assert rows[1][5] == "'-1"
        created = timezone.localtime(User.objects.get(login_id="taro-a").created_at)
        assert taro[6] == created.strftime("%Y/%m/%d %H:%M")

    def test_no_password_hash_is_exported(self, admin_client_a, users_a):
        body = b"".join(admin_client_a.get(EXPORT).streaming_content).decode()
        assert all(user.password not in body for user in users_a)
        assert "md5$" not in body


@on_postgresql("another process needs the test database on a server; SQLite's is in memory")
def test_a_worker_process_killed_while_hashing_creates_nothing(
    contract_a, admin_a, settings, tmp_path, time_machine
):
    """A real `manage.py db_worker` (Argon2, as in production) is killed (SIGKILL)
    halfway through the passwords: no user exists, the job is marked failed once
    its heartbeat is older than the lease, and a new import can start."""
    settings.TASKS = task_backend("django_tasks_db.DatabaseBackend")
    rows = [(f"kill{i:03d}", "Hn5vRt2Wq8", f"k{i}@example.jp") for i in range(60)]
    with transaction.atomic():  # a real commit: the task row is queued on it
        job = tasks.import_job_start(
            contract=contract_a, actor=admin_a, file_name="big.csv", content=csv_bytes(rows)
        )

    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            *(sys.executable, "manage.py", "db_worker", "--queue-name", "imports"),
            *("--no-reload", "--no-startup-delay"),
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url()},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(600):  # the worker starts, checks the lines, hashes; at most 60 s
            job.refresh_from_db()
            if job.users_prepared or worker.poll() is not None:
                break
            time.sleep(0.1)
    finally:
        worker.kill()
        worker.wait(timeout=30)
    job.refresh_from_db()
    assert job.status == "running" and 0 < job.users_prepared < 60, (
        tmp_path / "worker.log"
    ).read_text()
    assert not User.objects.for_contract(contract_a).users().exists()

    time_machine.move_to(timezone.now() + ImportJob.RUNNING_LEASE + timedelta(seconds=1))
    assert tasks.import_jobs_fail_abandoned(contract=contract_a) == 1
    job.refresh_from_db()
    assert (job.status, job.content) == ("failed", None)
    assert not User.objects.for_contract(contract_a).users().exists()

    # The administrator can start again at once.
    with transaction.atomic():
        again = tasks.import_job_start(
            contract=contract_a, actor=admin_a, file_name="big.csv", content=csv_bytes(rows)
        )
    assert again.status == "queued"

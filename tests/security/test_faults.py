"""Faults injected where an administrator would notice them: the database connection
lost in the middle of a change, a full disk under an upload, an upload ten times the
limit. Each test asserts what the administrator sees and what is (not) left behind.

The database faults are raised through Django's own error wrapper with the driver's
own exception class (sqlite3 or psycopg), so that the code under test receives
exactly what a real fault gives it. On PostgreSQL one test really kills the server
process of the request's connection; on SQLite one really fills the database.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from accounts.models import ImportJob, Role, User
from audit.models import AuditEntry
from core import uploads
from csvimport import format as csv_format
from notifications.models import Notification
from tests.accounts.test_views import entry
from tests.conftest import PASSWORD
from tests.csvimport.csvfiles import good_file
from tests.parallel import on_postgresql

CREATE = reverse("accounts:user-create")
IMPORT = reverse("csvimport:user-import")
MiB = 1024 * 1024

DROPPED = (
    "server closed the connection unexpectedly\n\tThis probably means the server "
    "terminated abnormally\n\tbefore or while processing the request."
)


def raise_driver_error(error: Exception):
    """Raise the driver's exception as the database backend would: through Django's
    error wrapper, which turns it into django.db.OperationalError (its __cause__ the
    driver's) and marks the connection as having had an error."""
    with connection.wrap_database_errors:
        raise error


def field_errors(page: str, field: str) -> str:
    return page.split(f'id="id_{field}_error"')[1].split("</ul>")[0]


# --- 1. The database connection lost in the middle of a change ------------------------


class ConnectionLost:
    """An execute_wrapper: queries run until one matching `after` has run; from then
    on the connection is gone and every query fails as on a dropped connection."""

    def __init__(self, after: str):
        self.after = re.compile(after)
        self.lost = False

    def __call__(self, execute, sql, params, many, context):
        if self.lost:
            raise_driver_error(connection.Database.OperationalError(DROPPED))
        result = execute(sql, params, many, context)
        if self.after.search(sql):
            self.lost = True
        return result


def assert_clean_error_page(response):
    """The project's 500 page: in Japanese, and nothing of the fault or of the entry."""
    assert response.status_code == 500
    page = response.text
    assert '<html lang="ja">' in page
    assert "ただいま処理を完了できませんでした" in page
    assert "変更は保存されていません" in page
    for leak in (
        "Traceback",
        "OperationalError",
        "server closed",
        "INSERT",
        "SELECT",
        "accounts_user",
        PASSWORD,
        "sato@example.jp",
    ):
        assert leak not in page


def assert_nothing_written():
    assert not User.objects.filter(login_id="sato01").exists()
    assert not AuditEntry.objects.filter(target="sato01").exists()
    assert not Notification.objects.filter(login_id="sato01").exists()


@pytest.mark.django_db(transaction=True)  # the service's own transaction, as in production
@pytest.mark.parametrize(
    "after",
    [r'^INSERT INTO "accounts_user"', r'^INSERT INTO "audit_auditentry"'],
    ids=["after-the-user-row", "after-the-audit-entry"],
)
def test_connection_lost_mid_create_gives_the_error_page_and_writes_nothing(
    admin_client_a, mailoutbox, after
):
    admin_client_a.raise_request_exception = False
    lost = ConnectionLost(after)
    with connection.execute_wrapper(lost):
        response = admin_client_a.post(CREATE, entry(create="1"))
    assert lost.lost  # the fault did happen where intended
    assert_clean_error_page(response)
    assert_nothing_written()
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_connection_lost_at_commit_gives_the_error_page_and_writes_nothing(
    admin_client_a, mailoutbox, monkeypatch
):
    admin_client_a.raise_request_exception = False
    wrapper = connections["default"]  # the DatabaseWrapper itself, not the proxy
    commits = []

    def commit_on_a_lost_connection():
        commits.append(1)
        raise_driver_error(wrapper.Database.OperationalError(DROPPED))

    monkeypatch.setattr(wrapper, "_commit", commit_on_a_lost_connection)
    response = admin_client_a.post(CREATE, entry(create="1"))
    monkeypatch.undo()

    assert commits
    assert_clean_error_page(response)
    assert_nothing_written()
    assert mailoutbox == []


@on_postgresql("kills a PostgreSQL backend")
def test_server_process_killed_mid_create_gives_the_error_page_and_writes_nothing(
    admin_client_a, mailoutbox
):
    """Not simulated: when the service writes its audit entry, the server process of the
    request's connection is terminated from a second connection (pg_terminate_backend)."""
    admin_client_a.raise_request_exception = False
    killed = []

    def kill_before_the_audit_entry(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "audit_auditentry"') and not killed:
            pid = connection.connection.info.backend_pid
            other = connection.get_new_connection(connection.get_connection_params())
            try:
                other.autocommit = True
                killed.append(
                    other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]
                )
            finally:
                other.close()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(kill_before_the_audit_entry):
        response = admin_client_a.post(CREATE, entry(create="1"))
    assert killed == [True]
    assert_clean_error_page(response)
    assert_nothing_written()
    assert mailoutbox == []


# --- 2. A full disk under the CSV upload -------------------------------------------------
# The upload is stored in the ImportJob row (content, a BinaryField): the write that
# stores it is the INSERT of that row.

STORAGE_FULL = "サーバーの空き容量が不足しているため、ファイルを受け付けられませんでした"


def disk_full_error():
    """What the driver raises when the database's disk is full."""
    if connection.vendor == "postgresql":
        import psycopg

        return psycopg.errors.DiskFull(
            'could not extend file "base/16384/24601": No space left on device'
        )
    return connection.Database.OperationalError("database or disk is full")


def fail_the_upload_insert(error):
    def wrapper(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "accounts_importjob"'):
            raise_driver_error(error)
        return execute(sql, params, many, context)

    return wrapper


def upload_good_file(client, **extra):
    data = {"file": SimpleUploadedFile("staff.csv", good_file(), "text/csv"), "create": "1"}
    return client.post(IMPORT, data, **extra)


def test_full_disk_under_the_upload_gives_a_clear_message_and_leaves_nothing(
    admin_client_a, caplog
):
    with connection.execute_wrapper(fail_the_upload_insert(disk_full_error())):
        response = upload_good_file(admin_client_a, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(IMPORT, 302)]
    page = response.text
    assert STORAGE_FULL in page
    assert "（利用者IDは作成されていません）" in page
    assert not ImportJob.objects.exists()
    assert not User.objects.filter(role=Role.USER).exists()
    assert "the database has no space left" in caplog.text  # the operator is told


@pytest.mark.skipif(connection.vendor != "sqlite", reason="fills an SQLite database")
@pytest.mark.django_db(transaction=True)
def test_really_full_sqlite_database_gives_the_same_message(admin_client_a):
    """Not simulated: the database may grow by no more pages (max_page_count), so
    SQLite itself answers SQLITE_FULL when the upload's row needs room."""
    upload_good_file(admin_client_a)  # warm up: the session and the page's queries
    ImportJob.objects.all().delete()
    with connection.cursor() as cursor:
        # Free pages left by earlier tests (a flushed live-server test) would take the
        # upload's row without growing the database: none may be left.
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA page_count")
        (pages,) = cursor.fetchone()
        cursor.execute(f"PRAGMA max_page_count = {pages}")
    try:
        big = b"".join(
            b"user%06d,%s,u%06d@example.jp\n" % (i, PASSWORD.encode(), i) for i in range(999)
        )
        data = {"file": SimpleUploadedFile("staff.csv", big, "text/csv"), "create": "1"}
        response = admin_client_a.post(IMPORT, data, follow=True)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA max_page_count = 1073741823")
    assert response.status_code == 200
    assert STORAGE_FULL in response.text
    assert not ImportJob.objects.exists()


def test_another_database_error_under_the_upload_stays_an_error(admin_client_a):
    """Only a full disk is answered on the screen: another error is a server error."""
    admin_client_a.raise_request_exception = False
    locked = connection.Database.OperationalError("database is locked")
    with connection.execute_wrapper(fail_the_upload_insert(locked)):
        response = upload_good_file(admin_client_a)
    assert response.status_code == 500
    assert STORAGE_FULL not in response.text
    assert not ImportJob.objects.exists()


# --- 3. A 10 MiB upload refused before it is read whole ---------------------------------

BOUNDARY = "----azukeruFaultBoundary7MA4YWxkTrZu0gW"


def part(name: str, value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


class CountingBody:
    """A wsgi.input: the multipart body of the import form with a file of `file_size`
    bytes, made as it is read (never held whole), counting the bytes read."""

    def __init__(self, file_size: int, *, token: str = "", token_after_file: bool = False):
        token_part = part("csrfmiddlewaretoken", token) if token else b""
        self.head = (
            (b"" if token_after_file else token_part)
            + part("encoding", "auto")
            + (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="staff.csv"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
        )
        self.tail = (
            b"\r\n"
            + (token_part if token_after_file else b"")
            + part("create", "1")
            + f"--{BOUNDARY}--\r\n".encode()
        )
        self.file_size = file_size
        self.size = len(self.head) + file_size + len(self.tail)
        self.bytes_read = 0

    def read(self, size=-1):
        start = self.bytes_read
        end = self.size if size is None or size < 0 else min(self.size, start + size)
        head_end = len(self.head)
        file_end = head_end + self.file_size
        chunk = b""
        if start < head_end:
            chunk += self.head[start : min(end, head_end)]
        if end > head_end and start < file_end:
            chunk += b"a" * (min(end, file_end) - max(start, head_end))
        if end > file_end:
            chunk += self.tail[max(start, file_end) - file_end : end - file_end]
        self.bytes_read = end
        return chunk

    def readline(self, size=-1):
        """What Django uses to read and discard the rest of a refused body."""
        start = self.bytes_read
        chunk = self.read(size)
        end_of_line = chunk.find(b"\n")
        if end_of_line != -1:
            chunk = chunk[: end_of_line + 1]
            self.bytes_read = start + len(chunk)
        return chunk

    def post(self, client, url=IMPORT, **headers):
        environ = {
            "wsgi.input": self,
            "CONTENT_LENGTH": str(self.size),
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        }
        return client.generic("POST", url, headers=headers, **environ)


@pytest.fixture
def browser(admin_a):
    """A browser signed in as contract A's administrator, whose posts need the CSRF
    token (unlike the default test client), with its token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_a)
    assert client.get(IMPORT).status_code == 200
    client.token = client.cookies["csrftoken"].value
    return client


def assert_too_large_next_to_the_file(response):
    assert response.status_code == 200
    message = csv_format.TOO_LARGE % {"size": f"{csv_format.MAX_BYTES:,}"}
    assert message in field_errors(response.text, "file")
    assert not ImportJob.objects.exists()
    assert not User.objects.filter(role=Role.USER).exists()


@pytest.mark.parametrize("token_in", ["form", "header"])
def test_ten_mib_upload_is_refused_from_its_length_before_its_file_is_read(browser, token_in):
    body = CountingBody(10 * MiB, token=browser.token if token_in == "form" else "")
    headers = {"X-CSRFToken": browser.token} if token_in == "header" else {}
    response = body.post(browser, **headers)
    assert_too_large_next_to_the_file(response)
    assert body.bytes_read < csv_format.MAX_BYTES  # not even the limit's worth was read


def test_ten_mib_upload_is_stopped_at_the_limit_when_its_length_is_not_trusted(
    browser, monkeypatch
):
    """The second guard, alone: with the length check out of the way (as if the body
    declared a length that fits), the upload handler stops reading at the limit."""
    monkeypatch.setattr(uploads, "ENVELOPE", 100 * MiB)
    body = CountingBody(10 * MiB, token=browser.token)
    response = body.post(browser)
    assert_too_large_next_to_the_file(response)
    assert csv_format.MAX_BYTES < body.bytes_read < 2 * MiB


def test_a_file_just_over_the_limit_is_refused_and_the_rest_of_its_body_discarded(browser):
    """Within what the proxy lets through (about 2 MiB, README), the rest of a refused
    body is read and thrown away, not left on the socket: the connection ends cleanly
    and the proxy hands the browser the page rather than a 502."""
    body = CountingBody(csv_format.MAX_BYTES + 512 * 1024, token=browser.token)
    response = body.post(browser)
    assert_too_large_next_to_the_file(response)
    assert body.bytes_read == body.size


@pytest.mark.parametrize("where", ["no-token", "token-after-the-file"])
def test_ten_mib_upload_without_a_token_before_its_file_is_refused_as_forged(browser, where):
    body = CountingBody(
        10 * MiB,
        token=browser.token if where == "token-after-the-file" else "",
        token_after_file=True,
    )
    response = body.post(browser)
    assert response.status_code == 403
    assert body.bytes_read < 2 * MiB
    assert not ImportJob.objects.exists()


def test_file_within_the_limit_still_goes_through_with_its_token(browser):
    data = {
        "csrfmiddlewaretoken": browser.token,
        "file": SimpleUploadedFile("staff.csv", good_file(), "text/csv"),
        "create": "1",
    }
    response = browser.post(IMPORT, data)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("csvimport:user-import-job", args=[job.pk])
    assert bytes(job.content) == good_file()


@pytest.mark.parametrize(
    "url",
    ["accounts:user-create", "accounts:settings-email", "accounts:login", "api:token"],
)
def test_a_form_that_takes_no_file_reads_none_of_one(browser, url):
    """Every form, not only the import: a 10 MiB file sent to a form without one is
    stopped before its first byte is read, and the form answers as it would."""
    body = CountingBody(10 * MiB, token=browser.token)
    response = body.post(browser, reverse(url))
    assert response.status_code < 500
    assert body.bytes_read <= 64 * 1024  # the parser's first chunk, at most
    assert not ImportJob.objects.exists()

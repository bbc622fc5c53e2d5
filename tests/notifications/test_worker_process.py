"""A real `manage.py db_worker` process killed (SIGKILL) in the middle of an SMTP
conversation loses no mail: the next worker run delivers it."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.db import connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from notifications import schedule
from notifications.models import Notification, Status
from notifications.services import notify
from tests.parallel import on_postgresql

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """DATABASE_URL with the test database in place of the configured one."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path=f"/{connection.settings_dict['NAME']}"))


@on_postgresql("another process needs the test database on a server; SQLite's is in memory")
def test_a_worker_process_killed_mid_delivery_loses_no_mail(
    users_a, smtp_server, next_worker_run, time_machine, tmp_path
):
    taro = users_a[0]
    smtp_server.mailbox.hold_next_delivery()
    with transaction.atomic():  # a real commit: the task row is queued on it
        notification = notify("user_created", user=taro)

    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        in_data = False
        for _ in range(600):  # the worker starts, takes the task, sends; at most 60 s
            if in_data := smtp_server.mailbox.holding.wait(timeout=0.1):
                break
            if worker.poll() is not None:
                break
    finally:
        worker.kill()  # SIGKILL: nothing in the worker runs after this
        worker.wait(timeout=30)
        smtp_server.mailbox.release.set()
    assert in_data, (tmp_path / "worker.log").read_text()

    assert Notification.objects.get(pk=notification.pk).status == Status.SENDING
    assert DBTaskResult.objects.running().count() == 1
    assert smtp_server.received == []

    time_machine.move_to(timezone.now() + schedule.ATTEMPT_LEASE + timedelta(seconds=1))
    next_worker_run()

    [mail] = smtp_server.received
    assert mail["To"] == taro.email
    assert Notification.objects.get(pk=notification.pk).status == Status.SENT
    assert DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).count() == 1

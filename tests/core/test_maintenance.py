"""The background work needs no second look: `manage.py sweep` fails the import jobs
of a dead worker (whether or not anyone opens the screen) and deletes expired
sessions; a mail never waits behind a CSV import, which has a queue of its own."""

import io
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accounts.models import ImportJob, ImportStatus
from core import maintenance
from csvimport import tasks as import_tasks
from notifications.models import Notification, Status
from notifications.services import notify
from notifications.tasks import MAIL_QUEUE
from tests.conftest import task_backend
from tests.csvimport.csvfiles import good_file


def sweep() -> str:
    out = io.StringIO()
    call_command("sweep", stdout=out)
    return out.getvalue()


def running_job(contract, actor) -> ImportJob:
    """A job a worker runs, its heartbeat fresh."""
    return ImportJob.objects.create(
        contract=contract,
        actor=actor,
        status=ImportStatus.RUNNING,
        file_name="staff.csv",
        content=good_file(),
        heartbeat_at=timezone.now(),
    )


def test_every_apps_step_is_registered():
    assert set(maintenance.STEPS) == {"mail", "imports", "sessions", "events"}


def test_a_dead_workers_import_is_failed_by_the_sweep_within_its_lease(
    contract_a, admin_a, contract_b, admin_b, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    jobs = [running_job(contract_a, admin_a), running_job(contract_b, admin_b)]
    assert "imports: 0" in sweep()  # a live heartbeat: left alone
    time_machine.shift(ImportJob.RUNNING_LEASE + timedelta(seconds=1))
    assert "imports: 2" in sweep()
    for job in jobs:
        job.refresh_from_db()
        assert job.status == ImportStatus.FAILED and job.content is None


def test_the_task_row_a_dead_import_worker_left_running_is_closed_with_its_job(
    settings, contract_a, admin_a, contract_b, admin_b, time_machine
):
    settings.TASKS = task_backend("django_tasks_db.DatabaseBackend")
    time_machine.move_to(timezone.now(), tick=False)
    jobs = {}
    for contract, actor in ((contract_a, admin_a), (contract_b, admin_b)):
        jobs[contract.pk] = running_job(contract, actor)
        import_tasks.enqueue_import_job(jobs[contract.pk].pk)
    # Both taken by workers; then contract A's worker is killed (its heartbeat stops).
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING, started_at=timezone.now())
    time_machine.shift(ImportJob.RUNNING_LEASE + timedelta(seconds=1))
    ImportJob.objects.filter(pk=jobs[contract_b.pk].pk).update(heartbeat_at=timezone.now())

    assert "imports: 1" in sweep()
    lost = DBTaskResult.objects.get(args_kwargs__kwargs__job_id=jobs[contract_a.pk].pk)
    assert lost.status == TaskResultStatus.FAILED
    assert lost.exception_class_path == "csvimport.tasks.ImportJobLost"
    alive = DBTaskResult.objects.get(args_kwargs__kwargs__job_id=jobs[contract_b.pk].pk)
    assert alive.status == TaskResultStatus.RUNNING


def test_expired_sessions_are_deleted(client, admin_a, time_machine):
    client.force_login(admin_a)
    assert "sessions: 0" in sweep()
    time_machine.move_to(timezone.now() + timedelta(days=30))
    assert "sessions: 1" in sweep()
    assert not Session.objects.exists()


def test_a_failing_step_does_not_stop_the_others(monkeypatch, db):
    def broken():
        raise RuntimeError("database away")

    monkeypatch.setitem(maintenance.STEPS, "imports", broken)
    done = maintenance.sweep()
    assert done["imports"] is None and done["mail"] == 0 and done["sessions"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_mail_never_waits_behind_an_import(
    settings, contract_a, admin_a, users_a, django_capture_on_commit_callbacks
):
    settings.TASKS = task_backend("django_tasks_db.DatabaseBackend")
    with django_capture_on_commit_callbacks(execute=True):
        import_tasks.import_job_start(
            contract=contract_a, actor=admin_a, file_name="a.csv", content=good_file()
        )
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        mail = notify("user_created", user=users_a[0])
    # The mail's worker takes its queue only: the import waits for its own worker.
    call_command("db_worker", queue_name=MAIL_QUEUE, batch=True, startup_delay=False, reload=False)
    assert Notification.objects.get(pk=mail.pk).status == Status.SENT
    assert ImportJob.objects.get().status == ImportStatus.QUEUED
    waiting = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert waiting.queue_name == import_tasks.IMPORT_QUEUE

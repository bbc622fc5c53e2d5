"""The task rows a dead worker leaves behind.

The database task backend (django-tasks-db) marks a task's row RUNNING when a worker
takes it and closes it when the task returns or raises. A worker killed in between
(SIGKILL, the machine lost) closes nothing: the row says RUNNING for ever. The work
itself is taken back by its own app's sweep step (the outbox sends the mail again,
the import job is failed); this closes the rows, so that the task list in Django
admin tells the truth.
"""

from django.apps import apps
from django.utils import timezone


def close_lost(task, lost: type[Exception], **lookups) -> int:
    """Close as failed, with `lost` as the error, the RUNNING rows of `task` (a
    django-tasks task) that match `lookups`. Returns how many."""
    if not apps.is_installed("django_tasks_db"):
        return 0
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return (
        DBTaskResult.objects.running()
        .filter(task_path=task.module_path, **lookups)
        .update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path=f"{lost.__module__}.{lost.__qualname__}",
            traceback=lost.__doc__,
        )
    )

"""The CSV import task (Django Tasks API), run by the same worker as the mail
(`manage.py db_worker`). It carries only the job's id: the file, with its
passwords, stays in the job's row and never sits in the task queue."""

from django_tasks import task

# Below the mails (priority 0): a worker picks up the mails waiting before it
# starts an import, which keeps it busy for up to a couple of minutes.
IMPORT_PRIORITY = -10


@task(priority=IMPORT_PRIORITY)
def run_import_job(job_id: int) -> str:
    from accounts.importing import import_job_run  # importing queues this task

    return import_job_run(job_id=job_id)


def enqueue_import_job(job_id: int) -> None:
    run_import_job.enqueue(job_id=job_id)

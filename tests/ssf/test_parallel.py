"""On PostgreSQL, for real: two workers at once on one event send it once, and a
real `manage.py db_worker` on the queue bin/serve and the README run pushes a 停止
to the receiver within seconds of the administrator's commit."""

import os
import subprocess
import sys
import time

from core.outbox import Status
from devicekeys import services as keys
from devicekeys.models import DeviceKey
from ssf import delivery
from ssf.models import SecurityEvent
from ssf.tasks import EVENTS_QUEUE
from tests.conftest import task_backend
from tests.notifications.test_worker_process import ROOT, database_url
from tests.parallel import at_the_same_moment, on_postgresql
from tests.ssf.conftest import JWKS, STREAMS, send_json, stream_body


@on_postgresql("needs real row locks and parallel connections; SQLite serialises all writers")
def test_two_workers_at_the_same_moment_push_an_event_once(
    settings, storage, receiver, app_token, admin_a
):
    settings.TASKS = task_backend("django_tasks_db.DatabaseBackend")  # no push on commit
    send_json(storage, "POST", STREAMS, stream_body(receiver.url))
    keys.device_key_stop(contract=admin_a.contract, key=DeviceKey.objects.get(), actor=admin_a)
    event = SecurityEvent.objects.get()
    outcomes = at_the_same_moment(*[lambda: delivery.deliver(event.pk)] * 4)
    assert sorted(outcomes) == ["sent", "skipped", "skipped", "skipped"]
    assert len(receiver.received) == 1
    assert SecurityEvent.objects.get().status == Status.SENT


@on_postgresql("another process needs the test database on a server; SQLite's is in memory")
def test_a_worker_process_pushes_a_stop_within_seconds(
    settings, client, storage, receiver, app_token, admin_a, signing_keys, tmp_path
):
    settings.TASKS = task_backend("django_tasks_db.DatabaseBackend")
    send_json(storage, "POST", STREAMS, stream_body(receiver.url))
    client.get(JWKS)  # the key file, made before the worker reads it
    log_path = tmp_path / "worker.log"
    log = log_path.open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.1",
            "--queue-name",
            EVENTS_QUEUE,
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "SSF_SIGNING_KEYS_FILE": str(signing_keys),
            "SSF_ALLOW_INSECURE_RECEIVERS": "true",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # Up and polling once it says so: starting Django took 7 to 11 s on a machine
        # at load 12, beyond any fixed pause, and the wait is not the push's.
        started = time.monotonic()
        while "Starting worker" not in log_path.read_text() and worker.poll() is None:
            assert time.monotonic() - started < 120, log_path.read_text()
            time.sleep(0.05)
        committed = time.monotonic()
        keys.device_key_stop(contract=admin_a.contract, key=DeviceKey.objects.get(), actor=admin_a)
        while not receiver.received and time.monotonic() - committed < 30:
            time.sleep(0.01)
        elapsed = time.monotonic() - committed
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert receiver.received, log_path.read_text()
    assert elapsed < 5, elapsed
    (claims,) = receiver.claims(client.get(JWKS).json())
    assert claims["aud"] == storage.api_client.client_id

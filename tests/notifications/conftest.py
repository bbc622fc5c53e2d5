"""Fixtures of the notification tests: a real SMTP server on a loopback port, the
database task queue with its real worker (db_worker's loop, run in this process
until the queue is empty), and the sweep, so that a test drives delivery step by
step under a clock it moves with time-machine."""

import asyncio
import email
import logging
import socket
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from email import policy

import environ
import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django_tasks_db.management.commands import db_worker

from notifications import services
from tests.conftest import task_backend, worker_pass

# 2026-04-01 10:30 in Japan.
START = datetime(2026, 4, 1, 1, 30, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """The aiosmtpd handler: keeps what it accepts; `replies` set refusals."""

    def __init__(self):
        self.received: list[email.message.EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.replies: dict[str, str] = {}  # "RCPT:<address>" or "DATA" -> SMTP reply
        self._hold = False
        self.holding = threading.Event()
        self.release = threading.Event()

    def hold_next_delivery(self):
        """Keep the next sender waiting in the middle of DATA (set `holding`) until
        `release` is set, then refuse that one delivery."""
        self._hold = True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if reply := self.replies.get(f"RCPT:{address}"):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if reply := self.replies.get("DATA"):
            return reply
        if self._hold:
            self._hold = False
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "421 4.3.0 Closing"
        self.envelopes.append(list(envelope.rcpt_tos))
        self.received.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int):
        self.port = port
        self.mailbox = Mailbox()
        self._controller = None

    @property
    def received(self):
        return self.mailbox.received

    def start(self):
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self):
        if self._controller:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server that the console's mail settings point at, through
    EMAIL_URL's own parser. `stop()` and `start()` take it down and up again."""
    server = SmtpServer(free_port())
    settings.EMAIL_TIMEOUT = 5
    for name, value in environ.Env.email_url_config(f"smtp://127.0.0.1:{server.port}").items():
        setattr(settings, name, value)
    # aiosmtpd logs each SMTP command at INFO: the server's chatter, not the console's.
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.WARNING)
    server.start()
    yield server
    server.stop()
    server_log.setLevel(level)


@pytest.fixture
def db_queue(settings, monkeypatch):
    """The database task queue of production (django-tasks-db) instead of the tests'
    ImmediateBackend. Returns `run_worker()`: db_worker's own loop, in batch mode,
    until no task is ready."""
    settings.TASKS = task_backend("django_tasks_db.DatabaseBackend")
    # The worker shares the test's connection (and its transaction): keep it open.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run_worker():
        worker_pass("test-worker")

    return run_worker


@pytest.fixture
def next_worker_run(db_queue):
    """What a deployment does every minute and all the time: the sweep, then the worker."""

    def run():
        services.outbox_sweep()
        db_queue()

    return run


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """`with commit(): ...` runs the block as one committed change: its own
    transaction, then the commit callbacks (which queue the delivery)."""

    @contextmanager
    def change():
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            yield

    return change


@pytest.fixture
def clock(time_machine):
    """Time stands still at START until the test moves it."""
    time_machine.move_to(START, tick=False)
    return time_machine

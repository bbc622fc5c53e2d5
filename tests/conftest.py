"""Shared fixtures: named personas of two contracts, so that every
cross-contract test is one line.

Contract A: administrator `admin-a`, user IDs `taro-a` and `hana-a`.
Contract B: administrator `admin-b`, user ID `jiro-b`.
"""

import itertools

import hypothesis
import pytest
from django.conf import settings
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.management.commands import db_worker

from accounts import services
from accounts.models import Role, User
from core import actors
from csvimport.tasks import IMPORT_QUEUE
from notifications.tasks import MAIL_QUEUE

PASSWORD = "Vq7xLp3Rz9"  # obeys every password rule of the console
# The actor of what a test sets up through the services (every service requires one).
SETUP = actors.System("test setup")

# Hypothesis draws the same examples on every run, seeded by each test's own code, and
# keeps no examples between runs: a run passes or fails alike on every machine and
# every time (tests/test_conftest.py). `pytest --hypothesis-profile=explore` draws new
# ones, and a failure there prints how to replay it.
hypothesis.settings.register_profile("deterministic", derandomize=True, database=None)
hypothesis.settings.register_profile("explore", print_blob=True)
hypothesis.settings.load_profile("deterministic")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is the production hasher (see test_settings); tests hash with MD5
    so that a persona costs microseconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the console's default language: a request in English leaves
    English active in the thread (LocaleMiddleware does not switch back)."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


_sequence = itertools.count(1)


def sequential_login_id(prefix: str, number: int) -> str:
    """The login ID a factory gives a persona made without one: counted, never drawn
    at random, so that no run can meet one that breaks a rule by chance (a common word,
    a run of characters, a part of PASSWORD). tests/test_conftest.py holds it to the
    rules."""
    return f"{prefix}-{number}"


@pytest.fixture
def make_contract(db):
    """Create a contract with its administrator through the service; return the administrator."""

    def make(login_id=None, **fields):
        login_id = login_id or sequential_login_id("admin", next(_sequence))
        fields.setdefault("email", f"{login_id}@example.jp")
        fields.setdefault("password", PASSWORD)
        return services.contract_create(login_id=login_id, actor=SETUP, **fields)

    return make


@pytest.fixture
def make_user(db):
    """A user ID of a contract (利用者)."""

    def make(contract, login_id=None, **fields):
        login_id = login_id or sequential_login_id("user", next(_sequence))
        fields.setdefault("email", f"{login_id}@example.jp")
        user = User(login_id=login_id, contract=contract, role=Role.USER, **fields)
        user.nickname = user.nickname or user.email
        user.set_password(PASSWORD)
        user.save()
        return user

    return make


@pytest.fixture
def fill_contract():
    """Bring a contract to `count` user IDs in one query (no password: none is needed)."""

    def fill(contract, count):
        User.objects.bulk_create(
            User(
                login_id=f"bulk-{contract.pk}-{i:04d}",
                email=f"b{i}@example.jp",
                contract=contract,
                role=Role.USER,
            )
            for i in range(count)
        )
        return contract

    return fill


@pytest.fixture
def admin_a(make_contract):
    return make_contract("admin-a")


@pytest.fixture
def contract_a(admin_a):
    return admin_a.contract


@pytest.fixture
def users_a(contract_a, make_user):
    return [make_user(contract_a, "taro-a"), make_user(contract_a, "hana-a")]


@pytest.fixture
def admin_b(make_contract):
    return make_contract("admin-b")


@pytest.fixture
def contract_b(admin_b):
    return admin_b.contract


@pytest.fixture
def users_b(contract_b, make_user):
    return [make_user(contract_b, "jiro-b")]


@pytest.fixture
def support_staff(db):
    """Support staff, with the authenticator app they must have (twostep)."""
    staff = User.objects.create_superuser("support-1", "support@example.jp", PASSWORD)
    TOTPDevice.objects.create(user=staff, name="authenticator", confirmed=True)
    return staff


def login_verified(client, user):
    """Sign `client` in as `user` past the second step (twostep), as if with the
    account's authenticator app: what force_login is for an account without one."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def admin_client_a(client, admin_a):
    """A browser signed in as contract A's administrator."""
    client.force_login(admin_a)
    return client


def task_backend(backend: str) -> dict:
    """TASKS with another backend, and the console's queues (azukeru/settings.py)."""
    return {"default": {"BACKEND": backend, "QUEUES": [MAIL_QUEUE, IMPORT_QUEUE]}}


def worker_pass(worker_id: str) -> None:
    """One pass of django-tasks-db's own db_worker loop over every queue, in batch mode:
    it runs the tasks that are ready, then returns."""
    db_worker.Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    ).run()


@pytest.fixture(autouse=True)
def _deliver_mail_on_commit(settings):
    """Notification mail (notifications.services.notify) is delivered as soon as the
    commit callbacks run, with no worker: the delivery task runs on django-tasks'
    ImmediateBackend. So after `django_capture_on_commit_callbacks(execute=True)`
    the mail is in `mailoutbox`. tests/notifications switches back to the database
    queue where it tests the worker itself."""
    settings.TASKS = task_backend("django_tasks.backends.immediate.ImmediateBackend")

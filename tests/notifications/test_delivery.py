"""Delivery through a real SMTP server, the database queue and its worker: every
kind in both languages, retries, refusals, and workers that die mid-delivery."""

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone, translation
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from notifications import delivery, schedule, services
from notifications.models import Notification, Status
from notifications.services import notify
from notifications.tasks import enqueue_delivery
from tests.conftest import PASSWORD

SERVICE = "フレッツ・あずけ～る PRO"
SERVICE_EN = "FLET'S Azukeru PRO"  # the service name on English pages and mails
DEVICE_KEY = {"key": "KkeJ8cZG", "device_name": "Chrome-16"}
CONTEXT = {
    "user_created": {},
    "user_changed": {"changed_fields": ["email", "phone"], "password_changed": True},
    "user_deleted": {},
    "device_key_issued": DEVICE_KEY,
    "device_key_reissued": DEVICE_KEY,
}
# (subject, what happened) by kind and language.
EXPECTED = {
    ("user_created", "ja"): (f"【{SERVICE}】利用者IDが作成されました", "利用者IDを作成しました"),
    ("user_changed", "ja"): (
        f"【{SERVICE}】利用者IDの登録内容が変更されました",
        "利用者IDの登録内容を変更しました",
    ),
    ("user_deleted", "ja"): (f"【{SERVICE}】利用者IDが削除されました", "利用者IDを削除しました"),
    ("device_key_issued", "ja"): (
        f"【{SERVICE}】端末認証キーが発行されました",
        "端末認証キーを発行しました",
    ),
    ("device_key_reissued", "ja"): (
        f"【{SERVICE}】端末認証キーが再発行されました",
        "端末認証キーを再発行しました",
    ),
    ("user_created", "en"): (
        f"[{SERVICE_EN}] Your user ID has been created",
        "has created a user ID for you",
    ),
    ("user_changed", "en"): (
        f"[{SERVICE_EN}] Your user ID has been changed",
        "has changed the details of your user ID",
    ),
    ("user_deleted", "en"): (
        f"[{SERVICE_EN}] Your user ID has been deleted",
        "has deleted your user ID",
    ),
    ("device_key_issued", "en"): (
        f"[{SERVICE_EN}] A device authentication key has been issued",
        "has issued a device authentication key",
    ),
    ("device_key_reissued", "en"): (
        f"[{SERVICE_EN}] Your device authentication key has been reissued",
        "has reissued the device authentication key",
    ),
}
# What every mail says, by language: who acted, when (Japan time), what to do if
# unexpected, and whom to call.
EVERY_MAIL = {
    "ja": ["ログインID: admin-a", "2026年4月1日 10:30（日本時間）", "心当たりがない場合"],
    "en": ["login ID: admin-a", "1 April 2026, 10:30 (Japan time)", "If you did not expect"],
}


@pytest.fixture
def taro(users_a):
    return users_a[0]


def record(commit, user, kind="user_created", **context):
    """One committed change that notifies `user`."""
    with commit():
        return notify(kind, user=user, **context)


def outbox_row(notification):
    return Notification.objects.get(pk=notification.pk)


@pytest.mark.parametrize(("kind", "language"), sorted(EXPECTED))
def test_each_kind_arrives_over_smtp_in_the_users_language(
    kind, language, contract_a, make_user, commit, smtp_server, db_queue, clock
):
    user = make_user(contract_a, f"staff-{language}", language=language)
    record(commit, user, kind, **CONTEXT[kind])

    db_queue()

    [mail] = smtp_server.received
    subject, what_happened = EXPECTED[(kind, language)]
    body = mail.get_content()
    assert smtp_server.mailbox.envelopes == [[user.email]]
    assert mail["To"] == user.email
    assert mail["From"] == settings.DEFAULT_FROM_EMAIL
    # Django folds an encoded subject onto a continuation line; readers unfold it.
    assert mail["Subject"].strip() == subject
    assert what_happened in body
    assert user.login_id in body
    assert (SERVICE if language == "ja" else SERVICE_EN) in body
    assert settings.SUPPORT_PHONE in body
    for phrase in EVERY_MAIL[language]:
        assert phrase in body
    if kind.startswith("device_key"):
        assert "KkeJ8cZG" in body
        assert "Chrome-16" in body
    if kind == "user_changed":
        with translation.override(language):
            for name in ["email", "phone"]:
                assert str(User._meta.get_field(name).verbose_name) in body
    assert PASSWORD not in body


def test_mail_header_leads_support_to_its_outbox_row(taro, commit, smtp_server, db_queue):
    notification = record(commit, taro)
    db_queue()

    [mail] = smtp_server.received
    assert mail["X-Azukeru-Notification"] == str(notification.pk)
    assert notification.key.hex in mail["Message-ID"]
    assert outbox_row(notification).status == Status.SENT


def test_with_the_server_down_the_change_commits_and_the_mail_arrives_once_it_is_back(
    taro, commit, smtp_server, next_worker_run, clock
):
    smtp_server.stop()
    with commit():
        taro.email = "taro.new@example.jp"
        taro.save()
        notification = notify("user_changed", user=taro, changed_fields=["email"])

    next_worker_run()  # first attempt: connection refused
    row = outbox_row(notification)
    assert User.objects.get(pk=taro.pk).email == "taro.new@example.jp"
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert row.next_attempt_at == timezone.now() + timedelta(minutes=1)
    assert "ConnectionRefusedError" in row.last_error

    clock.shift(timedelta(seconds=30))
    next_worker_run()  # not yet due: nothing tried
    assert outbox_row(notification).attempts == 1

    clock.shift(timedelta(seconds=30))
    next_worker_run()  # second attempt, still down; the next one 5 minutes later
    row = outbox_row(notification)
    assert (row.status, row.attempts) == (Status.PENDING, 2)
    assert row.next_attempt_at == timezone.now() + timedelta(minutes=5)

    smtp_server.start()
    clock.shift(timedelta(minutes=5))
    next_worker_run()

    [mail] = smtp_server.received
    assert mail["To"] == "taro.new@example.jp"
    row = outbox_row(notification)
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 3, "")


def test_a_temporary_refusal_is_tried_again(taro, commit, smtp_server, next_worker_run, clock):
    smtp_server.mailbox.replies["DATA"] = "451 4.3.0 Try again later"
    notification = record(commit, taro)

    next_worker_run()
    row = outbox_row(notification)
    assert row.status == Status.PENDING
    assert "451" in row.last_error

    del smtp_server.mailbox.replies["DATA"]
    clock.shift(timedelta(minutes=1))
    next_worker_run()
    assert len(smtp_server.received) == 1
    assert outbox_row(notification).status == Status.SENT


def test_a_failed_mail_is_tried_again_by_the_worker_alone_when_its_time_comes(
    taro, commit, smtp_server, db_queue, clock
):
    smtp_server.mailbox.replies["DATA"] = "451 4.3.0 Try again later"
    notification = record(commit, taro)
    db_queue()  # the first attempt fails, and queues the next for its time
    row = outbox_row(notification)
    assert row.status == Status.PENDING and row.enqueued_at == row.next_attempt_at
    retry = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert retry.run_after == row.next_attempt_at

    del smtp_server.mailbox.replies["DATA"]
    db_queue()
    assert smtp_server.received == []  # not before its time
    clock.shift(timedelta(minutes=1))
    assert services.outbox_sweep() == 0  # the sweep sees the task to come
    db_queue()  # no sweep: the worker alone
    assert len(smtp_server.received) == 1
    assert outbox_row(notification).status == Status.SENT


def test_a_permanent_refusal_fails_at_once_and_is_not_tried_again(
    contract_a, make_user, commit, smtp_server, next_worker_run, clock
):
    user = make_user(contract_a, "gone-a", email="gone@example.jp")
    smtp_server.mailbox.replies["RCPT:gone@example.jp"] = "550 5.1.1 No such user"
    notification = record(commit, user)

    next_worker_run()
    row = outbox_row(notification)
    assert (row.status, row.attempts) == (Status.FAILED, 1)
    assert row.failed_at is not None
    assert "550 5.1.1 No such user" in row.last_error

    clock.shift(timedelta(hours=2))
    next_worker_run()
    assert outbox_row(notification).attempts == 1
    assert smtp_server.received == []


def test_retries_grow_then_stop_after_24_hours_as_failed(
    taro, commit, smtp_server, next_worker_run, clock
):
    smtp_server.stop()
    notification = record(commit, taro)
    next_worker_run()

    delays = []
    while (row := outbox_row(notification)).status == Status.PENDING:
        delay = row.next_attempt_at - timezone.now()
        delays.append(delay)
        clock.shift(delay)
        next_worker_run()

    minutes = [delay / timedelta(minutes=1) for delay in delays]
    assert minutes[:4] == [1, 5, 30, 60]
    assert set(minutes[3:]) == {60}
    assert row.status == Status.FAILED
    assert row.failed_at - row.queued_at <= schedule.GIVE_UP_AFTER
    assert row.failed_at - row.queued_at > schedule.GIVE_UP_AFTER - timedelta(hours=1)
    assert row.attempts == len(delays) + 1


class WorkerKilled(BaseException):
    """The worker process dies: nothing after this point runs in it."""


def run_worker_killed_at(target, *, run_worker, monkeypatch):
    """Run the worker and make its process die at `target`: neither our code nor
    db_worker records anything afterwards, as with a SIGKILL."""

    def die(*args, **kwargs):
        raise WorkerKilled

    def record_nothing(self, error):
        raise error

    with monkeypatch.context() as patch:
        patch.setattr(target, die)
        patch.setattr(DBTaskResult, "set_failed", record_nothing)
        with pytest.raises(WorkerKilled):
            run_worker()


def test_a_worker_killed_before_it_sent_leaves_the_mail_to_the_next_run(
    taro, commit, smtp_server, db_queue, next_worker_run, clock, monkeypatch
):
    notification = record(commit, taro)
    run_worker_killed_at(
        "django.core.mail.EmailMessage.send", run_worker=db_queue, monkeypatch=monkeypatch
    )
    assert outbox_row(notification).status == Status.SENDING
    assert DBTaskResult.objects.running().count() == 1

    next_worker_run()  # the dead attempt's lease has not run out: no second attempt yet
    assert smtp_server.received == []

    clock.shift(schedule.ATTEMPT_LEASE)
    next_worker_run()

    [mail] = smtp_server.received
    assert mail["To"] == taro.email
    assert outbox_row(notification).status == Status.SENT
    # The task row the dead worker left RUNNING is closed.
    assert not DBTaskResult.objects.running().exists()
    lost = DBTaskResult.objects.get(worker_ids=["test-worker"], status=TaskResultStatus.FAILED)
    assert lost.exception_class_path == "notifications.exceptions.WorkerLost"


def test_a_worker_killed_after_the_server_accepted_sends_again_with_the_same_message_id(
    taro, commit, smtp_server, db_queue, next_worker_run, clock, monkeypatch
):
    notification = record(commit, taro)
    run_worker_killed_at(
        "notifications.delivery._record_sent", run_worker=db_queue, monkeypatch=monkeypatch
    )

    clock.shift(schedule.ATTEMPT_LEASE)
    next_worker_run()

    # At least once: a duplicate, never a loss; the same Message-ID lets mail
    # programs show it once.
    first, second = smtp_server.received
    assert first["Message-ID"] == second["Message-ID"]
    assert outbox_row(notification).status == Status.SENT


def test_a_sent_mail_is_not_sent_again_when_its_task_runs_again(
    taro, commit, smtp_server, db_queue, next_worker_run, clock
):
    notification = record(commit, taro)
    db_queue()
    assert len(smtp_server.received) == 1

    # The same delivery queued twice more (a repeated run, a second sweeper, ...).
    enqueue_delivery(notification.pk)
    enqueue_delivery(notification.pk)
    clock.shift(timedelta(hours=1))
    next_worker_run()

    assert len(smtp_server.received) == 1
    assert DBTaskResult.objects.successful().count() == 3


def test_a_mail_whose_task_was_never_queued_is_delivered_by_the_sweep(
    taro, django_capture_on_commit_callbacks, smtp_server, next_worker_run, clock
):
    # The web process dies between the commit and the commit callback.
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        notify("user_created", user=taro)

    next_worker_run()
    assert smtp_server.received == []  # the task may still come: not queued twice yet

    clock.shift(schedule.REQUEUE_AFTER)
    next_worker_run()
    assert len(smtp_server.received) == 1


def test_a_rolled_back_change_sends_nothing_and_queues_nothing(
    taro, commit, smtp_server, next_worker_run, clock
):
    with pytest.raises(RuntimeError), commit():
        notify("user_deleted", user=taro)
        taro.delete()
        raise RuntimeError("the change fails after notify()")

    clock.shift(timedelta(hours=1))
    next_worker_run()
    assert smtp_server.received == []
    assert not Notification.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert User.objects.filter(login_id="taro-a").exists()


def test_no_password_or_key_reaches_a_log_line_the_queue_or_the_outbox(
    taro, commit, smtp_server, next_worker_run, clock, caplog, settings
):
    smtp_password = "smtp-Secret-4711"
    settings.EMAIL_HOST_USER = "mailer"
    settings.EMAIL_HOST_PASSWORD = smtp_password
    smtp_server.stop()
    caplog.set_level(logging.DEBUG)
    with commit():
        taro.password = make_password(PASSWORD)
        taro.save()
        notify("user_changed", user=taro, password_changed=True)
        notify("device_key_issued", user=taro, **DEVICE_KEY)

    next_worker_run()
    clock.shift(timedelta(minutes=1))
    next_worker_run()

    assert Notification.objects.filter(status=Status.PENDING, attempts=2).count() == 2
    stored = [
        *Notification.objects.values_list("last_error", flat=True),
        *[str(args) for args in DBTaskResult.objects.values_list("args_kwargs", flat=True)],
        *DBTaskResult.objects.values_list("traceback", flat=True),
        caplog.text,
    ]
    for text in stored:
        for secret in [PASSWORD, smtp_password, DEVICE_KEY["key"]]:
            assert secret not in text
    assert "attempt 2 failed" in caplog.text


def test_a_delivered_device_key_is_wiped_from_the_outbox(taro, commit, smtp_server, db_queue):
    notification = record(commit, taro, "device_key_reissued", **DEVICE_KEY)
    assert outbox_row(notification).context["key"] == "KkeJ8cZG"  # kept until delivered

    db_queue()

    assert "KkeJ8cZG" in smtp_server.received[0].get_content()
    assert outbox_row(notification).context == {"device_name": "Chrome-16"}


def test_an_attempt_only_takes_a_due_mail(taro, commit, smtp_server, clock):
    notification = record(commit, taro)  # ImmediateBackend: delivered at commit
    assert delivery.deliver(notification.pk) == "skipped"
    assert len(smtp_server.received) == 1

"""manage.py resend_failed_mail and sweep_mail."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from notifications.models import Notification, Status
from notifications.services import notify
from tests.conftest import SETUP


@pytest.fixture
def failed_mails(users_a):
    """Two failed mails: taro's failed on 2026-04-01, hana's on 2026-04-03 (Japan time)."""
    mails = []
    with transaction.atomic():
        for user, failed_at in [
            (users_a[0], datetime(2026, 3, 31, 16, 0, tzinfo=UTC)),  # 04-01 01:00 JST
            (users_a[1], datetime(2026, 4, 2, 15, 30, tzinfo=UTC)),  # 04-03 00:30 JST
        ]:
            notification = notify("user_created", user=user)
            Notification.objects.filter(pk=notification.pk).update(
                status=Status.FAILED, attempts=27, failed_at=failed_at, last_error="timed out"
            )
            mails.append(notification)
    return mails


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_resend_failed_mail_sends_every_failed_mail_again(
    failed_mails, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = run("resend_failed_mail")

    assert "Queued 2" in output
    assert sorted(mail.to[0] for mail in mailoutbox) == ["hana-a@example.jp", "taro-a@example.jp"]
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}


def test_resend_failed_mail_since_a_day_takes_only_the_failures_from_that_day_on(
    failed_mails, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = run("resend_failed_mail", "--since", "2026-04-02")

    assert "Queued 1" in output
    assert [mail.to for mail in mailoutbox] == [["hana-a@example.jp"]]
    taro_mail = Notification.objects.get(pk=failed_mails[0].pk)
    assert taro_mail.status == Status.FAILED


def test_a_resent_mail_gets_a_new_24_hours_of_retries(failed_mails, time_machine):
    now = datetime(2026, 4, 10, 3, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    run("resend_failed_mail")  # the commit callbacks never run: the mails wait

    mail = Notification.objects.get(pk=failed_mails[0].pk)
    assert (mail.status, mail.attempts, mail.queued_at) == (Status.PENDING, 0, now)
    assert mail.failed_at is None


def test_resend_failed_mail_refuses_a_malformed_date(failed_mails):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("resend_failed_mail", "--since", "1 April")
    assert Notification.objects.filter(status=Status.FAILED).count() == 2


def test_the_sweep_queues_the_mails_that_are_due(users_a, mailoutbox, time_machine):
    time_machine.move_to(datetime(2026, 4, 1, 1, 30, tzinfo=UTC), tick=False)
    with transaction.atomic():
        notify("user_created", user=users_a[0])  # its commit callback never runs

    assert "mail: 0" in run("sweep_mail")  # the former name of `sweep`
    time_machine.shift(timedelta(minutes=6))
    assert "mail: 1" in run("sweep")
    assert [mail.to for mail in mailoutbox] == [["taro-a@example.jp"]]


def test_a_resend_is_audited(users_a):
    from audit.actions import Action
    from audit.models import AuditEntry
    from notifications.services import notification_resend

    with transaction.atomic():
        notification = notify("user_created", user=users_a[0])
    Notification.objects.filter(pk=notification.pk).update(status=Status.FAILED)
    assert notification_resend(notifications=Notification.objects.all(), actor=SETUP) == 1
    entry = AuditEntry.objects.get(action=Action.MAIL_RESENT)
    assert entry.contract_id == users_a[0].contract_id
    assert entry.target == users_a[0].login_id
    assert entry.changes == {"notification": ["", str(notification.pk)]}

"""The retry schedule and which refusals are final (pure rules)."""

import smtplib
from datetime import UTC, datetime, timedelta

import pytest

from notifications import schedule

QUEUED = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [(1, timedelta(minutes=1)), (2, timedelta(minutes=5)), (3, timedelta(minutes=30))]
    + [(n, timedelta(hours=1)) for n in range(4, 10)],
)
def test_delays_grow_then_stay_hourly(attempts, delay):
    now = QUEUED + timedelta(hours=2)
    assert schedule.next_attempt_at(queued_at=QUEUED, attempts=attempts, now=now) == now + delay


def test_no_attempt_is_planned_past_24_hours():
    last_chance = QUEUED + timedelta(hours=23)
    assert schedule.next_attempt_at(queued_at=QUEUED, attempts=20, now=last_chance) == (
        QUEUED + timedelta(hours=24)
    )
    too_late = last_chance + timedelta(seconds=1)
    assert schedule.next_attempt_at(queued_at=QUEUED, attempts=20, now=too_late) is None


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({"a@example.jp": (550, b"No such user")}), True),
        (smtplib.SMTPRecipientsRefused({"a@example.jp": (450, b"Mailbox busy")}), False),
        (smtplib.SMTPDataError(554, b"Message rejected"), True),
        (smtplib.SMTPDataError(451, b"Try again later"), False),
        (smtplib.SMTPAuthenticationError(535, b"Bad credentials"), False),
        (smtplib.SMTPSenderRefused(553, b"Sender refused", "no-reply@example.jp"), False),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
        (TimeoutError("timed out"), False),
    ],
)
def test_only_a_5xx_for_the_recipient_or_message_is_final(error, permanent):
    assert schedule.is_permanent(error) is permanent


def test_the_error_is_described_with_the_servers_reply():
    error = smtplib.SMTPRecipientsRefused({"a@example.jp": (550, b"5.1.1 No such user")})
    assert schedule.describe(error) == (
        "SMTPRecipientsRefused: a@example.jp: 550 5.1.1 No such user"
    )
    assert schedule.describe(smtplib.SMTPDataError(451, b"Later")) == "SMTPDataError: 451 Later"

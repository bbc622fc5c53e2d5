"""When a notification mail is tried again, and which refusals are final.

Pure rules: no database, no mail server.
"""

import smtplib
from datetime import datetime, timedelta

# After the 1st, 2nd and 3rd failed attempt; then every RETRY_EVERY ...
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
RETRY_EVERY = timedelta(hours=1)
# ... until this long after the mail was queued; then it is marked failed.
GIVE_UP_AFTER = timedelta(hours=24)

# An attempt that has not finished this long after it started belongs to a worker
# that died: the mail is delivered again. Far above the longest SMTP conversation
# that EMAIL_TIMEOUT allows.
ATTEMPT_LEASE = timedelta(minutes=5)
# A queued delivery task not run within this long is presumed lost (the web process
# died between commit and enqueue, the queue lost it) and is queued again.
REQUEUE_AFTER = timedelta(minutes=5)


def next_attempt_at(*, queued_at: datetime, attempts: int, now: datetime) -> datetime | None:
    """The time of the next attempt after `attempts` failed ones, or None to give up."""
    delay = RETRY_DELAYS[attempts - 1] if attempts <= len(RETRY_DELAYS) else RETRY_EVERY
    at = now + delay
    return at if at <= queued_at + GIVE_UP_AFTER else None


def is_permanent(error: BaseException) -> bool:
    """A 5xx refusal of the recipient or of the message itself: trying again cannot help.

    Everything else (connection refused, timeout, 4xx, a 5xx for our own sign-in or
    sender address, which an operator fixes) is worth another attempt.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPDataError):
        return 500 <= error.smtp_code < 600
    return False


def describe(error: BaseException) -> str:
    """One line for support staff: the error's class and the server's reply.

    Built from the error alone, which never holds the SMTP password.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = [
            f"{address}: {code} {_text(message)}"
            for address, (code, message) in error.recipients.items()
        ]
        text = "; ".join(replies)
    elif isinstance(error, smtplib.SMTPResponseException):
        text = f"{error.smtp_code} {_text(error.smtp_error)}"
    else:
        text = str(error)
    return f"{type(error).__name__}: {text}"[:500]


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)

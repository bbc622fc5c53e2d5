from datetime import date, datetime, time

from django.core.management.base import BaseCommand, CommandError

from core import actors
from notifications import services
from notifications.models import Notification, Status
from notifications.rendering import MAIL_TIME_ZONE


class Command(BaseCommand):
    help = (
        "Send the failed notification mails again (each gets a new 24-hour retry period). "
        "With --since, only those that failed on or after that day (Japan time)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", type=_day, help="YYYY-MM-DD")

    def handle(self, *args, since, **options):
        failed = Notification.objects.filter(status=Status.FAILED)
        if since:
            start = datetime.combine(since, time.min, tzinfo=MAIL_TIME_ZONE)
            failed = failed.filter(failed_at__gte=start)
        count = services.notification_resend(
            notifications=failed, actor=actors.command("resend_failed_mail")
        )
        self.stdout.write(f"Queued {count} failed mail(s) to be sent again.")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since takes a date as YYYY-MM-DD, not {value!r}.") from None

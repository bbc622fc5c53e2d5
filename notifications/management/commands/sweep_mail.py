import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from notifications import services

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Queue the notification mails that are due and have no delivery task to come "
        "(retries, mails of a worker that died, tasks lost before they were queued). "
        "Run it every minute: from cron, or as one process with --every 60."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="sweep again after this many seconds until stopped (default: sweep once)",
        )

    def handle(self, *args, every, **options):
        if every is None:
            count = services.outbox_sweep()
            self.stdout.write(f"Queued {count} mail(s).")
            return
        try:
            while True:
                close_old_connections()
                try:
                    services.outbox_sweep()
                except Exception:
                    # A database or queue briefly away: the next round tries again.
                    logger.exception("Mail sweep failed")
                time.sleep(every)
        except KeyboardInterrupt:
            return

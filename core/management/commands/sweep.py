import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from core import maintenance

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Housekeeping of the background work (core/maintenance.py): queue the mails whose "
        "delivery task was lost, fail the CSV import jobs whose worker died, delete "
        "expired sessions. Run it every minute: from cron, or as one process with "
        "--every 60 (more do no harm)."
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
            done = maintenance.sweep()
            self.stdout.write(", ".join(f"{name}: {count}" for name, count in done.items()))
            return
        try:
            while True:
                close_old_connections()
                maintenance.sweep()
                time.sleep(every)
        except KeyboardInterrupt:
            return

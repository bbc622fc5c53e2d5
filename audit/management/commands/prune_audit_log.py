from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_prune
from core import actors


class Command(BaseCommand):
    help = "Delete audit log entries older than the retention period (the pruning is logged)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=settings.AUDIT_RETENTION_DAYS,
            metavar="DAYS",
            help=f"retention in days (default {settings.AUDIT_RETENTION_DAYS})",
        )

    def handle(self, *args, older_than, **options):
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 day.")
        deleted = audit_prune(older_than_days=older_than, actor=actors.command("prune_audit_log"))
        self.stdout.write(f"Deleted {deleted} audit entries older than {older_than} days.")

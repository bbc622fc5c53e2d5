"""`subscribe`: the storage service creates its event stream at the console."""

from django.core.management.base import BaseCommand

from tests.storage_service import ssf


class Command(BaseCommand):
    help = "Create an SSF stream at the console for push to this service, and verify it."

    def handle(self, *args, **options):
        self.stdout.write(ssf.subscribe().stream_id)

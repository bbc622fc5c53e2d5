from django.core.management.base import BaseCommand, CommandError

from api.services import api_client_create
from core import actors


class Command(BaseCommand):
    help = (
        "Create a resource server client that may introspect app tokens (POST "
        "/api/oauth/introspect): prints its client ID and its secret, each on a line of "
        "its own. The secret is shown only now; the console keeps only its hash."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="what the client is, e.g. 'storage service (production)'")

    def handle(self, *args, name, **options):
        if not name.strip():
            raise CommandError("Give the client a name.")
        client, secret = api_client_create(name=name, actor=actors.command("create_api_client"))
        self.stdout.write(client.client_id)
        self.stdout.write(secret)

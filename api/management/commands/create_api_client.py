from django.core.exceptions import ValidationError
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
        parser.add_argument(
            "--resource",
            default="",
            help=(
                "the resource server's own URL, e.g. https://storage.example.jp/ "
                "(RFC 8707): introspection answers it in `aud` beside the client ID, as "
                "django-oauth-toolkit and other resource servers check by default"
            ),
        )

    def handle(self, *args, name, resource, **options):
        if not name.strip():
            raise CommandError("Give the client a name.")
        try:
            client, secret = api_client_create(
                name=name, actor=actors.command("create_api_client"), resource_url=resource
            )
        except ValidationError as error:
            raise CommandError(" ".join(str(message) for message in error.messages)) from error
        self.stdout.write(client.client_id)
        self.stdout.write(secret)

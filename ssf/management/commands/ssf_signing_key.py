import json
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from ssf import keys


class Command(BaseCommand):
    help = (
        "Print a JSON Web Key Set for SSF_SIGNING_KEYS_FILE: a new RSA signing key, then "
        "the keys of --file (a rotation: the new key signs, the old ones stay published). "
        "It holds private keys: write it where only the console's user can read it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", help="the key file in use, whose keys follow the new one")

    def handle(self, *args, file=None, **options):
        kept = []
        if file:
            try:
                kept = keys.read_key_file(Path(file)).as_dict(private=True)["keys"]
            except ImproperlyConfigured as error:
                raise CommandError(str(error)) from error
        new = keys.new_key().as_dict(private=True)
        self.stdout.write(json.dumps({"keys": [new, *kept]}, indent=2))

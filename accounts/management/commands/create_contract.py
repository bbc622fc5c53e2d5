import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from core import actors

PASSWORD_ENV = "AZUKERU_PASSWORD"  # noqa: S105 (the variable's name, not a secret)


class Command(BaseCommand):
    help = (
        "Create a contract and its administrator. The password comes from the "
        f"{PASSWORD_ENV} environment variable, otherwise it is asked twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--login-id", required=True, help="the administrator's login ID")
        parser.add_argument("--email", required=True, help="the administrator's mail address")
        parser.add_argument("--name", default="", help="the contract's name (default: login ID)")

    def handle(self, *args, login_id, email, name, **options):
        password = os.environ.get(PASSWORD_ENV) or self._ask_password()
        try:
            administrator = services.contract_create(
                login_id=login_id,
                email=email,
                password=password,
                name=name,
                actor=actors.command("create_contract"),
            )
        except ValidationError as error:
            raise CommandError(_describe(error)) from None
        self.stdout.write(
            f"Created contract #{administrator.contract_id} with administrator "
            f"{administrator.login_id}."
        )

    def _ask_password(self) -> str:
        if not self.interactive_terminal():
            raise CommandError(f"No password: set {PASSWORD_ENV} or run on a terminal.")
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password (again): ")
        if first != second:
            raise CommandError("The two passwords do not match; nothing was created.")
        return first

    @staticmethod
    def interactive_terminal() -> bool:
        return os.isatty(0)


def _describe(error: ValidationError) -> str:
    """One line per field error, for stderr (never the password itself)."""
    lines = []
    for field, messages in error.message_dict.items():
        lines.extend(f"{field}: {message}" for message in messages)
    return "\n".join(lines) + "\nNothing was created."

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import Contract

DEMO_LOGIN_ID = "demo-admin"
DEMO_EMAIL = "demo-admin@example.jp"
# A demonstration credential for a development database only (refused in production).
DEMO_PASSWORD = "Kx7mQ2vR9w"  # noqa: S105


class Command(BaseCommand):
    help = "Seed a demo contract with its administrator, only when the database has no contract."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo is for development databases only.")
        if Contract.objects.exists():
            self.stdout.write("A contract exists already; no demo contract was added.")
            return
        services.contract_create(
            login_id=DEMO_LOGIN_ID,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            name="デモ契約",
            actor=None,
        )
        self.stdout.write(
            self.style.SUCCESS(
                "Demo contract created. Administrator sign-in:\n"
                f"  ログインID: {DEMO_LOGIN_ID}\n  パスワード: {DEMO_PASSWORD}"
            )
        )

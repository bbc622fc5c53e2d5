from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import Contract
from core import actors

SEED = actors.command("seed_demo")

DEMO_LOGIN_ID = "demo-admin"
DEMO_EMAIL = "demo-admin@example.jp"
# A demonstration credential for a development database only (refused in production).
DEMO_PASSWORD = "Kx7mQ2vR9w"  # noqa: S105
DEMO_USERS = [
    # login ID, display name, title, department
    ("taro", "東日本 太郎", "課長", "営業本部"),
    ("hana", "東日本 花子", "", "サービス企画部"),
    ("ntteast201_001", "東日本 次郎", "主任", "総務部"),
]
DEMO_USER_PASSWORD = "Tq8wZp4Kx2"  # noqa: S105


class Command(BaseCommand):
    help = "Seed a demo contract with its administrator, only when the database has no contract."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo is for development databases only.")
        if Contract.objects.exists():
            self.stdout.write("A contract exists already; no demo contract was added.")
            return
        administrator = services.contract_create(
            login_id=DEMO_LOGIN_ID,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            name="デモ契約",
            actor=SEED,
        )
        for login_id, display_name, title, department in DEMO_USERS:
            services.user_create(
                contract=administrator.contract,
                actor=SEED,
                login_id=login_id,
                password=DEMO_USER_PASSWORD,
                email=f"{login_id}@example.jp",
                display_name=display_name,
                title=title,
                department=department,
                notify_user=False,
            )
        self.stdout.write(
            self.style.SUCCESS(
                "Demo contract created. Administrator sign-in:\n"
                f"  ログインID: {DEMO_LOGIN_ID}\n  パスワード: {DEMO_PASSWORD}\n"
                f"Its user IDs {', '.join(u[0] for u in DEMO_USERS)} "
                f"have the password {DEMO_USER_PASSWORD}."
            )
        )

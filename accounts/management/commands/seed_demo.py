from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import Contract, User
from api.services import api_client_create
from core import actors
from devicekeys import rules
from devicekeys import services as keys

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
# The storage service's client of the demo (docs/API.md's curl examples use it).
DEMO_API_CLIENT_ID = "azc_demo-storage"
DEMO_API_CLIENT_SECRET = "demo-storage-secret-for-development-only"  # noqa: S105
APP_USER_AGENT = "AzukeruPro/3.2 (iPhone; iOS 18.1)"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"


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
        waiting = self._keys(administrator)
        api_client_create(
            name="デモのストレージサービス",
            actor=SEED,
            client_id=DEMO_API_CLIENT_ID,
            secret=DEMO_API_CLIENT_SECRET,
        )
        self.stdout.write(
            self.style.SUCCESS(
                "Demo contract created. Administrator sign-in:\n"
                f"  ログインID: {DEMO_LOGIN_ID}\n  パスワード: {DEMO_PASSWORD}\n"
                f"Its user IDs {', '.join(u[0] for u in DEMO_USERS)} "
                f"have the password {DEMO_USER_PASSWORD}.\n"
                f"A key waiting for an app of taro (docs/API.md): {waiting.key}\n"
                f"The demo storage service's API client: {DEMO_API_CLIENT_ID} "
                f"(secret {DEMO_API_CLIENT_SECRET})"
            )
        )

    def _keys(self, administrator):
        """Keys in every state: registered by an app and by a browser, waiting, 利用停止,
        無効. Returns taro's waiting key (for the token endpoint's example)."""
        contract = administrator.contract
        users = {user.login_id: user for user in User.objects.for_contract(contract).users()}
        taro, hana, jiro = users["taro"], users["hana"], users["ntteast201_001"]

        def issue(user, name=""):
            return keys.device_key_issue(
                contract=contract, user=user, actor=administrator, device_name=name
            )

        def register(user, key, client, user_agent):
            keys.device_key_enter(
                contract=contract,
                actor=user,
                user=user,
                entered=key.key,
                ip="127.0.0.1",
                user_agent=user_agent,
                client=client,
            )

        register(taro, issue(taro), rules.Client.IOS, APP_USER_AGENT)  # named "iOS"
        register(hana, issue(hana), rules.Client.BROWSER, CHROME)  # named "Chrome"
        stopped = issue(hana, "タブレット")
        keys.device_key_stop(contract=contract, key=stopped, actor=administrator)
        issue(jiro, "会議室PC")
        for _ in range(rules.WRONG_ENTRY_LIMIT):  # jiro's waiting key becomes 無効
            keys.device_key_record_wrong_entry(
                contract=contract, user=jiro, actor=jiro, ip="127.0.0.1"
            )
        return issue(taro, "taroのiPad")

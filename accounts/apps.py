from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("契約と利用者ID")

    def ready(self):
        from accounts import signals  # noqa: F401  (the account-wide sign-in ceiling)
        from accounts.services import sessions_sweep
        from core import maintenance

        maintenance.register("sessions", sessions_sweep)

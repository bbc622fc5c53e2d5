from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("ログ管理")

    def ready(self):
        from audit import signals  # noqa: F401  (sign-in events)

from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = pgettext_lazy("model plural", "通知メール")

    def ready(self):
        from core import maintenance
        from notifications.services import outbox_sweep

        maintenance.register("mail", outbox_sweep)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeviceKeysConfig(AppConfig):
    name = "devicekeys"
    verbose_name = _("端末認証キー")

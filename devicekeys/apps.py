from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class DeviceKeysConfig(AppConfig):
    name = "devicekeys"
    verbose_name = pgettext_lazy("model plural", "端末認証キー")

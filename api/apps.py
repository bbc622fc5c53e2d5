from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """端末認証 for smartphone apps and tools, in OAuth 2.0 formats: registration with a
    key (the token endpoint), introspection for the storage service, revocation, and
    the device's status. docs/API.md describes every endpoint."""

    name = "api"
    verbose_name = _("アプリ連携API")

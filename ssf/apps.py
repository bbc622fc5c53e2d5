from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


class SsfConfig(AppConfig):
    name = "ssf"
    verbose_name = _("セキュリティイベント")

    def ready(self):
        from core import maintenance
        from ssf.services import events_sweep

        maintenance.register("events", events_sweep)
        checks.register(_signing_keys_check)


def _signing_keys_check(app_configs=None, **kwargs):
    """`manage.py check` (and every command that runs the checks) stops on a signing
    key file that is set but unusable."""
    from ssf import keys

    try:
        keys.check()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="ssf.E001")]
    return []

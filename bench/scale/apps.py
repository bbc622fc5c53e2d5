from django.apps import AppConfig


class ScaleConfig(AppConfig):
    """Applies bench.scale.settings' shorter leases (for the processes of `make scale`
    only: this app is installed by those settings alone)."""

    name = "bench.scale"
    label = "scale"

    def ready(self):
        from django.conf import settings

        from accounts.models import ImportJob
        from notifications import schedule

        schedule.ATTEMPT_LEASE = settings.SCALE_ATTEMPT_LEASE
        ImportJob.RUNNING_LEASE = settings.SCALE_RUNNING_LEASE

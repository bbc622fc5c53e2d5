from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TwoStepConfig(AppConfig):
    """二段階認証 of administrators and support staff: an authenticator app (TOTP),
    passkeys, recovery codes, the second step of the sign-in, and support's reset.
    The devices are django-otp's (its TOTP and static plugins, and
    django-otp-webauthn); this app holds the console's rules around them."""

    name = "twostep"
    verbose_name = _("二段階認証")

    def ready(self):
        from twostep import signals  # noqa: F401  (a session knows its account's factors)

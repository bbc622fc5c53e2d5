"""A new session starts knowing its account's second factors (twostep.sessions)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from twostep import sessions


@receiver(user_logged_in)
def _factors_seen_at_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        sessions.factors_seen(request, user)

"""Sign-in events into the account-wide ceiling (accounts.throttling). Django's
authenticate() announces every failed password check as a signal, wherever it is
made; this receiver only passes it on. (A right password ends the run in the
sign-in form: accounts.forms.SignInForm.)"""

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from accounts import throttling


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs):
    login_id = (credentials.get("username") or "").strip()
    if login_id:
        throttling.count_failure(login_id, request)

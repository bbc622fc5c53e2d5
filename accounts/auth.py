"""Sign-in helpers shared by the login view and django-axes."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ConsoleBackend(ModelBackend):
    """Django's password backend, loading the signed-in account with its contract in
    the same query (every console page needs the contract)."""

    def get_user(self, user_id):
        user = (
            get_user_model()._default_manager.select_related("contract").filter(pk=user_id).first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None


def axes_username(request, credentials):
    """Throttle per login ID case-insensitively: 'Taro' and 'taro' are one account."""
    source = credentials if credentials else request.POST
    return (source.get("username") or "").strip().lower()

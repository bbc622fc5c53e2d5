"""Sign-in events into the audit log. Django and django-axes announce them as
signals; these receivers only write the entry."""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.actions import Action
from audit.services import record
from core.actors import Anonymous


def _contract_of(login_id: str):
    """The contract of an existing login ID, so its administrator sees failures on it."""
    user = get_user_model().objects.with_login_id(login_id).select_related("contract").first()
    return user.contract if user else None


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    record(Action.SIGN_IN, contract=user.contract, actor=user, target=user.login_id)


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        record(Action.SIGN_OUT, contract=user.contract, actor=user, target=user.login_id)


def _signed_in_as(request, login_id: str):
    """The signed-in account whose own password was just checked, or None. A signed-in
    account never meets the sign-in form (it is sent on), so a password checked for
    its own login ID is its current password, asked again (パスワード変更, 本人確認)."""
    account = getattr(request, "user", None)
    if account is None or not account.is_authenticated:
        return None
    return account if account.login_id.lower() == login_id.lower() else None


def _page(request) -> str:
    """The page that asked (its URL name, which audit.labels puts in words)."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""


@receiver(user_login_failed)
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    login_id = (credentials.get("username") or "").strip()[:254]
    account = _signed_in_as(request, login_id)
    if account is not None:
        record(
            Action.CURRENT_PASSWORD_WRONG,
            contract=account.contract,
            actor=account,
            target=account.login_id,
            changes={"page": ["", _page(request)]},
        )
        return
    record(
        Action.SIGN_IN_FAILED,
        contract=_contract_of(login_id) if login_id else None,
        actor=Anonymous(login_id or "?"),
        target=login_id,
    )


@receiver(user_locked_out)
def _throttled(sender, request, username, ip_address, **kwargs):
    login_id = (username or "").strip()[:254]
    account = _signed_in_as(request, login_id)
    record(
        Action.SIGN_IN_THROTTLED,
        contract=account.contract if account else _contract_of(login_id) if login_id else None,
        actor=account or Anonymous(login_id or "?"),
        target=login_id,
    )

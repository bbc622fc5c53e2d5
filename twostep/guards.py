"""Who may open the pages of second factors, and the fresh proof that sensitive
changes ask for (sudo mode)."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import resolve_url
from django.utils.translation import gettext_lazy as _

from twostep import services, sessions

NOT_DONE = _("本人確認のため、操作は行われませんでした。確認のあと、もう一度操作してください。")


def account_required(view):
    """Guard of the pages of second factors: a signed-in administrator or support staff
    member (anonymous visitors go to the sign-in page)."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not services.applies(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


def second_step_required(view):
    """Only a session that passed the second step may remove or rename a factor or
    renew the recovery codes: never one that holds the password alone, whatever the
    middleware let through. (Inside account_required.)"""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not request.user.is_verified():
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


def sudo_required(view=None, *, back=None):
    """Fresh proof for a sensitive change: when the session's last proof (sign-in,
    second step, 本人確認) is older than SUDO_MAX_AGE, the request goes to the
    re-confirmation page (twostep:confirm) and does nothing; that page returns to the
    page asked for (a GET), or after a POST (never performed) to `back` (a URL name)
    or the same URL. Inside the view's sign-in guard:

        @administrator_required
        @sudo_required
        def settings_email(request): ...
    """

    def decorate(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if sessions.proof_is_fresh(request):
                return view(request, *args, **kwargs)
            if request.method == "GET":
                then = request.get_full_path()
            else:
                then = resolve_url(back) if back else request.path
                messages.info(request, NOT_DONE)
            return redirect_to_login(then, login_url="twostep:confirm")

        return guarded

    return decorate(view) if view is not None else decorate

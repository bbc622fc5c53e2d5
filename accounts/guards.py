"""Who may open a console page, and where its contract comes from."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from accounts.models import Role


def administrator_required(view):
    """Guard of every console view.

    Anonymous visitors go to the sign-in page (with a safe `next`); a signed-in
    user ID or support staff member gets 403. For the administrator, the view
    finds their contract on `request.contract`: the only source of the contract
    a console view may use.
    """

    @wraps(view)
    def guarded(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_administrator:
            raise PermissionDenied
        request.contract = user.contract
        return view(request, *args, **kwargs)

    guarded.administrator_only = True
    return guarded


def user_required(view):
    """Guard of a user ID's own pages (利用者のホーム).

    Anonymous visitors go to the sign-in page; an administrator goes to the
    console; support staff get 403. The view finds the user's contract on
    `request.contract`, as console views do.
    """

    @wraps(view)
    def guarded(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.is_administrator:
            return redirect("accounts:console")
        if user.role != Role.USER:
            raise PermissionDenied
        request.contract = user.contract
        return view(request, *args, **kwargs)

    return guarded

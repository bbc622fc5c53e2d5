"""The user's side of device authentication: the key step of sign-in. It needs no
session: it works on the pending sign-in (devicekeys.signin)."""

import math

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from core.clientip import client_address
from devicekeys import signin
from devicekeys.exceptions import NoKeyWaiting, TooManyEntries, WrongKey
from devicekeys.forms import KeyEntryForm
from devicekeys.rules import Refusal
from devicekeys.selectors import waiting_keys
from devicekeys.services import device_key_enter

WRONG_KEY = _(
    "端末認証キーが正しくありません。あと%(remaining)d回間違えると、"
    "このログインIDの端末認証キーは無効になります。"
)
ENTRIES_THROTTLED = _(
    "端末認証キーの入力に続けて失敗したため、この接続元からの入力を一時的に制限しています。"
    "%(minutes)d分後にもう一度お試しください。"
)


@never_cache
@sensitive_post_parameters("key")
@require_http_methods(["GET", "POST"])
def device_key(request):
    """端末認証キーの入力: after a right password, in a browser not registered for the login ID."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    waiting = signin.pending(request)
    if waiting is None:
        signin.abandon(request)
        messages.info(request, _("ログインの有効期限が切れました。もう一度ログインしてください。"))
        return redirect("accounts:login")
    user = waiting.user
    form = KeyEntryForm(request.POST if request.method == "POST" else None)
    status, invalidated = 200, False
    if request.method == "POST" and form.is_valid():
        try:
            enrollment = device_key_enter(
                contract=user.contract,
                actor=user,
                user=user,
                entered=form.cleaned_data["key"],
                ip=client_address(request),
                user_agent=signin.client_user_agent(request),
            )
        except WrongKey as error:
            if error.remaining:
                form.add_error("key", WRONG_KEY % {"remaining": error.remaining})
            else:
                invalidated = True
                signin.abandon(request)
        except NoKeyWaiting:
            pass  # the page says so below
        except TooManyEntries as refused:
            minutes = math.ceil(refused.retry_after.total_seconds() / 60)
            form.add_error(None, ENTRIES_THROTTLED % {"minutes": max(minutes, 1)})
            status = 429
        else:
            messages.success(
                request,
                _("この端末を「%(name)s」として登録しました。")
                % {"name": enrollment.key.device_name},
            )
            return signin.finish(request, waiting, enrollment)
    context = {
        "title": _("端末認証キーの入力"),
        "form": form,
        "login_id": user.login_id,
        "stopped": waiting.why == Refusal.STOPPED,
        "key_waiting": waiting_keys(contract=user.contract, user=user).exists(),
        "invalidated": invalidated,
    }
    return render(request, "devicekeys/device_key_entry.html", context, status=status)

"""The device check of every request of a signed-in user ID.

The session says which key it signed in with (devicekeys.signin.BOUND); one
query by primary key reads that key, and devicekeys.rules.refusal() decides:
a key 停止, 無効, reissued (its credential is no longer the session's), deleted,
or a browser that no longer sends the credential ends the session at once, and
the response is a page that says why (403). The same happens to the session of
a login ID that was deleted or disabled, and to a user ID's session that did not
pass the device step at sign-in. 停止解除 lets the same browser sign in again
without a new key.

The key's 最終利用日時, IP address and browser are written at most once a minute
(USE_WRITE_INTERVAL), so a busy user costs one read per request and one write a
minute. Administrators and support staff are not checked: no query for them.
"""

from datetime import timedelta

from django.contrib.auth import SESSION_KEY, logout
from django.shortcuts import render
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from core.clientip import client_address
from devicekeys import credentials, rules, services, signin
from devicekeys.selectors import device_key_of_session

USE_WRITE_INTERVAL = timedelta(minutes=1)
# Refusals after which the browser's credential can never open anything again.
DEAD_CREDENTIAL = {
    rules.Refusal.DELETED,
    rules.Refusal.REISSUED,
    rules.Refusal.INVALID,
    rules.Refusal.ACCOUNT_GONE,
}


class DeviceCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.device_key = None
        user = request.user
        if user.is_authenticated:
            if user.role == Role.USER:
                refused = self._check(request, user)
                if refused is not None:
                    return refused
        elif signin.BOUND in request.session and SESSION_KEY in request.session:
            # A user ID's session whose account no longer signs in: deleted or disabled.
            return _end(request, rules.Refusal.ACCOUNT_GONE, request.session[signin.BOUND])
        return self.get_response(request)

    def _check(self, request, user):
        if signin.BOUND not in request.session:
            return _end(request, rules.Refusal.SIGN_IN_AGAIN, None)
        bound = request.session[signin.BOUND]
        if bound is None:  # signed in where no device check applied (アクセス設定)
            return None
        key = device_key_of_session(user=user, pk=bound["id"])
        reason = rules.refusal(
            key.state if key is not None else rules.GONE,
            same_credential=key is not None
            and constant_time_compare(key.credential_hash, bound["hash"]),
            credential_in_browser=bound["hash"] in credentials.token_hashes(request),
        )
        if reason is not None:
            services.device_key_record_refusal(
                contract=user.contract, actor=user, key=key, reason=reason
            )
            return _end(request, reason, bound)
        request.device_key = key
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at >= USE_WRITE_INTERVAL:
            services.device_key_record_use(
                contract_id=key.contract_id,
                key_id=key.pk,
                ip=client_address(request),
                user_agent=signin.client_user_agent(request),
            )
        return None


def _end(request, reason: rules.Refusal, bound: dict | None):
    """End the session and say why; a credential that can open nothing again is
    taken back from the browser (a 停止 one is kept for 停止解除)."""
    logout(request)
    context = {
        "title": _("この端末からはご利用になれません"),
        "message": rules.REFUSAL_MESSAGES[reason],
        "reissued": reason == rules.Refusal.REISSUED,
    }
    response = render(request, "devicekeys/device_refused.html", context, status=403)
    if bound and reason in DEAD_CREDENTIAL:
        credentials.remove(request, response, bound["hash"])
    return response

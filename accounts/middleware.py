"""Session limits: an idle timeout and an absolute lifetime.

Django's session cookie age alone gives one of the two; this middleware keeps
two timestamps in the session (when the user signed in, when they were last
seen) and signs the user out when either limit has passed. The last-seen
stamp is written at most once a minute, so an active user does not cost a
session write on every request.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext_lazy as _

AUTH_AT = "_auth_at"
SEEN_AT = "_seen_at"
SEEN_WRITE_INTERVAL = 60


IDLE = _("一定時間操作がなかったため、ログアウトしました。再度ログインしてください。")
LIFETIME_PASSED = _(
    "ログインから%(hours)d時間が経過したため、ログアウトしました。再度ログインしてください。"
)


def signed_out(request, message):
    """End the session, say why, and go to the sign-in page."""
    logout(request)
    messages.info(request, message)
    return redirect_to_login(request.get_full_path())


def stamp_sign_in(request) -> None:
    now = int(time.time())
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now


class SessionLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            auth_at = request.session.get(AUTH_AT, now)
            seen_at = request.session.get(SEEN_AT, now)
            idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
            lifetime = settings.SESSION_ABSOLUTE_LIFETIME
            if now - auth_at > lifetime.total_seconds():
                hours = int(lifetime.total_seconds() // 3600)
                return signed_out(request, LIFETIME_PASSED % {"hours": hours})
            if now - seen_at > idle:
                return signed_out(request, IDLE)
            if AUTH_AT not in request.session:
                request.session[AUTH_AT] = now
            if now - seen_at >= SEEN_WRITE_INTERVAL or SEEN_AT not in request.session:
                request.session[SEEN_AT] = now
        return self.get_response(request)

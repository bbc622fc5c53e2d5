"""The known-device cookie (accounts.known_device) of a completed sign-in, handed to
the browser once per sign-in (AUTH_AT): a user ID is signed in only after the key step;
an administrator or support staff member once the session passed the second step, or
once the second step's check (twostep.middleware) found that it needs none."""

from accounts import known_device
from accounts.middleware import AUTH_AT
from twostep import services as twostep
from twostep.middleware import PASSWORD_ONLY

# The sign-in (AUTH_AT) for which the browser was given its known-device cookie.
KNOWN_AT = "_known_device_at"


class KnownDeviceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = request.user
        if not user.is_authenticated or AUTH_AT not in request.session:
            return response
        signed_in_at = request.session[AUTH_AT]
        if request.session.get(KNOWN_AT) != signed_in_at and _complete(request, signed_in_at):
            known_device.issue(request, response, user)
            request.session[KNOWN_AT] = signed_in_at
        return response


def _complete(request, signed_in_at) -> bool:
    user = request.user
    if not twostep.applies(user) or request.session.get(PASSWORD_ONLY) == signed_in_at:
        return True
    # django-otp's is_verified() is missing on the account Django's login() has just put
    # on the request: that session has passed no second step yet.
    verified = getattr(user, "is_verified", None)
    return verified is not None and verified()

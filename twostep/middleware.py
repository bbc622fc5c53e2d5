"""The second step of the sign-in, held by one middleware.

django-otp's OTPMiddleware tells whether a session passed its second step
(request.user.is_verified()). For an administrator or support staff member whose
session has not:
- with a second factor: every page but the second step (and sign-out, the language
  switch, the passkey ceremony) leads to the second step;
- without one where it is required (support staff; administrators with
  TWO_STEP_REQUIRED): every page but the enrolment leads to the enrolment;
- otherwise the session goes on with the password alone; the answer is kept in the
  session for the rest of this sign-in (an enrolment in it verifies the session), so
  that such an administrator's pages cost no query more. The answer holds only while
  the account's factors stay as the session knew them and no factor is required: a
  session that has not passed the second step ends as soon as a factor is enrolled
  elsewhere or support reset them (twostep.sessions, read from the account's own row),
  and TWO_STEP_REQUIRED turned on sends it to the enrolment.
User IDs are never concerned: their second factor is the device key.
"""

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from accounts.middleware import AUTH_AT, signed_out
from twostep import services, sessions

# The sign-in (AUTH_AT) found to need no second step, kept in the session.
PASSWORD_ONLY = "_twostep_password_only"  # noqa: S105 (a session key, not a password)
FACTORS_CHANGED = _(
    "二段階認証の設定が変更されたため、ログアウトしました。再度ログインしてください。"
)
ALWAYS = {"accounts:logout", "set_language", "otp_webauthn:js-i18n-catalog"}
AT_THE_STEP = {
    "twostep:verify",
    "otp_webauthn:credential-authentication-begin",
    "otp_webauthn:credential-authentication-complete",
}
AT_THE_ENROLMENT = {
    "twostep:setup",
    "twostep:app",
    "twostep:recovery-codes",
    "otp_webauthn:credential-registration-begin",
    "otp_webauthn:credential-registration-complete",
}


class TwoStepMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not services.applies(user) or user.is_verified():
            return None
        if sessions.factors_changed(request):
            return signed_out(request, FACTORS_CHANGED)
        signed_in_at = request.session.get(AUTH_AT)
        if (
            signed_in_at is not None
            and request.session.get(PASSWORD_ONLY) == signed_in_at
            and not services.required(user)
        ):
            return None
        name = request.resolver_match.view_name if request.resolver_match else ""
        if name in ALWAYS:
            return None
        if services.enrolled(user):
            if name in AT_THE_STEP:
                return None
            return redirect_to_login(request.get_full_path(), login_url="twostep:verify")
        if services.required(user):
            if name in AT_THE_ENROLMENT:
                return None
            return redirect("twostep:setup")
        request.session[PASSWORD_ONLY] = signed_in_at
        return None

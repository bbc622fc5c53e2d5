"""What a session knows of its account's second factors, and when it last proved who
it is.

- The account's factors: every enrolment and support's reset counts one more on the
  account (User.factors_version, twostep.services). A session records the count at
  sign-in (twostep.signals) and when it changes the factors itself; a session that
  has not passed the second step and holds an older count is ended
  (twostep.middleware): it can never go on with the password alone once the account
  has a factor, or after support reset the factors (a verified session whose device
  was removed is one of them).
- The last proof (sudo mode): the sign-in's password (the session limits' AUTH_AT),
  the second step, and the re-confirmation page (本人確認). A sensitive change asks
  again when it is older than SUDO_MAX_AGE (twostep.guards.sudo_required).
- The session key changes when the second step passes (second_step_passed), as it
  does at sign-in.
"""

import time

from django.conf import settings

from accounts.middleware import AUTH_AT

FACTORS_SEEN = "_twostep_factors"
PROOF_AT = "_proof_at"


def factors_seen(request, user=None) -> None:
    """This session knows the account's factors as they are now."""
    user = user or request.user
    request.session[FACTORS_SEEN] = user.factors_version


def factors_changed(request) -> bool:
    """Whether the account's factors changed since this session last knew them."""
    return request.session.get(FACTORS_SEEN, 0) != request.user.factors_version


def proved(request) -> None:
    """The session proved its account just now (a password, a second factor)."""
    request.session[PROOF_AT] = int(time.time())


def proof_is_fresh(request) -> bool:
    """Whether the session's last proof is younger than SUDO_MAX_AGE."""
    last = max(request.session.get(PROOF_AT, 0), request.session.get(AUTH_AT, 0))
    return time.time() - last <= settings.SUDO_MAX_AGE.total_seconds()


def second_step_passed(request) -> None:
    """The second step passed (a code, a passkey): a new session key, the data kept,
    and a fresh proof."""
    request.session.cycle_key()
    proved(request)

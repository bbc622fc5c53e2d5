"""Sessions follow the account's second factors: an enrolment elsewhere, a renewal of
the recovery codes, TWO_STEP_REQUIRED turned on and support's reset end (or send to
the enrolment) every session of the account that has not passed the second step; such
a session never removes a factor or renews the codes, even where the middleware does
not stop it; the session key changes when the second step passes."""

import json

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential

from accounts.middleware import AUTH_AT
from tests.conftest import login_verified
from tests.devicekeys.browser import sign_in
from tests.twostep.test_twostep import APP, CONSOLE, SETUP, VERIFY, code_of, enrol_app
from twostep import services

LOGIN = reverse("accounts:login")
SIGNED_OUT = "二段階認証の設定が変更されたため、ログアウトしました。"


def password_only(login_id="admin-a") -> Client:
    """A browser signed in with the password alone, its answer kept (one page seen)."""
    browser = Client()
    sign_in(browser, login_id)
    assert browser.get(CONSOLE).status_code == 200
    return browser


def at_the_second_step(login_id="admin-a") -> Client:
    browser = Client()
    sign_in(browser, login_id)
    assert browser.get(CONSOLE).url.startswith(VERIFY)
    return browser


def signed_out(browser) -> bool:
    response = browser.get(CONSOLE)
    if not response.url.startswith(LOGIN):
        return False
    return SIGNED_OUT in browser.get(response.url).text


def passkey_of(user, name="Passkey 1") -> WebAuthnCredential:
    return WebAuthnCredential.objects.create(
        user=user,
        name=name,
        confirmed=True,
        credential_id=name.encode(),
        public_key=b"key",
        aaguid="00000000-0000-0000-0000-000000000000",
    )


def test_an_app_enrolled_elsewhere_ends_the_password_only_sessions(admin_a):
    here, elsewhere = password_only(), password_only()
    enrol_app(here)
    assert here.get(CONSOLE).status_code == 200  # the enrolment verified this one
    assert signed_out(elsewhere)
    assert sign_in(elsewhere, "admin-a").url == CONSOLE
    assert elsewhere.get(CONSOLE).url.startswith(VERIFY)  # now it needs the second step


def test_a_passkey_registered_elsewhere_ends_the_password_only_sessions(admin_a):
    elsewhere = password_only()
    services.passkey_registered(user=admin_a, device=passkey_of(admin_a), actor=admin_a)
    assert signed_out(elsewhere)


def test_new_recovery_codes_end_the_sessions_waiting_at_the_second_step(admin_a):
    _device, _codes = enrol_app(password_only())
    waiting = at_the_second_step()
    verified = login_verified(Client(), admin_a)
    assert verified.post(reverse("twostep:recovery-codes")).status_code == 200
    assert signed_out(waiting)
    assert verified.get(CONSOLE).status_code == 200  # a session past the step goes on


def test_two_step_required_turned_on_sends_a_password_only_session_to_enrol(settings, admin_a):
    browser = password_only()
    settings.TWO_STEP_REQUIRED = True
    assert browser.get(CONSOLE).url == SETUP
    assert browser.get(reverse("accounts:user-list")).url == SETUP


def test_supports_reset_ends_every_session_of_the_account(client, support_staff, admin_a):
    _device, codes = enrol_app(password_only())
    verified, waiting = Client(), at_the_second_step()
    sign_in(verified, "admin-a")
    assert verified.post(VERIFY, {"code": codes[0], "next": CONSOLE}).url == CONSOLE
    services.two_step_reset(user=admin_a, actor=support_staff)
    assert signed_out(verified)
    assert signed_out(waiting)
    again = Client()
    sign_in(again, "admin-a")
    assert again.get(CONSOLE).status_code == 200  # a new sign-in: the password alone


def test_a_session_that_holds_the_password_alone_never_removes_or_renews(settings, admin_a):
    """Even with the middleware out of the way, the pages themselves refuse."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("twostep.")]
    device, codes = enrol_app(password_only())
    passkey = passkey_of(admin_a)
    browser = Client()
    sign_in(browser, "admin-a")  # no step asked for: the middleware is gone
    refused = [
        browser.post(reverse("twostep:app-remove")),
        browser.post(APP, {"start": "1"}),
        browser.post(reverse("twostep:passkey-delete", args=[passkey.pk])),
        browser.post(reverse("twostep:passkey-rename", args=[passkey.pk]), {"name": "mine"}),
        browser.post(reverse("twostep:recovery-codes")),
    ]
    assert [response.status_code for response in refused] == [403] * 5
    assert TOTPDevice.objects.get(user=admin_a) == device
    passkey.refresh_from_db()
    assert passkey.name == "Passkey 1"
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(codes)


def test_the_session_key_changes_at_the_second_step_and_the_session_goes_on(admin_a):
    device, _codes = enrol_app(password_only())
    browser = at_the_second_step()
    before = browser.cookies[settings.SESSION_COOKIE_NAME].value
    signed_in_at = browser.session[AUTH_AT]
    passed = browser.post(VERIFY, {"code": code_of(device, later=30), "next": CONSOLE})
    assert passed.url == CONSOLE
    after = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert browser.session[AUTH_AT] == signed_in_at  # the session's data kept
    assert browser.get(CONSOLE).status_code == 200


def test_the_session_key_changes_when_a_passkey_passes_the_second_step(monkeypatch, admin_a):
    passkey = passkey_of(admin_a)
    monkeypatch.setattr(WebAuthnHelper, "authenticate_complete", lambda *a, **k: passkey)
    browser = at_the_second_step()
    session = browser.session
    session["otp_webauthn_authentication_state"] = {"challenge": "c"}
    session.save()
    before = browser.cookies[settings.SESSION_COOKIE_NAME].value
    response = browser.post(
        reverse("otp_webauthn:credential-authentication-complete"),
        json.dumps({}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert browser.cookies[settings.SESSION_COOKIE_NAME].value != before
    assert browser.get(CONSOLE).status_code == 200


def console_queries(client) -> int:
    client.get(CONSOLE)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(CONSOLE).status_code == 200
    return len(captured)


def test_a_password_only_administrators_page_costs_no_query_for_the_second_step(settings, admin_a):
    with_it = console_queries(password_only())
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("twostep.")]
    assert console_queries(password_only()) == with_it


def test_without_a_factor_no_recovery_codes_are_offered(admin_a):
    """Codes back up a factor; a session without one may not renew them (403)."""
    browser = password_only()
    assert reverse("twostep:recovery-codes") not in browser.get(SETUP).text
    assert browser.post(reverse("twostep:recovery-codes")).status_code == 403

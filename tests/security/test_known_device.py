"""An attacker's lockout never locks out the rightful user: failures lock the (login ID,
address) pair, and the account-wide ceiling does not hold back a browser that has
proved itself for the account (its known-device cookie from a completed sign-in, or a
user ID's registered key). Two clients at two addresses through one trusted proxy."""

from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import known_device
from accounts.services import administrator_password_change
from devicekeys import credentials
from devicekeys.services import device_key_issue
from tests.conftest import SETUP
from tests.devicekeys.browser import HOME, KEY_STEP, enter_key, sign_in
from tests.twostep.test_twostep import code_of

PROXY = "10.0.0.1"
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"
ELSEWHERE = "192.0.2.44"
CONSOLE = reverse("accounts:console")
LOGOUT = reverse("accounts:logout")
VERIFY = reverse("twostep:verify")
COOKIE = known_device.COOKIE_NAME
CEILING_REFUSED = "ログインの失敗が続いたため"


@pytest.fixture
def proxied(settings):
    """One trusted proxy in front, and a ceiling low enough to reach quickly (still above
    django-axes' five failures a pair)."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_FAILURE_LIMIT = 8
    settings.ACCOUNT_FAILURE_WINDOW = timedelta(minutes=60)
    settings.ACCOUNT_FAILURE_DELAY = timedelta(minutes=1)
    return settings


def at(address: str) -> Client:
    """A browser at `address`, behind the proxy (which appends that address)."""
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address)


def moved(client: Client, address: str) -> Client:
    """The same browser (its cookies), now at another address."""
    client.defaults["HTTP_X_FORWARDED_FOR"] = address
    return client


def signed_in_once(login_id: str, address: str = OWNER) -> Client:
    """A browser in which `login_id` completed a sign-in (the administrator's console
    reached) and then signed out."""
    client = at(address)
    assert sign_in(client, login_id).url == CONSOLE
    assert client.get(CONSOLE).status_code == 200
    client.post(LOGOUT)
    return client


def attack(login_id: str, times: int, address: str = ATTACKER) -> Client:
    attacker = at(address)
    for n in range(times):
        sign_in(attacker, login_id, f"Guess{n}x7Q")
    return attacker


def test_the_attacker_is_locked_and_the_rightful_administrator_signs_in(proxied, admin_a):
    owner = signed_in_once("admin-a")
    attacker = attack("admin-a", proxied.ACCOUNT_FAILURE_LIMIT + 4)
    # The attacker's pair is locked (django-axes), and the account's ceiling is reached.
    locked = sign_in(attacker, "admin-a")
    assert locked.status_code == 429
    # A browser that never signed in, at a third address: the ceiling's delay applies.
    stranger = sign_in(at(ELSEWHERE), "admin-a")
    assert stranger.status_code == 429 and CEILING_REFUSED in stranger.text
    # The administrator's own browser, at their own address: in.
    assert sign_in(owner, "admin-a").url == CONSOLE
    assert owner.get(CONSOLE).status_code == 200


def test_the_cookie_outlives_sign_out_and_the_session(proxied, admin_a):
    owner = signed_in_once("admin-a")
    assert COOKIE in owner.cookies  # signed out, the session gone: the cookie stays
    owner.cookies.pop("sessionid", None)
    with time_machine.travel(timezone.now() + timedelta(days=150)):
        attack("admin-a", proxied.ACCOUNT_FAILURE_LIMIT)
        assert sign_in(owner, "admin-a").url == CONSOLE


def test_the_cookie_is_http_only_lax_months_long_and_secure_with_the_session_cookie(
    settings, admin_a
):
    for secure in (False, True):
        settings.SESSION_COOKIE_SECURE = secure
        client = Client()
        sign_in(client, "admin-a")
        cookie = client.get(CONSOLE).cookies[COOKIE]
        assert bool(cookie["secure"]) is secure
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert int(cookie["max-age"]) >= 90 * 24 * 3600


def test_no_exemption_for_a_forged_cookie(proxied, admin_a):
    owner = signed_in_once("admin-a")
    attack("admin-a", proxied.ACCOUNT_FAILURE_LIMIT)
    value = owner.cookies[COOKIE].value
    forgeries = [
        value[:-2] + ("AA" if not value.endswith("AA") else "BB"),  # a changed signature
        signing.dumps([[admin_a.pk, "device", "check", 0]], salt="accounts.known_device"),
        signing.dumps([[admin_a.pk, "device", "0" * 64, 2**40]], salt="another"),
        "garbage",
    ]
    for forged in forgeries:
        browser = at(OWNER)
        browser.cookies[COOKIE] = forged
        refused = sign_in(browser, "admin-a")
        assert refused.status_code == 429 and CEILING_REFUSED in refused.text, forged
    assert sign_in(owner, "admin-a").url == CONSOLE  # the genuine one


def test_no_exemption_for_another_accounts_cookie(proxied, admin_a, admin_b):
    admins_b = signed_in_once("admin-b")
    owner = signed_in_once("admin-a", ELSEWHERE)
    attack("admin-a", proxied.ACCOUNT_FAILURE_LIMIT)
    assert sign_in(admins_b, "admin-a").status_code == 429
    assert sign_in(owner, "admin-a").url == CONSOLE


def test_no_exemption_for_an_expired_cookie(proxied, admin_a):
    owner = signed_in_once("admin-a")
    lifetime = proxied.KNOWN_DEVICE_LIFETIME
    with time_machine.travel(timezone.now() + lifetime - timedelta(days=1)):
        attack("admin-a", proxied.ACCOUNT_FAILURE_LIMIT)
        # In (the sign-in alone, without reaching the console, hands out no new cookie).
        assert sign_in(owner, "admin-a").url == CONSOLE
    with time_machine.travel(timezone.now() + lifetime + timedelta(days=1)):
        attack("admin-a", proxied.ACCOUNT_FAILURE_LIMIT, address=ELSEWHERE)
        assert sign_in(owner, "admin-a").status_code == 429


def test_a_new_password_ends_every_cookie_issued_before_it(proxied, admin_a):
    stolen = signed_in_once("admin-a")
    attack("admin-a", proxied.ACCOUNT_FAILURE_LIMIT)
    assert sign_in(stolen, "admin-a").url == CONSOLE
    new = "Kp4wZt8Rq2"
    administrator_password_change(
        contract=admin_a.contract, actor=admin_a, user=admin_a, password=new
    )
    attack("admin-a", proxied.ACCOUNT_FAILURE_LIMIT, address=ELSEWHERE)
    assert sign_in(stolen, "admin-a", new).status_code == 429


def test_a_known_devices_own_failures_still_hold_it_back(proxied, admin_a):
    """Failures from elsewhere do not delay it, its own do: a stolen cookie buys no more
    guesses than the ceiling allows."""
    thief = signed_in_once("admin-a")
    attack("admin-a", proxied.ACCOUNT_FAILURE_LIMIT)
    for n in range(proxied.ACCOUNT_FAILURE_LIMIT):
        moved(thief, f"203.0.113.{1 + n // 4}")  # under django-axes' five a pair
        assert sign_in(thief, "admin-a", f"Guess{n}x7Q").status_code == 200  # read, wrong
    refused = sign_in(moved(thief, ELSEWHERE), "admin-a")
    assert refused.status_code == 429 and CEILING_REFUSED in refused.text


def test_a_few_typos_of_the_owner_keep_the_exemption(proxied, admin_a):
    owner = signed_in_once("admin-a")
    attack("admin-a", proxied.ACCOUNT_FAILURE_LIMIT)
    for n in range(3):
        assert sign_in(owner, "admin-a", f"Typo{n}x7Q").status_code == 200
    assert sign_in(owner, "admin-a").url == CONSOLE


def test_a_user_ids_registered_key_is_proof_too(proxied, users_a):
    taro = users_a[0]
    key = device_key_issue(contract=taro.contract, user=taro, actor=SETUP)
    office = at(OWNER)
    assert sign_in(office, taro.login_id).url == KEY_STEP
    assert enter_key(office, key.key).url == HOME
    office.post(LOGOUT)
    office.cookies.pop(COOKIE)  # the key's credential alone
    assert credentials.COOKIE_NAME in office.cookies
    attack(taro.login_id, proxied.ACCOUNT_FAILURE_LIMIT)
    assert sign_in(office, taro.login_id).url == HOME


def test_the_cookie_waits_for_the_second_step(proxied, admin_a):
    device = TOTPDevice.objects.create(user=admin_a, name="authenticator", confirmed=True)
    browser = at(OWNER)
    assert sign_in(browser, "admin-a").url == CONSOLE
    assert browser.get(CONSOLE).url.startswith(VERIFY)
    assert COOKIE not in browser.cookies  # a right password alone proves no device
    passed = browser.post(VERIFY, {"code": code_of(device), "next": CONSOLE})
    assert passed.url == CONSOLE
    assert COOKIE in passed.cookies

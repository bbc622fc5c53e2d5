"""One client address, everywhere (core.clientip): behind TRUSTED_PROXY_COUNT proxies the
client is the entry the outermost of them appended to X-Forwarded-For, whatever the
client wrote in front of it; with 0 the header is ignored entirely. The sign-in
lockout, the device-key limit, the reset limit, ログ管理 and a key's last address all see
that one address."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.throttling import RESETS_PER_ADDRESS
from audit.actions import Action
from audit.models import AuditEntry
from core.clientip import client_address
from devicekeys.models import WrongEntryFromAddress
from devicekeys.services import device_key_issue
from tests.conftest import SETUP
from tests.devicekeys.browser import HOME, KEY_STEP, browser, enter_key, sign_in

PROXY = "10.0.0.1"  # the TLS proxy in front of gunicorn: the peer of every connection
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"
FORGED = "192.0.2.99"  # what a client writes into X-Forwarded-For itself
CONSOLE = reverse("accounts:console")
FORGOT = reverse("accounts:password-reset")
WRONG_KEY = "Wrong123"


def address(remote: str, forwarded: str | None = None) -> str | None:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "client"),
    [
        # One proxy: the last entry, the one it appended.
        (1, PROXY, "203.0.113.7", "203.0.113.7"),
        (1, PROXY, f"{FORGED}, 203.0.113.7", "203.0.113.7"),
        (1, PROXY, f"{FORGED},{FORGED} ,  203.0.113.7", "203.0.113.7"),
        (1, PROXY, "garbage, 203.0.113.7", "203.0.113.7"),
        # An unclosed quote in front would make a quote-aware parser swallow the rest.
        (1, PROXY, f'{FORGED}, "x, 203.0.113.7', "203.0.113.7"),
        (1, PROXY, '"unclosed, 203.0.113.7', "203.0.113.7"),
        (1, PROXY, "  2001:DB8::1  ", "2001:db8::1"),
        (1, PROXY, f"{FORGED}, [2001:db8::7]:51000", "2001:db8::7"),
        (1, PROXY, "::ffff:198.51.100.2", "198.51.100.2"),
        # Two proxies: the second entry from the right.
        (2, "10.0.0.2", f"{FORGED}, 203.0.113.7, {PROXY}", "203.0.113.7"),
        (2, "10.0.0.2", f"203.0.113.7, {PROXY}", "203.0.113.7"),
    ],
)
def test_the_client_is_the_entry_the_outermost_trusted_proxy_appended(
    settings, proxies, remote, forwarded, client
):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert address(remote, forwarded) == client


@pytest.mark.parametrize(
    ("proxies", "remote", "broken"),
    [
        (1, PROXY, None),
        (1, PROXY, ""),
        (1, PROXY, "203.0.113.7,  "),  # an empty last entry
        (1, PROXY, "garbage"),
        (1, PROXY, f"{FORGED}, garbage"),
        (1, PROXY, "0.0.0.0"),  # noqa: S104 (an address a client sent, not a bind)
        (1, PROXY, "unknown"),
        (2, "10.0.0.2", PROXY),  # fewer entries than proxies
        (2, "10.0.0.2", "203.0.113.7, garbage"),
    ],
)
def test_without_the_proxies_entries_the_peer_counts_never_a_forged_entry(
    settings, proxies, remote, broken
):
    """Too few entries, or no address where the proxies write: the request did not come
    through every proxy, and its peer is the address (what the client wrote is not)."""
    settings.TRUSTED_PROXY_COUNT = proxies
    well_formed = ", ".join([FORGED, "203.0.113.7", *[PROXY] * (proxies - 1)])
    assert address(remote, well_formed) == "203.0.113.7"
    assert address(remote, broken) == remote


def test_with_no_trusted_proxy_the_header_is_ignored_entirely(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert address(PROXY, "203.0.113.7") == "203.0.113.7"
    settings.TRUSTED_PROXY_COUNT = 0
    assert address(PROXY, "203.0.113.7") == PROXY
    assert address(PROXY, f"{FORGED}, 203.0.113.7") == PROXY
    assert address("::ffff:198.51.100.2", "203.0.113.7") == "198.51.100.2"
    assert address("", "203.0.113.7") is None


def through_proxy(address: str, **defaults):
    """A browser at `address` behind the proxy, writing a forged entry of its own in
    front (the proxy appends the address it received from)."""
    return browser(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{FORGED}, {address}", **defaults)


def test_the_sign_in_lockout_holds_the_client_behind_the_proxy(settings, admin_a):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = through_proxy(ATTACKER)
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(attacker, "admin-a", f"Guess{n}x7Q")
    assert sign_in(attacker, "admin-a").status_code == 429
    assert sign_in(through_proxy(OWNER), "admin-a").url == CONSOLE  # the lock is the pair's

    settings.TRUSTED_PROXY_COUNT = 0  # no proxy trusted: everyone is the proxy's address
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(through_proxy(f"203.0.113.{n + 1}"), "admin-a", f"Again{n}x7Q")
    assert sign_in(through_proxy(OWNER), "admin-a").status_code == 429


def test_the_device_key_limit_holds_the_client_behind_the_proxy(settings, users_a):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.DEVICE_KEY_IP_FAILURE_LIMIT = 2
    taro, hana = users_a
    device_key_issue(contract=taro.contract, user=taro, actor=SETUP)
    hanas = device_key_issue(contract=hana.contract, user=hana, actor=SETUP)
    guesser = through_proxy(ATTACKER)
    sign_in(guesser, taro.login_id)
    for _ in range(settings.DEVICE_KEY_IP_FAILURE_LIMIT):
        enter_key(guesser, WRONG_KEY)
    assert sign_in(guesser, taro.login_id).url == KEY_STEP
    assert enter_key(guesser, WRONG_KEY).status_code == 429  # this address waits
    colleague = through_proxy(OWNER)
    assert sign_in(colleague, hana.login_id).url == KEY_STEP
    assert enter_key(colleague, hanas.key).url == HOME  # another address does not
    assert set(WrongEntryFromAddress.objects.values_list("ip", flat=True)) == {ATTACKER}

    settings.TRUSTED_PROXY_COUNT = 0
    WrongEntryFromAddress.objects.all().delete()
    for address in ("203.0.113.1", "203.0.113.2"):
        other = through_proxy(address)
        sign_in(other, taro.login_id)
        enter_key(other, WRONG_KEY)
    assert set(WrongEntryFromAddress.objects.values_list("ip", flat=True)) == {PROXY}


def test_the_reset_limit_holds_the_client_behind_the_proxy(
    settings, admin_a, mailoutbox, django_capture_on_commit_callbacks
):
    settings.TRUSTED_PROXY_COUNT = 1
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(RESETS_PER_ADDRESS):
            through_proxy(ATTACKER).post(FORGOT, {"login_id": f"someone-{n}"})
        through_proxy(OWNER).post(FORGOT, {"login_id": "admin-a"})
    assert len(mailoutbox) == 1  # the attacker's address is limited, the owner's is not

    settings.TRUSTED_PROXY_COUNT = 0
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(RESETS_PER_ADDRESS):
            through_proxy(f"203.0.113.{n + 1}").post(FORGOT, {"login_id": f"other-{n}"})
        through_proxy(OWNER).post(FORGOT, {"login_id": "admin-a"})
    assert len(mailoutbox) == 1  # all one address, the proxy's: limited


def test_the_audit_log_and_the_key_record_the_client_behind_the_proxy(settings, admin_a, users_a):
    settings.TRUSTED_PROXY_COUNT = 1
    taro = users_a[0]
    key = device_key_issue(contract=taro.contract, user=taro, actor=SETUP)
    office = through_proxy(OWNER)
    assert sign_in(office, taro.login_id).url == KEY_STEP
    assert enter_key(office, key.key).url == HOME
    key.refresh_from_db()
    assert key.last_ip == OWNER
    assert sign_in(through_proxy(OWNER), "admin-a").url == CONSOLE
    signed_in = AuditEntry.objects.filter(action=Action.SIGN_IN, target="admin-a")
    assert signed_in.get().actor_ip == OWNER

    settings.TRUSTED_PROXY_COUNT = 0
    assert sign_in(through_proxy(OWNER), "admin-a").url == CONSOLE
    assert signed_in.latest("pk").actor_ip == PROXY

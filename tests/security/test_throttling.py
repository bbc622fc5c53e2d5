"""Password guesses and wrong keys are throttled wherever they are made (hostile input,
round two): the current password of a password change counts as a failed sign-in;
one account has a ceiling on failures from any addresses, which never locks its
owner out for longer than its window; wrong device keys are limited per address and
contract, so that one contract's failures never lock another's office."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import SignInFailures
from audit.actions import Action
from audit.models import AuditEntry
from devicekeys.rules import Status
from devicekeys.services import device_key_issue
from tests.conftest import PASSWORD, SETUP
from tests.devicekeys.browser import HOME, KEY_STEP, browser, enter_key, sign_in, signed_in_user

PASSWORD_CHANGE = reverse("accounts:password-change")
CONSOLE = reverse("accounts:console")
WRONG_KEY = "Wrong123"  # well formed, and not the key
NEW_PASSWORD = "Zr8wKq3Xv6"


def change_password(client, current, new=NEW_PASSWORD, **extra):
    return client.post(
        PASSWORD_CHANGE,
        {"current_password": current, "password": new, "password_confirm": new},
        **extra,
    )


def register(client, user, key_value):
    assert sign_in(client, user.login_id).url == KEY_STEP
    return enter_key(client, key_value)


def fresh(key):
    key.refresh_from_db()
    return key


def issue(user):
    return device_key_issue(contract=user.contract, user=user, actor=SETUP)


def entries(action):
    return AuditEntry.objects.filter(action=action).count()


# --- The current password of a password change -----------------------------------------


def test_guessing_the_current_password_is_throttled_like_a_sign_in(users_a):
    taro = users_a[0]
    home = signed_in_user(taro)
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        response = change_password(home, f"Guess{n}x7Q")
        assert response.status_code == 200
        assert "現在のパスワードが正しくありません。" in response.text
    fifth = change_password(home, "Guess9x7Q")
    assert fifth.status_code == 429
    assert "ログインに続けて失敗したため" in fifth.text and "15分後" in fifth.text
    # The right password is no longer told apart, here or at the sign-in page.
    right = change_password(home, PASSWORD)
    assert right.status_code == 429
    assert "現在のパスワードが正しくありません" not in right.text
    taro.refresh_from_db()
    assert taro.check_password(PASSWORD)
    assert sign_in(browser(), "taro-a").status_code == 429
    # ログ管理, under the login ID's contract and by taro-a (現在のパスワード誤り, not a
    # failed sign-in); and no password kept by the throttle.
    failed = AuditEntry.objects.filter(action=Action.CURRENT_PASSWORD_WRONG, target="taro-a")
    assert failed.count() >= settings.AXES_FAILURE_LIMIT
    assert {(entry.contract_id, entry.actor_login_id) for entry in failed} == {
        (taro.contract_id, "taro-a")
    }
    assert entries(Action.SIGN_IN_THROTTLED) >= 1
    kept = repr(list(AccessAttempt.objects.values()))
    assert "Guess" not in kept and PASSWORD not in kept and NEW_PASSWORD not in kept


def test_the_right_current_password_still_changes_it(users_a):
    home = signed_in_user(users_a[0])
    change_password(home, "Guess1x7Q")
    assert change_password(home, PASSWORD).url == HOME
    users_a[0].refresh_from_db()
    assert users_a[0].check_password(NEW_PASSWORD)


# --- The account-wide ceiling ----------------------------------------------------------


@pytest.fixture
def ceiling(settings):
    settings.ACCOUNT_FAILURE_LIMIT = 8
    settings.ACCOUNT_FAILURE_WINDOW = timedelta(minutes=60)
    settings.ACCOUNT_FAILURE_DELAY = timedelta(minutes=1)
    return settings


def guesses(login_id, count, *, first_address=1):
    """`count` wrong passwords, from a new address every four (under the per-address
    lockout of five). Returns the responses."""
    responses = []
    for n in range(count):
        address = f"198.51.100.{first_address + n // 4}"
        responses.append(sign_in(Client(REMOTE_ADDR=address), login_id, f"Guess{n}x7Q"))
    return responses


def test_failures_from_many_addresses_reach_the_ceiling_and_the_administrator_is_mailed(
    ceiling, admin_a, users_a, mailoutbox, django_capture_on_commit_callbacks
):
    with time_machine.travel("2026-04-01 10:00 +0900", tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            responses = guesses("taro-a", ceiling.ACCOUNT_FAILURE_LIMIT)
        assert all(response.status_code == 200 for response in responses)  # no address locked
        # The owner, from an address of their own, with the right password: refused.
        owner = Client(REMOTE_ADDR="203.0.113.9")
        refused = sign_in(owner, "taro-a")
        assert refused.status_code == 429
        assert "ログインの失敗が続いたため" in refused.text and "1分後" in refused.text
        # Mailed once, to the contract's administrator, naming the login ID.
        [mail] = mailoutbox
        assert mail.to == [admin_a.email]
        assert "taro-a" in mail.body
        # A refused attempt reads no password and counts nowhere.
        failures = SignInFailures.objects.get(user=users_a[0]).failures
        sign_in(owner, "taro-a", "Guess99x7Q")
        assert SignInFailures.objects.get(user=users_a[0]).failures == failures
        # After the delay, the owner is in, and the run is over.
        clock.shift(timedelta(minutes=1, seconds=1))
        assert sign_in(owner, "taro-a").url == KEY_STEP
        assert not SignInFailures.objects.filter(user=users_a[0]).exists()


def test_the_delay_doubles_but_never_outlasts_the_window(ceiling, users_a, mailoutbox):
    limit = ceiling.ACCOUNT_FAILURE_LIMIT
    delays = []
    with time_machine.travel("2026-04-01 10:00 +0900", tick=False) as clock:
        guesses("taro-a", limit - 1)
        for n in range(10):  # each failure after the last delay has passed
            response = sign_in(Client(REMOTE_ADDR=f"192.0.2.{n + 1}"), "taro-a", f"Again{n}x7Q")
            assert response.status_code == 200, response.text
            row = SignInFailures.objects.get(user=users_a[0])
            assert row.refused_until is not None, (n, row.failures, row.last_failure_at)
            delay = row.refused_until - row.last_failure_at
            delays.append(int(delay.total_seconds() // 60))
            clock.shift(delay + timedelta(seconds=1))
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    assert entries(Action.ACCOUNT_THROTTLED) == 10
    assert len(mailoutbox) <= 1  # one mail a run (none here: no commit callbacks run)


def test_a_quiet_window_starts_a_new_run(ceiling, users_a):
    limit = ceiling.ACCOUNT_FAILURE_LIMIT
    with time_machine.travel("2026-04-01 10:00 +0900", tick=False) as clock:
        guesses("taro-a", limit - 1)
        clock.shift(ceiling.ACCOUNT_FAILURE_WINDOW + timedelta(minutes=1))
        guesses("taro-a", limit - 1, first_address=50)
        assert sign_in(Client(REMOTE_ADDR="203.0.113.9"), "taro-a").url == KEY_STEP


def test_an_administrator_is_mailed_about_their_own_login_id(
    ceiling, admin_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        guesses("admin-a", ceiling.ACCOUNT_FAILURE_LIMIT)
    [mail] = mailoutbox
    assert mail.to == [admin_a.email]
    assert sign_in(Client(REMOTE_ADDR="203.0.113.9"), "admin-a").status_code == 429


def test_an_unknown_login_id_keeps_no_count(ceiling, db):
    guesses("nobody-here", ceiling.ACCOUNT_FAILURE_LIMIT + 2)
    assert not SignInFailures.objects.exists()


def test_the_ceiling_also_refuses_the_current_password_check(ceiling, users_a):
    """The signed-in browser is a known device (tests/security/test_known_device.py):
    its own failures are the ones that hold it back."""
    home = signed_in_user(users_a[0])
    for n in range(ceiling.ACCOUNT_FAILURE_LIMIT):
        change_password(home, f"Guess{n}x7Q", REMOTE_ADDR=f"198.51.100.{1 + n // 4}")
    response = change_password(home, PASSWORD, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429
    assert "ログインの失敗が続いたため" in response.text
    users_a[0].refresh_from_db()
    assert users_a[0].check_password(PASSWORD)


# --- Wrong device keys: per address and contract ----------------------------------------


def test_wrong_keys_are_throttled_per_ip_address_and_contract_whatever_the_login_id(
    settings, users_a, users_b
):
    settings.DEVICE_KEY_IP_FAILURE_LIMIT = 3
    taros, hanas, jiros = (issue(user) for user in (users_a[0], users_a[1], users_b[0]))
    with time_machine.travel("2026-04-01 10:00 +0900", tick=False) as clock:
        office = browser(REMOTE_ADDR="203.0.113.7")
        sign_in(office, "taro-a")
        enter_key(office, WRONG_KEY)
        clock.shift(timedelta(minutes=5))
        enter_key(office, WRONG_KEY)
        sign_in(office, "hana-a")
        enter_key(office, WRONG_KEY)

        sign_in(office, "hana-a")
        response = enter_key(office, hanas.key)  # even the right key is not compared now
        assert response.status_code == 429
        # The oldest of the three is 5 minutes old: the address waits 10 more minutes.
        assert "一時的に制限" in response.text and "10分後" in response.text
        assert not fresh(hanas).is_registered
        # Another contract's user behind the same address is not throttled.
        assert register(browser(REMOTE_ADDR="203.0.113.7"), users_b[0], jiros.key).url == HOME

        clock.shift(timedelta(minutes=10, seconds=1))
        sign_in(office, "hana-a")
        assert enter_key(office, hanas.key).url == HOME
    assert fresh(taros).status == Status.ACTIVE

"""The app API under attack: no oracle between a wrong login ID, password or key;
every secret check throttled with 429 and Retry-After (shared with the browser's
sign-in); three strikes that hold when guesses arrive at once; any parameters
answered with a JSON error and nothing changed; tokens kept only as hashes."""

import hashlib
import string
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.forms import GRANT_TYPE
from api.models import AppRegistration, AppToken
from devicekeys import rules
from devicekeys import services as keys
from devicekeys.models import DeviceKey
from devicekeys.rules import Status
from tests.api.conftest import TOKEN, grant
from tests.conftest import SETUP
from tests.devicekeys.browser import browser, enter_key, sign_in
from tests.parallel import at_the_same_moment, on_postgresql

WRONG_KEY = "Wrong123"
ERRORS = {"invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type"}


@pytest.fixture
def waiting_key(users_a):
    taro = users_a[0]
    return keys.device_key_issue(contract=taro.contract, user=taro, actor=SETUP)


def test_wrong_passwords_lock_the_login_id_and_address_with_retry_after(waiting_key):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert grant(password="Wrong7pass").status_code == 400
    locked = grant(password="Wrong7pass")
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert locked.json()["error"] == "slow_down"
    # The right password and key get the same answer now, and so does the sign-in page.
    assert grant(device_key=waiting_key.key).status_code == 429
    assert sign_in(browser(), "taro-a").status_code == 429
    assert not DeviceKey.objects.get(pk=waiting_key.pk).is_registered


def test_the_account_ceiling_is_shared_with_the_browser(settings, waiting_key):
    settings.ACCOUNT_FAILURE_LIMIT = 4
    for n in range(4):  # from four addresses, under the per-address lockout
        browser(REMOTE_ADDR=f"198.51.100.{n + 1}").post(
            "/login/", {"username": "taro-a", "password": f"Guess{n}x7Q"}
        )
    refused = grant(device_key=waiting_key.key)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60


def test_wrong_keys_per_address_are_shared_with_the_browser(settings, users_a, waiting_key):
    settings.DEVICE_KEY_IP_FAILURE_LIMIT = 3
    office = browser()
    sign_in(office, "hana-a")
    keys.device_key_issue(contract=users_a[1].contract, user=users_a[1], actor=SETUP)
    enter_key(office, WRONG_KEY)
    enter_key(office, WRONG_KEY)
    assert grant(device_key=WRONG_KEY).status_code == 400  # the third, from the same address
    refused = grant(device_key=waiting_key.key)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert not DeviceKey.objects.get(pk=waiting_key.pk).is_registered


@on_postgresql("needs real row locks and parallel connections; SQLite serialises all writers")
def test_parallel_wrong_keys_from_apps_get_no_fourth_try(waiting_key):
    calls = [
        lambda n=n: grant(
            Client(REMOTE_ADDR=f"192.0.2.{n}"), device_key=f"Guess{n:03d}", client_id="tool"
        ).json()["error"]
        for n in range(8)
    ]
    assert set(at_the_same_moment(*calls)) == {"invalid_grant"}
    assert DeviceKey.objects.get(pk=waiting_key.pk).status == Status.INVALID
    from audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="device_key_wrong").count() == rules.WRONG_ENTRY_LIMIT


@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_tokens_are_kept_only_as_hashes(waiting_key, contract_a, kind):
    token = grant(device_key=waiting_key.key).json()[kind]
    stored = "".join(
        repr(list(model.objects.values())) for model in (DeviceKey, AppRegistration, AppToken)
    )
    assert token not in stored and token[4:] not in stored
    secret = token.partition(".")[2]
    assert secret not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored


PARAMETER_NAMES = st.sampled_from(
    ["grant_type", "client_id", "username", "password", "device_key", "device_name", "x"]
)
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from([GRANT_TYPE, "ios", "taro-a", "Vq7xLp3Rz9", "", "\x00", "Ａ" * 10]),
    st.text(alphabet=string.ascii_letters + string.digits, min_size=8, max_size=8),
)


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(PARAMETER_NAMES, VALUES), max_size=10))
def test_any_parameters_get_a_json_error_or_a_token_and_never_a_crash(waiting_key, pairs):
    response = Client(REMOTE_ADDR="203.0.113.50").post(
        TOKEN, urlencode(pairs), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in {200, 400, 401, 429}
    body = response.json()
    if response.status_code == 200:
        assert body["token_type"] == "Bearer"
    else:
        assert body["error"] in ERRORS | {"slow_down"}
    assert DeviceKey.objects.filter(registered_at__isnull=False).count() <= 1


def test_a_console_session_opens_nothing_in_the_api(admin_client_a, waiting_key, users_a):
    """No ambient authority: the API reads no cookie, so a signed-in administrator's
    or user ID's browser (or a page that makes it send requests) gets nowhere."""
    from tests.api.conftest import INTROSPECT, STATUS, post_form
    from tests.devicekeys.browser import signed_in_user

    for browser_client in (admin_client_a, signed_in_user(users_a[1])):
        assert browser_client.get(STATUS).status_code == 401
        refused = post_form(browser_client, INTROSPECT, {"token": "azd_x"})
        assert refused.status_code == 401
    assert not DeviceKey.objects.get(pk=waiting_key.pk).is_registered

"""Stock OAuth clients against the live server, with no code of their own: authlib
and requests-oauthlib register an app with its key, refresh the access token when it
expires, and are refused the refresh (invalid_grant) once the key is 停止. authlib
also configures itself from the RFC 8414 document."""

import math
import time
from datetime import UTC, datetime

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from oauthlib.oauth2 import InvalidGrantError, LegacyApplicationClient
from requests_oauthlib import OAuth2Session as OAuthlibSession

from api.forms import GRANT_TYPE
from devicekeys import services as keys
from tests.api.conftest import STATUS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

LIFETIME = 1  # API_ACCESS_TOKEN_SECONDS here


def wait_out(clock):
    """Past the access token's expiry as the clients count it (oauthlib rounds the
    time it was given to the second); the clock runs on from there (stopped to the
    end, it left a live-server connection to the PostgreSQL test database open)."""
    clock.move_to(datetime.fromtimestamp(time.time() + LIFETIME + 1, UTC), tick=True)


@pytest.fixture
def server(live_server, settings, users_a, time_machine):
    """The live server, its SITE_URL its own address, access tokens of one second, and
    the clock (the clients' and the server's) standing at the start of a second until
    wait_out moves it: the clients count expiry in whole seconds (authlib from
    int(time.time())), so a request sent a few milliseconds after the grant, across the
    turn of a second, found the token expired and refreshed it unasked."""
    settings.SITE_URL = live_server.url
    settings.API_ACCESS_TOKEN_SECONDS = LIFETIME
    time_machine.move_to(datetime.fromtimestamp(math.floor(time.time()) + 1, UTC), tick=False)
    return live_server.url


def _stop(key, administrator):
    keys.device_key_stop(contract=administrator.contract, key=key, actor=administrator)


def test_authlib_refreshes_on_expiry_and_is_refused_after_stop(
    server, waiting_key, admin_a, time_machine
):
    document = requests.get(f"{server}/.well-known/oauth-authorization-server", timeout=5).json()
    AuthorizationServerMetadata(document).validate()  # http is loopback: allowed
    assert document["issuer"] == server
    updated = []
    session = AuthlibSession(
        client_id="ios",
        token_endpoint=document["token_endpoint"],
        token_endpoint_auth_method="none",
        update_token=lambda token, refresh_token=None, access_token=None: updated.append(token),
        leeway=0,
    )
    first = session.fetch_token(
        grant_type=GRANT_TYPE, username="taro-a", password=PASSWORD, device_key=waiting_key.key
    )
    assert first["expires_in"] == LIFETIME and first["refresh_token"].startswith("azr_")
    assert session.get(server + STATUS, timeout=5).json()["state"] == "active"

    wait_out(time_machine)
    assert session.get(server + STATUS, timeout=5).json()["state"] == "active"
    [renewed] = updated  # refreshed once, on its own
    assert renewed["access_token"] != first["access_token"]
    assert renewed["refresh_token"] != first["refresh_token"]

    _stop(waiting_key, admin_a)
    wait_out(time_machine)
    with pytest.raises(OAuthError) as refused:
        session.get(server + STATUS, timeout=5)
    assert refused.value.error == "invalid_grant"


def test_requests_oauthlib_refreshes_on_expiry_and_is_refused_after_stop(
    server, waiting_key, admin_a, monkeypatch, time_machine
):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the live server is http
    token_url = f"{server}/api/oauth/token"
    updated = []
    session = OAuthlibSession(
        client=LegacyApplicationClient(client_id="ios"),
        auto_refresh_url=token_url,
        auto_refresh_kwargs={"client_id": "ios"},
        token_updater=updated.append,
    )
    first = session.fetch_token(
        token_url,
        username="taro-a",
        password=PASSWORD,
        include_client_id=True,
        device_key=waiting_key.key,  # RFC 6749 §4.3 with an extension parameter
    )
    assert first["access_token"].startswith("azd_")

    wait_out(time_machine)
    assert session.get(server + STATUS, timeout=5).json()["state"] == "active"
    [renewed] = updated
    assert renewed["access_token"] != first["access_token"]

    _stop(waiting_key, admin_a)
    wait_out(time_machine)
    with pytest.raises(InvalidGrantError):
        session.get(server + STATUS, timeout=5)


def test_the_password_grant_still_needs_the_key(server, users_a, monkeypatch):
    """The password grant is the device-key grant under its RFC 6749 name: without a key
    where device authentication applies, nothing is given."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    session = OAuthlibSession(client=LegacyApplicationClient(client_id="ios"))
    with pytest.raises(InvalidGrantError):
        session.fetch_token(
            f"{server}/api/oauth/token",
            username="taro-a",
            password=PASSWORD,
            include_client_id=True,
        )

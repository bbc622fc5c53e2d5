"""Short-lived access tokens and the refresh token grant (RFC 6749 §6, RFC 9700
§4.14.2): an access token opens for API_ACCESS_TOKEN_SECONDS, the refresh token gets
the next pair once, and a refresh token used twice ends its registration."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from api.models import AppRegistration, AppToken
from audit.models import AuditEntry
from tests.api.conftest import REVOKE, STATUS, TOKEN, grant, introspect, post_form
from tests.parallel import at_the_same_moment, on_postgresql


def refresh(refresh_token, client_id="ios", **extra):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return post_form(Client(), TOKEN, {**data, **extra})


@pytest.fixture
def pair(waiting_key):
    """The first answer of the token endpoint to an iOS app of taro-a."""
    response = grant(device_key=waiting_key.key)
    assert response.status_code == 200, response.content
    return response.json()


def test_an_access_token_expires_and_the_refresh_token_gets_the_next(storage, pair, time_machine):
    assert pair["expires_in"] == 300
    time_machine.move_to(timezone.now() + timedelta(seconds=301))
    assert introspect(storage, pair["access_token"]) == {"active": False}
    response = refresh(pair["refresh_token"])
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["refresh_token"] != pair["refresh_token"]  # rotated
    assert body["access_token"].startswith("azd_")
    answer = introspect(storage, body["access_token"])
    assert answer["active"] is True and answer["username"] == "taro-a"
    assert answer["exp"] - answer["iat"] == 300


def test_the_lifetime_is_one_setting(storage, waiting_key, settings):
    settings.API_ACCESS_TOKEN_SECONDS = 60
    body = grant(device_key=waiting_key.key).json()
    assert body["expires_in"] == 60
    answer = introspect(storage, body["access_token"])
    assert answer["exp"] - answer["iat"] == 60


def test_a_refresh_token_used_twice_ends_the_registration(storage, pair):
    first = refresh(pair["refresh_token"]).json()
    again = refresh(pair["refresh_token"])
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    # Whoever holds the newer tokens (the thief or the app) is out too.
    assert introspect(storage, first["access_token"]) == {"active": False}
    assert refresh(first["refresh_token"]).json()["error"] == "invalid_grant"
    registration = AppRegistration.objects.get()
    assert (registration.state, registration.reason) == ("ended", "refresh_token_reused")
    # ログ管理 and the app's status call tell why.
    entry = AuditEntry.objects.filter(action="app_sign_in_ended").get()
    assert entry.changes["reason"] == ["", "refresh_token_reused"]
    told = Client().get(STATUS, HTTP_AUTHORIZATION=f"Bearer {first['access_token']}")
    assert told.json()["state"] == "token_reused"


def test_a_refresh_token_of_another_client_is_refused_and_not_used_up(storage, pair):
    response = refresh(pair["refresh_token"], client_id="android")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
    assert refresh(pair["refresh_token"]).status_code == 200
    assert AppRegistration.objects.get().state == "active"


@pytest.mark.parametrize(
    "token",
    ["", "azr_unknown.secret", "x" * 201],
    ids=["empty", "unknown", "too long"],
)
def test_a_refresh_token_the_console_never_gave_is_refused(db, token):
    response = refresh(token)
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_request", "invalid_grant")
    if token:  # fixed words, never the token
        assert token not in response.json()["error_description"]


def test_another_scope_is_refused(pair):
    response = refresh(pair["refresh_token"], scope="admin")
    assert response.json()["error"] == "invalid_scope"
    assert refresh(pair["refresh_token"], scope="storage").status_code == 200


def test_a_refresh_token_is_no_access_token(storage, pair):
    assert introspect(storage, pair["refresh_token"]) == {"active": False}
    told = Client().get(STATUS, HTTP_AUTHORIZATION=f"Bearer {pair['refresh_token']}")
    assert told.status_code == 401


@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_either_token_revokes_the_registration(storage, pair, kind):
    response = post_form(
        Client(), REVOKE, {"token": pair[kind], "client_id": "ios", "token_type_hint": kind}
    )
    assert (response.status_code, response.json()) == (200, {})
    assert introspect(storage, pair["access_token"]) == {"active": False}
    assert refresh(pair["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_wrong_hint_is_not_trusted(storage, pair):
    data = {"token": pair["refresh_token"], "client_id": "ios", "token_type_hint": "access_token"}
    assert post_form(Client(), REVOKE, data).status_code == 200
    assert introspect(storage, pair["access_token"]) == {"active": False}


def test_another_clients_revocation_changes_nothing(storage, pair):
    """RFC 7009 §2.1: the token was not issued to the client that asks: 200 all the same
    (§2.2), and the token still opens."""
    for kind in ("access_token", "refresh_token"):
        data = {"token": pair[kind], "client_id": "android"}
        response = post_form(Client(), REVOKE, data)
        assert (response.status_code, response.json()) == (200, {})
    assert introspect(storage, pair["access_token"])["active"] is True
    assert refresh(pair["refresh_token"]).status_code == 200


def test_old_tokens_are_pruned_as_the_app_refreshes(pair, time_machine):
    """Expired access tokens go at the next refresh; used refresh tokens stay to catch a
    second use."""
    current = pair
    for _ in range(3):
        time_machine.move_to(timezone.now() + timedelta(seconds=301))
        current = refresh(current["refresh_token"]).json()
    kinds = list(AppToken.objects.order_by("pk").values_list("kind", "rotated_at"))
    assert [kind for kind, _ in kinds].count("access") == 1  # the one still open
    assert sum(1 for kind, rotated in kinds if kind == "refresh" and rotated) == 3


@on_postgresql("needs real row locks and parallel connections; SQLite serialises all writers")
def test_one_refresh_token_sent_twice_at_once_gives_one_pair_and_ends_the_registration(
    waiting_key,
):
    """No grace period, also for two requests at the same moment: the row lock lets one
    through, and the other is a second use."""
    refresh_token = grant(device_key=waiting_key.key).json()["refresh_token"]
    calls = [lambda: refresh(refresh_token).status_code for _ in range(2)]
    assert sorted(at_the_same_moment(*calls)) == [200, 400]
    registration = AppRegistration.objects.get()
    assert (registration.state, registration.reason) == ("ended", "refresh_token_reused")

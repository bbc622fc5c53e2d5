"""Every answer under /api/ is JSON in the RFC 6749 §5.2 shape, also where Django
answers before or without a view (api/middleware.py): no CSRF page, no HTML 400 or
404, no redirect of a console session, never a 5xx for a token the console never
gave."""

import base64

import pytest
from django.test import Client

from api import services
from devicekeys import services as keys
from devicekeys.models import DeviceKey
from tests.api.conftest import ENDPOINTS, INTROSPECT, REVOKE, STATUS, TOKEN, post_form
from tests.devicekeys.browser import HOME, signed_in_user

FORM = "application/x-www-form-urlencoded"
ALLOWED = {TOKEN: "POST", INTROSPECT: "POST", REVOKE: "POST", STATUS: "GET, HEAD"}
SECRET_PART = "A" * 43
BEYOND_64_BITS = f"azd_{2**63}.{SECRET_PART}"  # one more than a BigAutoField holds
ODD_TOKENS = [
    BEYOND_64_BITS,
    f"azd_{10**19 - 1}.{SECRET_PART}",
    "azd_99999999999999999999_x",
    "azd_-1_x",
    f"azd_0x10.{SECRET_PART}",
    f"azd_01.{SECRET_PART}",
    "9" * 40,
    "x" * 10_000,
    f"azd_1.{SECRET_PART[:-1]}\x00",
    "azd_１.トークン",
]


def assert_json_error(response, status: int, error: str = "invalid_request") -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == error and body["error_description"]
    return body


def status_of(token: str):
    header = f"Bearer {token}".encode().decode("latin-1")  # as a WSGI server hands it on
    return Client().get(STATUS, HTTP_AUTHORIZATION=header)


# --- Tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize("token", ODD_TOKENS)
def test_an_odd_token_is_inactive_at_introspection(storage, token):
    response = post_form(storage, INTROSPECT, {"token": token})
    if len(token) > 200:
        assert_json_error(response, 400)
    else:
        assert response.status_code == 200
        assert response.json() == {"active": False}


@pytest.mark.parametrize("token", ODD_TOKENS)
def test_an_odd_token_is_unknown_to_the_status_call(db, token):
    response = status_of(token)
    assert_json_error(response, 401, "invalid_token")
    assert response["WWW-Authenticate"] == 'Bearer realm="Azukeru PRO", error="invalid_token"'


@pytest.mark.parametrize("token", ODD_TOKENS)
def test_revoking_an_odd_token_is_no_error(db, token):
    response = post_form(Client(), REVOKE, {"token": token, "client_id": "ios"})
    if len(token) > 200 or "\x00" in token:
        assert_json_error(response, 400)
    else:
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.json() == {}


def test_a_key_id_beyond_64_bits_opens_nothing_and_breaks_nothing(storage, app_token):
    """The key id of an app token above 2**63-1, unauthenticated: was a 500 at all three."""
    assert post_form(storage, INTROSPECT, {"token": BEYOND_64_BITS}).json() == {"active": False}
    assert status_of(BEYOND_64_BITS).status_code == 401
    assert post_form(Client(), REVOKE, {"token": BEYOND_64_BITS, "client_id": "ios"}).json() == {}
    assert post_form(storage, INTROSPECT, {"token": app_token}).json()["active"] is True


@pytest.mark.parametrize("credentials", ["Basic w6k=", "Basic é", "Basic " + "\xff" * 8])
def test_non_ascii_client_credentials_are_refused_with_401(app_token, credentials):
    storage = Client(HTTP_AUTHORIZATION=credentials)
    response = post_form(storage, INTROSPECT, {"token": app_token})
    assert_json_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"] == 'Basic realm="Azukeru PRO"'


def test_non_utf8_client_credentials_are_refused_with_401(app_token):
    encoded = base64.b64encode(b"\xff\xfe:\x80").decode()
    response = post_form(Client(HTTP_AUTHORIZATION=f"Basic {encoded}"), INTROSPECT, {"token": "x"})
    assert_json_error(response, 401, "invalid_client")


# --- Methods, bodies and CSRF ----------------------------------------------------------


def test_a_post_to_the_status_gets_the_json_405_not_the_csrf_page(db):
    """A browser-like POST (another site's Origin, no CSRF cookie): was Django's HTML 403."""
    browser = Client(enforce_csrf_checks=True, HTTP_ORIGIN="https://attacker.example")
    response = browser.post(STATUS, {"token": "x"})
    assert_json_error(response, 405)
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_endpoint_checks_csrf(db, endpoint):
    """The API reads no cookie as a credential: no endpoint answers with the CSRF check."""
    browser = Client(enforce_csrf_checks=True, HTTP_ORIGIN="https://attacker.example")
    browser.cookies["csrftoken"] = "x" * 32
    response = browser.post(endpoint, "token=x", content_type=FORM)
    assert response.status_code != 403
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_latin1_body_gets_a_json_answer(db, endpoint):
    """Was Django's HTML 400 at the status call."""
    body = "token=café&client_id=ios&username=müller".encode("latin-1")
    response = Client(enforce_csrf_checks=True).generic("POST", endpoint, body, content_type=FORM)
    assert response.status_code in {200, 400, 401, 405}  # revoke: a token that opens nothing
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.json(), dict)


@pytest.mark.parametrize(
    ("endpoint", "method"),
    [
        (endpoint, method)
        for endpoint in ENDPOINTS
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE")
        if method not in ALLOWED[endpoint].split(", ")
    ],
)
def test_another_method_gets_a_json_405_with_allow(db, endpoint, method):
    response = Client(enforce_csrf_checks=True).generic(method, endpoint)
    assert_json_error(response, 405)
    assert response["Allow"] == ALLOWED[endpoint]


def test_head_of_the_status_is_answered_as_its_get(db):
    response = Client().head(STATUS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="Azukeru PRO"'


# --- Cookies ---------------------------------------------------------------------------


def test_a_console_session_sent_along_is_not_read(client, support_staff):
    """A session that has not passed its second step: was a redirect to the step."""
    client.force_login(support_staff)
    response = client.get(STATUS)
    assert_json_error(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="Azukeru PRO"'


def test_an_api_call_neither_ends_nor_touches_a_browsers_session(users_a, admin_a):
    """A user ID's browser whose key was stopped: the API call was answered with the
    HTML refusal and ended the session; the console's next page still refuses it."""
    taro = signed_in_user(users_a[0])
    key = DeviceKey.objects.get(user=users_a[0])
    keys.device_key_stop(contract=admin_a.contract, key=key, actor=admin_a)
    response = taro.get(STATUS)
    assert_json_error(response, 401)
    assert not response.cookies
    assert taro.get(HOME).status_code == 403


# --- What Django answers itself --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "extra", "status"),
    [
        pytest.param("/api/no-such-endpoint", {}, 404, id="unknown path"),
        pytest.param("/api/oauth/token/", {}, 404, id="trailing slash"),
        pytest.param("/api/", {}, 404, id="the root"),
        pytest.param(STATUS, {"HTTP_HOST": "attacker.example"}, 400, id="host not served"),
        pytest.param(INTROSPECT, {"HTTP_HOST": "bad..host"}, 400, id="host malformed"),
        pytest.param(
            REVOKE,
            {"data": "&".join(f"f{n}=" for n in range(1500))},
            400,
            id="more fields than Django reads",
        ),
        pytest.param(
            INTROSPECT, {"data": "token=x", "CONTENT_LENGTH": str(10**20)}, 413, id="huge length"
        ),
    ],
)
def test_djangos_own_refusals_are_json_errors(db, path, extra, status):
    response = Client(enforce_csrf_checks=True).generic("POST", path, content_type=FORM, **extra)
    body = assert_json_error(response, status)
    assert "attacker" not in body["error_description"]


def test_a_failure_is_a_json_500_that_tells_nothing(db, monkeypatch):
    def fail(token):
        raise RuntimeError(f"the database said something about {token}")

    monkeypatch.setattr(services, "device_status", fail)
    response = Client(raise_request_exception=False).get(
        STATUS, HTTP_AUTHORIZATION="Bearer azd_1.secret"
    )
    body = assert_json_error(response, 500, "server_error")
    assert body == {"error": "server_error", "error_description": "Internal Server Error."}


def test_an_error_repeats_nothing_of_the_request(db):
    canary = "Zq7canary"
    response = Client().generic("POST", f"/api/{canary}", f"token={canary}", HTTP_X_ANYTHING=canary)
    assert response.status_code == 404
    assert canary not in response.content.decode()


def test_pages_outside_the_api_stay_pages(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")

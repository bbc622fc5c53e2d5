"""The app API under arbitrary input. Any token string, however long, numeric or
garbled, is inactive or an RFC error at introspection, revocation and the status
call. Every /api/ endpoint, whatever the method, body, headers and token, answers
JSON (Content-Type application/json, Cache-Control no-store) and never a 5xx.

The endpoints are read from api/urls.py, so a new one is driven as soon as it is
routed; paths under /api/ that are no endpoint are driven too. Run on SQLite and on
PostgreSQL (bin/with-postgres): their drivers refuse different values (SQLite an
integer beyond 64 bits, PostgreSQL a NUL in a text parameter). 200 examples in all,
a few seconds."""

import base64
import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.services import api_client_create
from devicekeys import services as keys
from tests.api.conftest import ENDPOINTS, INTROSPECT, REVOKE, STATUS, grant, post_form
from tests.conftest import SETUP

PATHS = [*ENDPOINTS, "/api/", "/api/oauth/token/", "/api/no-such-endpoint"]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND"]

# What a WSGI server hands Django for a header: its bytes read as Latin-1.
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60)
# Stand-ins for the credentials that exist only once the test's fixtures have run.
APP_TOKEN, STORAGE = "\x00app-token\x00", "\x00storage\x00"

# Key ids around the edges of the database's integers (a BigAutoField ends at 2**63-1;
# an app token's id has at most 19 digits), and any other.
KEY_IDS = st.one_of(
    st.sampled_from([0, 1, 2**31, 2**63 - 1, 2**63, 10**19 - 1, 10**19, -1, "0x10", "01"]),
    st.integers(min_value=-(2**70), max_value=2**70),
)
TOKENS = st.one_of(
    st.sampled_from(
        [APP_TOKEN, "", "\x00", "azd_", "azu_", "azd_-1_x", "azd_99999999999999999999_x"]
    ),
    st.builds("azd_{}.{}".format, KEY_IDS, st.text(alphabet="AZaz09_-", min_size=43, max_size=43)),
    st.builds("{}{}".format, st.sampled_from(["azd_", "azu_", "azr_", ""]), st.text(max_size=60)),
    st.integers(min_value=0, max_value=10**30).map(str),
    st.sampled_from([199, 200, 201, 10_000]).map(lambda length: "x" * length),
)
PARAMETER_NAMES = [
    "token",
    "token_type_hint",
    "client_id",
    "grant_type",
    "username",
    "password",
    "device_key",
    "device_name",
    "refresh_token",
    "x",
]
PARAMETERS = st.lists(
    st.tuples(
        st.sampled_from(PARAMETER_NAMES),
        st.one_of(TOKENS, st.sampled_from(["ios", "taro-a", "access_token"])),
    ),
    max_size=6,
)
FORM = "application/x-www-form-urlencoded"
CONTENT_TYPES = st.sampled_from(
    [
        FORM,
        f"{FORM}; charset=latin-1",
        f"{FORM}; charset=no-such-charset",
        "application/json",
        "multipart/form-data; boundary=zz",
        "multipart/form-data",
        "text/plain",
        "",
        "*/*;;",
    ]
)


MANY_FIELDS = b"&".join(b"%d" % n for n in range(1500))  # more than Django reads
BODIES = st.one_of(
    st.tuples(st.sampled_from(["utf-8", "latin-1", "json"]), PARAMETERS),
    st.binary(max_size=300),
    st.just(MANY_FIELDS),
)


def encode(body, credentials: dict) -> bytes:
    """The body: a form of the API's own parameters (UTF-8 or Latin-1), JSON, or bytes."""
    if isinstance(body, bytes):
        return body
    encoding, pairs = body
    pairs = [(name, with_credentials(value, credentials)) for name, value in pairs]
    if encoding == "json":
        return json.dumps(dict(pairs)).encode()
    return urlencode(pairs, encoding=encoding, errors="replace").encode()


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()


AUTHORIZATIONS = st.one_of(
    st.none(),
    st.just(STORAGE),
    st.builds("Bearer {}".format, TOKENS),
    st.builds(basic, st.text(max_size=40)),
    st.builds(basic, st.builds("{}:{}".format, TOKENS, TOKENS)),
    st.builds("{} {}".format, st.sampled_from(["Basic", "Bearer", "bearer", ""]), HEADER_TEXT),
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "HTTP_ACCEPT_LANGUAGE": HEADER_TEXT,
        "HTTP_COOKIE": HEADER_TEXT,
        "HTTP_X_FORWARDED_FOR": HEADER_TEXT,
        "HTTP_ORIGIN": HEADER_TEXT,
        "HTTP_REFERER": HEADER_TEXT,
        "HTTP_HOST": st.sampled_from(["attacker.example", "bad..host", "testserver:99999"]),
        "CONTENT_LENGTH": st.one_of(
            st.integers(min_value=-5, max_value=10**20).map(str), HEADER_TEXT
        ),
    },
)


@pytest.fixture
def credentials(users_a):
    """A registered app's token and the storage service's HTTP Basic header."""
    taro = users_a[0]
    key = keys.device_key_issue(contract=taro.contract, user=taro, actor=SETUP)
    token = grant(device_key=key.key).json()["access_token"]
    api_client, secret = api_client_create(name="storage", actor=SETUP)
    return {APP_TOKEN: token, STORAGE: basic(f"{api_client.client_id}:{secret}")}


def with_credentials(value: str, credentials: dict) -> str:
    for stand_in, real in credentials.items():
        value = value.replace(stand_in, real)
    return value


def as_header(text: str) -> str:
    """Text sent in a header as UTF-8, as Django reads it (PEP 3333: Latin-1)."""
    return text.encode("utf-8").decode("latin-1")


def assert_json(response) -> dict:
    assert response.status_code < 500, response.content[:200]
    assert response["Content-Type"] == "application/json", response.content[:200]
    assert response["Cache-Control"] == "no-store"
    return json.loads(response.content) if response.content else {}


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(token=TOKENS, endpoint=st.sampled_from(["introspect", "revoke", "status"]))
def test_any_token_is_inactive_or_an_rfc_error(credentials, token, endpoint):
    token = with_credentials(token, credentials)
    real = token == credentials[APP_TOKEN]
    if endpoint == "introspect":
        storage = Client(HTTP_AUTHORIZATION=credentials[STORAGE])
        response = post_form(storage, INTROSPECT, {"token": token})
        body = assert_json(response)
        if response.status_code == 200:  # the real token: active until an example revokes it
            assert body["active"] in (True, False) if real else body == {"active": False}
        else:
            assert (response.status_code, body["error"]) == (400, "invalid_request")
    elif endpoint == "revoke":
        response = post_form(Client(), REVOKE, {"token": token, "client_id": "ios"})
        body = assert_json(response)
        if response.status_code == 200:
            assert body == {}
        else:
            assert (response.status_code, body["error"]) == (400, "invalid_request")
    else:
        response = Client().get(STATUS, HTTP_AUTHORIZATION=as_header(f"Bearer {token}"))
        body = assert_json(response)
        if response.status_code == 200:
            assert real
        else:
            assert (response.status_code, body["error"]) in {
                (401, "invalid_token"),
                (401, "invalid_request"),  # no token at all: an empty or blank one
            }
            assert response["WWW-Authenticate"].startswith("Bearer ")


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(PATHS),
    method=st.sampled_from(METHODS),
    body=BODIES,
    content_type=CONTENT_TYPES,
    authorization=AUTHORIZATIONS,
    headers=HEADERS,
)
def test_every_api_endpoint_answers_json_and_never_a_5xx(
    credentials, path, method, body, content_type, authorization, headers
):
    extra = dict(headers)
    if authorization is not None:
        extra["HTTP_AUTHORIZATION"] = as_header(with_credentials(authorization, credentials))
    client = Client(enforce_csrf_checks=True)  # as a browser's request would be checked
    response = client.generic(
        method, path, encode(body, credentials), content_type=content_type, **extra
    )
    body = assert_json(response)
    if method != "HEAD":  # a HEAD's body is dropped on the way (RFC 9110 §9.3.2)
        assert set(body) >= {"error", "error_description"} or response.status_code < 300

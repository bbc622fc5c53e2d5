"""The Shared Signals endpoints under arbitrary input: any method, JSON (or not) body,
stream id and credentials gets a JSON answer (or 204 with none), never a 5xx, and
nothing a client sends names another client's stream. Run on SQLite and on
PostgreSQL (bin/with-postgres), whose text columns refuse NUL. 150 examples."""

import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssf import rules
from ssf.models import Stream
from tests.ssf.conftest import (
    CONFIGURATION,
    JWKS,
    STATUS,
    STREAMS,
    VERIFY,
    make_storage,
    send_json,
    stream_body,
)

OWN, OTHERS = "\x00own-stream\x00", "\x00others-stream\x00"
PATHS = [STREAMS, STATUS, VERIFY, JWKS, CONFIGURATION, "/api/ssf/", "/api/ssf/streams/"]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from([OWN, OTHERS, "", "\x00", "x" * 5000, rules.PUSH, rules.SESSION_REVOKED]),
    st.sampled_from(["https://storage.example.jp/e", "http://127.0.0.1:9/e", "https://[::1"]),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | TEXT,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "stream_id",
                    "delivery",
                    "method",
                    "endpoint_url",
                    "authorization_header",
                    "events_requested",
                    "description",
                    "status",
                    "reason",
                    "state",
                    "iss",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=12,
)
BODIES = st.one_of(
    JSON_VALUES.map(lambda value: ("application/json", value)),
    st.tuples(st.sampled_from(["text/plain", "application/json", ""]), st.binary(max_size=80)),
    st.just(("application/json", b"[" * 20000)),
)


@pytest.fixture
def parties(db, settings):
    """The storage service with a stream, and another client with one."""
    own, other = make_storage("storage"), make_storage("other")
    ids = {}
    for name, client in ((OWN, own), (OTHERS, other)):
        body = stream_body("http://127.0.0.1:9/events")
        ids[name] = send_json(client, "POST", STREAMS, body).json()["stream_id"]
    return own, other, ids


def replaced(value, ids):
    if isinstance(value, str):
        for stand_in, real in ids.items():
            value = value.replace(stand_in, real)
        return value
    if isinstance(value, list):
        return [replaced(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: replaced(item, ids) for key, item in value.items()}
    return value


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(PATHS),
    method=st.sampled_from(METHODS),
    body=BODIES,
    stream_id=st.one_of(st.none(), TEXT),
    authenticated=st.booleans(),
)
def test_any_request_gets_json_and_never_a_5xx(
    parties, path, method, body, stream_id, authenticated
):
    own, _other, ids = parties
    client = own if authenticated else Client()
    content_type, value = body
    data = value if isinstance(value, bytes) else json.dumps(replaced(value, ids))
    query = "" if stream_id is None else "?" + urlencode({"stream_id": replaced(stream_id, ids)})
    response = client.generic(method, path + query, data, content_type=content_type)
    assert response.status_code < 500, response.content[:200]
    if response.status_code != 204 and method != "HEAD":
        assert response["Content-Type"] == "application/json", response.content[:200]
        answer = json.loads(response.content)
        if response.status_code >= 400:
            assert {"error", "error_description"} <= set(answer)
    # The other client's stream is as it was.
    theirs = Stream.objects.get(stream_id=ids[OTHERS])
    assert theirs.endpoint_url == "http://127.0.0.1:9/events"
    assert theirs.status == "enabled"

"""The transmitter's endpoints as a receiver written from SSF 1.0 uses them: the
metadata, the JWKS, stream management with its own API client's credentials only."""

import pytest
from django.test import Client

from api.services import api_client_revoke
from ssf import rules
from ssf.models import SecurityEvent, Stream
from tests.conftest import SETUP
from tests.ssf.conftest import (
    CONFIGURATION,
    JWKS,
    STATUS,
    STREAMS,
    VERIFY,
    basic_client,
    send_json,
    stream_body,
)


def test_the_metadata_names_every_endpoint_and_each_answers(client, settings, storage, stream):
    settings.SITE_URL = "https://console.example.jp"
    document = client.get(CONFIGURATION).json()
    assert document["spec_version"] == "1_0"
    assert document["issuer"] == "https://console.example.jp"
    assert document["delivery_methods_supported"] == [rules.PUSH]
    assert document["default_subjects"] == "ALL"
    assert document["authorization_schemes"] == [{"spec_urn": "urn:ietf:rfc:7617"}]
    assert document["jwks_uri"] == "https://console.example.jp" + JWKS
    for name, path in [
        ("configuration_endpoint", STREAMS),
        ("status_endpoint", STATUS),
        ("verification_endpoint", VERIFY),
    ]:
        assert document[name] == "https://console.example.jp" + path
    assert client.get(JWKS).status_code == 200
    assert storage.get(STREAMS).status_code == 200
    assert storage.get(STATUS, {"stream_id": stream["stream_id"]}).status_code == 200


def test_the_jwks_publishes_public_keys_only(client):
    keys = client.get(JWKS).json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(keys[0])


def test_a_stream_is_created_read_updated_replaced_and_deleted(storage, receiver):
    created = send_json(storage, "POST", STREAMS, stream_body(receiver.url, description="files"))
    assert created.status_code == 201
    stream = created.json()
    assert stream["aud"] == storage.api_client.client_id
    assert stream["delivery"] == {"method": rules.PUSH, "endpoint_url": receiver.url}
    assert stream["events_delivered"] == list(rules.SUPPORTED_EVENTS)
    assert stream["min_verification_interval"] == rules.MIN_VERIFICATION_INTERVAL
    sid = stream["stream_id"]

    assert storage.get(STREAMS, {"stream_id": sid}).json() == stream
    assert [s["stream_id"] for s in storage.get(STREAMS).json()] == [sid]

    patched = send_json(storage, "PATCH", STREAMS, {"stream_id": sid, "description": "new"})
    assert patched.json()["description"] == "new"
    assert patched.json()["delivery"]["endpoint_url"] == receiver.url

    replaced = send_json(
        storage, "PUT", STREAMS, {"stream_id": sid, **stream_body(receiver.url, events=[])}
    )
    assert replaced.json()["events_delivered"] == []
    assert replaced.json()["description"] == ""

    assert storage.delete(f"{STREAMS}?stream_id={sid}").status_code == 204
    assert storage.get(STREAMS, {"stream_id": sid}).status_code == 404


def test_only_the_events_the_console_sends_are_delivered(storage, receiver):
    body = stream_body(receiver.url, events=[rules.SESSION_REVOKED, "urn:example:unknown"])
    stream = send_json(storage, "POST", STREAMS, body).json()
    assert stream["events_requested"] == [rules.SESSION_REVOKED, "urn:example:unknown"]
    assert stream["events_delivered"] == [rules.SESSION_REVOKED]


def test_the_authorization_header_is_never_shown_back(storage, receiver):
    body = stream_body(receiver.url)
    body["delivery"]["authorization_header"] = "Bearer receiver-secret"
    response = send_json(storage, "POST", STREAMS, body)
    assert b"receiver-secret" not in response.content
    assert Stream.objects.get().authorization_header == "Bearer receiver-secret"


def test_another_clients_stream_is_not_found(storage, other_storage, stream):
    sid = stream["stream_id"]
    assert other_storage.get(STREAMS).json() == []
    assert other_storage.get(STREAMS, {"stream_id": sid}).status_code == 404
    assert send_json(other_storage, "PATCH", STREAMS, {"stream_id": sid}).status_code == 404
    body = {"stream_id": sid, **stream_body("http://127.0.0.1:9/x")}
    assert send_json(other_storage, "PUT", STREAMS, body).status_code == 404
    assert other_storage.delete(f"{STREAMS}?stream_id={sid}").status_code == 404
    assert other_storage.get(STATUS, {"stream_id": sid}).status_code == 404
    status = {"stream_id": sid, "status": "disabled"}
    assert send_json(other_storage, "POST", STATUS, status).status_code == 404
    assert send_json(other_storage, "POST", VERIFY, {"stream_id": sid}).status_code == 404
    assert storage.get(STATUS, {"stream_id": sid}).json()["status"] == "enabled"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer x", "Basic !!!", "Basic " + "eDp5", "Basic YXpjX25vbmU6c2VjcmV0"],
)
def test_without_a_clients_credentials_every_endpoint_answers_401(db, authorization):
    client = Client(HTTP_AUTHORIZATION=authorization) if authorization else Client()
    for method, url in [("GET", STREAMS), ("POST", STREAMS), ("GET", STATUS), ("POST", VERIFY)]:
        response = send_json(client, method, url, {})
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Basic ")
        assert response.json()["error"] == "invalid_client"


def test_a_revoked_client_is_refused(storage, stream):
    api_client_revoke(client=storage.api_client, actor=SETUP)
    assert storage.get(STREAMS).status_code == 401


def test_a_wrong_secret_is_refused(storage):
    wrong = basic_client(storage.api_client.client_id, "not-the-secret")
    assert wrong.get(STREAMS).status_code == 401


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://storage.example.jp/events", "https"),
        ("https://127.0.0.1/events", "public host"),
        ("https://10.0.0.8/events", "public host"),
        ("https://localhost/events", "public host"),
        ("https://[::1]/events", "public host"),
        ("ftp://storage.example.jp/events", "https"),
        ("https://user:pw@storage.example.jp/events", "user name"),
        ("events", "https"),
    ],
)
def test_receiver_urls_must_be_https_and_public(settings, storage, url, words):
    settings.SSF_ALLOW_INSECURE_RECEIVERS = False
    response = send_json(storage, "POST", STREAMS, stream_body(url))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert words in response.json()["error_description"]
    assert not Stream.objects.exists()


def test_an_https_receiver_is_taken_without_the_switch(settings, storage):
    settings.SSF_ALLOW_INSECURE_RECEIVERS = False
    response = send_json(storage, "POST", STREAMS, stream_body("https://storage.example.jp/e"))
    assert response.status_code == 201


def test_an_update_to_a_local_receiver_is_refused_too(settings, storage, stream):
    settings.SSF_ALLOW_INSECURE_RECEIVERS = False
    body = {"stream_id": stream["stream_id"], **stream_body("http://127.0.0.1:8000/x")}
    assert send_json(storage, "PATCH", STREAMS, body).status_code == 400
    assert Stream.objects.get().endpoint_url == stream["delivery"]["endpoint_url"]


@pytest.mark.parametrize(
    "body",
    [
        {"delivery": {"method": "urn:ietf:rfc:8936", "endpoint_url": "https://x.example/"}},
        {"events_requested": "all"},
        [],
        "text",
        {"delivery": {"method": rules.PUSH}},
    ],
)
def test_a_configuration_the_console_does_not_take_is_a_400(storage, body):
    response = send_json(storage, "POST", STREAMS, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_client_has_at_most_so_many_streams(storage, receiver):
    for _ in range(rules.MAX_STREAMS_PER_CLIENT):
        assert send_json(storage, "POST", STREAMS, stream_body(receiver.url)).status_code == 201
    assert send_json(storage, "POST", STREAMS, stream_body(receiver.url)).status_code == 409


def test_the_status_is_read_and_changed(storage, stream):
    sid = stream["stream_id"]
    changed = send_json(
        storage, "POST", STATUS, {"stream_id": sid, "status": "paused", "reason": "upgrade"}
    )
    assert changed.json() == {"stream_id": sid, "status": "paused", "reason": "upgrade"}
    assert storage.get(STATUS, {"stream_id": sid}).json()["status"] == "paused"
    refused = send_json(storage, "POST", STATUS, {"stream_id": sid, "status": "on"})
    assert refused.status_code == 400


def test_a_second_verification_within_the_interval_is_429(storage, stream):
    body = {"stream_id": stream["stream_id"], "state": "s1"}
    assert send_json(storage, "POST", VERIFY, body).status_code == 204
    again = send_json(storage, "POST", VERIFY, body)
    assert again.status_code == 429
    assert int(again["Retry-After"]) <= rules.MIN_VERIFICATION_INTERVAL


def test_without_a_signing_key_the_transmitter_is_off(settings, client, storage):
    settings.SSF_SIGNING_KEYS_FILE = ""
    for response in [client.get(CONFIGURATION), client.get(JWKS), storage.get(STREAMS)]:
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"


def test_a_post_to_the_public_documents_is_a_json_405_not_the_csrf_page(db):
    browser = Client(enforce_csrf_checks=True)
    for url in (CONFIGURATION, JWKS):
        response = browser.post(url)
        assert response.status_code == 405
        assert response["Content-Type"] == "application/json"
        assert response["Allow"] == "GET, HEAD"


def test_a_verification_of_a_disabled_stream_sends_nothing(storage, stream):
    sid = stream["stream_id"]
    send_json(storage, "POST", STATUS, {"stream_id": sid, "status": "disabled"})
    assert send_json(storage, "POST", VERIFY, {"stream_id": sid}).status_code == 204
    assert not SecurityEvent.objects.exists()


def test_a_body_over_16_kib_is_refused(storage, receiver):
    body = stream_body(receiver.url, description="x" * 20_000)
    response = send_json(storage, "POST", STREAMS, body)
    assert response.status_code == 413
    assert not Stream.objects.exists()

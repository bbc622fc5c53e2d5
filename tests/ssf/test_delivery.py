"""Push delivery (RFC 8935) to a receiver on 127.0.0.1 that verifies each SET with
joserfc against the published JWKS: delivered once, retried while the receiver is
down, never twice, and never from inside the administrator's request."""

import json
import socket
import threading
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from core.outbox import Status
from devicekeys import services as keys
from devicekeys.models import DeviceKey
from ssf import delivery, rules
from ssf import keys as signing
from ssf.models import SecurityEvent, Stream
from ssf.services import events_sweep
from tests.conftest import task_backend
from tests.ssf.conftest import JWKS, STREAMS, VERIFY, send_json, stream_body


@pytest.fixture
def stop_key(admin_a, app_token, django_capture_on_commit_callbacks):
    """停止 of taro-a's registered key, as the administrator clicks it; commits."""

    def stop():
        with django_capture_on_commit_callbacks(execute=True):
            keys.device_key_stop(
                contract=admin_a.contract, key=DeviceKey.objects.get(), actor=admin_a
            )
        return SecurityEvent.objects.get()

    return stop


def test_a_stop_reaches_the_receiver_as_a_signed_set(
    settings, client, storage, receiver, stop_key, users_a
):
    settings.SITE_URL = "https://console.example.jp"
    body = stream_body(receiver.url)
    body["delivery"]["authorization_header"] = "Bearer receiver-secret"
    send_json(storage, "POST", STREAMS, body)
    event = stop_key()
    assert event.status == Status.SENT
    (request,) = receiver.received
    assert request["headers"]["Content-Type"] == "application/secevent+jwt"
    assert request["headers"]["Accept"] == "application/json"
    assert request["headers"]["Authorization"] == "Bearer receiver-secret"
    header = jwt.decode(receiver.tokens[0], KeySet.import_key_set(client.get(JWKS).json())).header
    assert header["typ"] == "secevent+jwt" and header["alg"] == "RS256" and header["kid"]
    (claims,) = receiver.claims(client.get(JWKS).json())
    assert claims["iss"] == "https://console.example.jp"
    assert claims["aud"] == storage.api_client.client_id
    assert claims["jti"] == event.jti
    assert abs(claims["iat"] - timezone.now().timestamp()) < 60
    registration = users_a[0].app_registrations.get()
    assert claims["sub_id"] == {
        "format": "complex",
        "user": {
            "format": "iss_sub",
            "iss": "https://console.example.jp",
            "sub": str(users_a[0].pk),
        },
        "session": {"format": "opaque", "id": registration.public_id},
    }
    revoked = claims["events"][rules.SESSION_REVOKED]
    assert revoked["initiating_entity"] == "admin"
    assert revoked["reason_admin"] == {"ja": "端末認証キーの利用停止", "en": "Device key stopped"}


def test_a_set_from_another_key_does_not_verify(client, stream, receiver, stop_key):
    stop_key()
    kid = jws.extract_compact(receiver.tokens[0].encode()).headers()["kid"]
    impostor = signing.new_key().as_dict(private=False) | {"kid": kid}
    other = {"keys": [impostor]}
    with pytest.raises(JoseError):
        receiver.claims(other)


def test_the_receiver_down_then_up_gets_the_event_once(stream, receiver, stop_key):
    receiver.answers = [(503, b""), (503, b"")]
    event = stop_key()
    assert event.status == Status.PENDING and event.attempts == 1
    assert "HTTP 503" in event.last_error
    for _retry in range(2):
        with time_machine.travel(event.next_attempt_at + timedelta(seconds=1)):
            assert events_sweep() == 1
        event.refresh_from_db()
    assert event.status == Status.SENT and event.attempts == 3
    assert len(receiver.received) == 3  # two refused, one accepted
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert events_sweep() == 0
    assert len(receiver.received) == 3


def test_no_connection_is_tried_again(storage, stop_key):
    send_json(storage, "POST", STREAMS, stream_body("http://127.0.0.1:9/events"))
    event = stop_key()
    assert event.status == Status.PENDING
    assert "Error" in event.last_error
    assert event.next_attempt_at > event.last_attempt_at


def test_attempts_are_capped(stream, receiver, stop_key):
    receiver.answers = [(500, b"")] * rules.MAX_ATTEMPTS
    event = stop_key()
    while event.status == Status.PENDING:
        with time_machine.travel(event.next_attempt_at + timedelta(seconds=1)):
            events_sweep()
        event.refresh_from_db()
    assert event.status == Status.FAILED
    assert event.attempts == rules.MAX_ATTEMPTS == len(receiver.received)


def test_a_400_of_the_receiver_is_final_and_its_err_recorded(stream, receiver, stop_key):
    refusal = {"err": "invalid_audience", "description": "not ours"}
    receiver.answers = [(400, json.dumps(refusal).encode())]
    event = stop_key()
    assert event.status == Status.FAILED
    assert event.last_error == "HTTP 400 err=invalid_audience: not ours"
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert events_sweep() == 0
    assert len(receiver.received) == 1


def test_two_workers_on_one_event_send_it_once(stream, receiver, stop_key, monkeypatch):
    """The second worker takes the row while the first is sending it."""
    receiver.answers = [(503, b"")]
    event = stop_key()
    outcomes = []
    real_push = delivery.push

    def push_while_another_worker_runs(stream, token):
        outcomes.append(delivery.deliver(event.pk))
        real_push(stream, token)

    monkeypatch.setattr(delivery, "push", push_while_another_worker_runs)
    with time_machine.travel(event.next_attempt_at + timedelta(seconds=1)):
        assert delivery.deliver(event.pk) == "sent"
    assert outcomes == ["skipped"]
    assert delivery.deliver(event.pk) == "skipped"  # delivered: never sent again
    assert len(receiver.received) == 2  # the refused attempt and the one delivery


def test_an_event_whose_worker_died_is_pushed_again_by_the_sweep(stream, receiver, stop_key):
    receiver.answers = [(503, b"")]
    event = stop_key()
    SecurityEvent.objects.filter(pk=event.pk).update(
        status=Status.SENDING, last_attempt_at=timezone.now()
    )
    assert events_sweep() == 0  # still within its lease
    with time_machine.travel(timezone.now() + rules.ATTEMPT_LEASE + timedelta(seconds=1)):
        assert events_sweep() == 1
    event.refresh_from_db()
    assert event.status == Status.SENT


def test_the_administrators_click_waits_for_no_receiver(settings, stream, receiver, stop_key):
    """With the database queue (production), committing the stop queues a task and
    pushes nothing: the worker does."""
    settings.TASKS = task_backend("django_tasks_db.DatabaseBackend")
    from django_tasks_db.models import DBTaskResult

    event = stop_key()
    assert receiver.received == []
    assert event.status == Status.PENDING
    assert DBTaskResult.objects.filter(task_path="ssf.tasks.deliver_event").count() == 1


def test_the_verification_event_carries_the_state(
    client, storage, stream, receiver, django_capture_on_commit_callbacks
):
    body = {"stream_id": stream["stream_id"], "state": "VGhpcyBpcyBhbiBleGFtcGxl"}
    with django_capture_on_commit_callbacks(execute=True):
        response = send_json(storage, "POST", VERIFY, body)
    assert response.status_code == 204
    (claims,) = receiver.claims(client.get(JWKS).json())
    assert claims["events"] == {rules.VERIFICATION: {"state": "VGhpcyBpcyBhbiBleGFtcGxl"}}
    assert claims["sub_id"] == {"format": "opaque", "id": stream["stream_id"]}
    assert claims["aud"] == storage.api_client.client_id


def test_a_rotated_key_signs_and_the_old_one_stays_published(
    client, signing_keys, stream, receiver, stop_key
):
    client.get(JWKS)  # the first key, made on first use
    old = json.loads(signing_keys.read_text())
    new = signing.new_key()
    rotated = {"keys": [new.as_dict(private=True), *old["keys"]]}
    signing_keys.write_text(json.dumps(rotated))
    published = client.get(JWKS).json()
    assert [key["kid"] for key in published["keys"]] == [new.kid, old["keys"][0]["kid"]]
    stop_key()
    header = jwt.decode(receiver.tokens[0], KeySet.import_key_set(published)).header
    assert header["kid"] == new.kid
    only_old = {"keys": [published["keys"][1]]}
    with pytest.raises(JoseError):
        receiver.claims(only_old)


def test_a_stream_deleted_meanwhile_drops_its_events(storage, stream, receiver, stop_key):
    receiver.answers = [(503, b"")]
    stop_key()
    storage.delete(f"{STREAMS}?stream_id={stream['stream_id']}")
    assert not Stream.objects.exists() and not SecurityEvent.objects.exists()


def test_a_receiver_name_that_resolves_to_a_local_address_is_not_pushed_to(
    settings, storage, stop_key, monkeypatch
):
    """A public-looking name pointing into the console's own network (checked when
    pushing, as the address may change after the stream was made)."""
    settings.SSF_ALLOW_INSECURE_RECEIVERS = False
    send_json(storage, "POST", STREAMS, stream_body("https://receiver.example.jp/events"))
    monkeypatch.setattr("socket.getaddrinfo", lambda host, port: [(2, 1, 6, "", ("10.0.0.7", 0))])
    event = stop_key()
    assert event.status == Status.FAILED
    assert "local address" in event.last_error


def test_a_redirect_is_not_followed(storage, receiver, stop_key):
    receiver.answers = [(307, b"")]
    send_json(storage, "POST", STREAMS, stream_body(receiver.url))
    event = stop_key()
    assert event.status == Status.PENDING
    assert event.last_error == "HTTP 307"
    assert len(receiver.received) == 1


def test_an_answer_that_is_no_http_is_tried_again(storage, stop_key):
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_garbage():
        connection, _address = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/events"
    send_json(storage, "POST", STREAMS, stream_body(url))
    event = stop_key()
    thread.join(timeout=10)
    listener.close()
    assert event.status == Status.PENDING
    assert "BadStatusLine" in event.last_error

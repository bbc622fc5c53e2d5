"""Fixtures of the Shared Signals tests: a signing key of the test's own, the storage
service's API client, and a receiver: a small HTTP server on 127.0.0.1 that keeps
every SET pushed to it and answers as the test tells it."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet

from api.services import api_client_create
from tests.api.conftest import app_token, waiting_key  # noqa: F401 (fixtures)
from tests.conftest import SETUP

STREAMS = "/api/ssf/streams"
STATUS = "/api/ssf/status"
VERIFY = "/api/ssf/verify"
JWKS = "/api/ssf/jwks"
CONFIGURATION = "/.well-known/ssf-configuration"


@pytest.fixture(autouse=True)
def signing_keys(settings, tmp_path):
    """A key file of the test's own, created on first use as in development; and
    receivers on 127.0.0.1 allowed, as for local tests."""
    settings.SSF_SIGNING_KEYS_FILE = str(tmp_path / "ssf-keys.json")
    settings.SSF_GENERATE_DEVELOPMENT_KEY = True
    settings.SSF_ALLOW_INSECURE_RECEIVERS = True
    return tmp_path / "ssf-keys.json"


def basic_client(client_id: str, secret: str) -> Client:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return Client(HTTP_AUTHORIZATION=f"Basic {basic}")


def make_storage(name: str) -> Client:
    api_client, secret = api_client_create(name=name, actor=SETUP)
    client = basic_client(api_client.client_id, secret)
    client.api_client = api_client
    return client


@pytest.fixture
def storage(db):
    """The storage service's API client, as a test client with its HTTP Basic."""
    return make_storage("storage")


@pytest.fixture
def other_storage(db):
    """Another API client."""
    return make_storage("other storage")


def send_json(client: Client, method: str, url: str, body) -> object:
    """A request with a JSON body (GET: none)."""
    if method == "GET":
        return client.get(url)
    return client.generic(method, url, json.dumps(body), content_type="application/json")


class Receiver:
    """What the receiver got, and what it answers next (`answers`, then 202)."""

    def __init__(self):
        self.received: list[dict] = []
        self.answers: list[tuple[int, bytes]] = []
        self.lock = threading.Lock()
        self.on_receive = None

    @property
    def tokens(self) -> list[str]:
        return [request["body"].decode() for request in self.received]

    def claims(self, jwks: dict) -> list[dict]:
        """The claims of every SET received, each verified against `jwks`."""
        keys = KeySet.import_key_set(jwks)
        return [
            jwt.decode(token, keys, algorithms=["RS256", "ES256"]).claims for token in self.tokens
        ]


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                state.received.append({"headers": dict(self.headers), "body": body})
                status, answer = state.answers.pop(0) if state.answers else (202, b"")
            if state.on_receive:
                state.on_receive()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if 300 <= status < 400:  # onward to this same receiver, were it followed
                self.send_header("Location", state.url + "/elsewhere")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/events"
    yield state
    server.shutdown()
    server.server_close()


def stream_body(url: str, events=None, **more) -> dict:
    from ssf import rules

    return {
        "delivery": {"method": rules.PUSH, "endpoint_url": url},
        "events_requested": list(rules.SUPPORTED_EVENTS) if events is None else events,
        **more,
    }


@pytest.fixture
def stream(storage, receiver):
    """A stream of the storage service to the receiver, with every event."""
    response = send_json(storage, "POST", STREAMS, stream_body(receiver.url))
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def jwks(client):
    return client.get(JWKS).json()

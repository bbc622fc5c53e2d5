"""停止 → event received: from the administrator's 停止 to the storage service's
receiver holding the CAEP session-revoked Security Event Token, as in production. The
停止 commits (the event is recorded with it), a task worker of its own process picks
the delivery from the database queue the way `make serve` runs it (`db_worker
--interval 1`), signs the SET and pushes it over HTTP to a receiver on 127.0.0.1,
which verifies it with joserfc against the console's public keys before it notes the
time. ROUNDS 停止 of ROUNDS registered keys, one after the other, each at a random
moment of the worker's polling second.
"""

import http.server
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

from api.registrations import app_registration_create
from api.services import api_client_create
from bench import dataset, servers
from bench.timing import percentile
from core import actors
from devicekeys import rules
from devicekeys.models import DeviceKey
from devicekeys.services import device_key_stop
from ssf import keys
from ssf import rules as ssf_rules
from ssf import services as ssf

ROUNDS = 20
WORKER_INTERVAL = 1  # db_worker --interval of bin/serve and docs/OPERATIONS.md
LIMIT = 30.0  # seconds for one event to arrive before the run gives up
ACTOR = actors.System("bench")


class Receiver(http.server.ThreadingHTTPServer):
    """RFC 8935 push: verifies each SET, notes when each session's event arrived."""

    def __init__(self, public_keys: dict):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.keys = KeySet.import_key_set(public_keys)
        self.arrived: dict[str, float] = {}
        self.event = threading.Condition()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        claims = jwt.decode(body, self.server.keys).claims
        self.send_response(202)
        self.end_headers()
        session = claims["sub_id"].get("session", {}).get("id")
        with self.server.event:
            self.server.arrived[session] = time.time()
            self.server.event.notify_all()

    def log_message(self, *args):
        pass


def _registered_key(data: dataset.Dataset, n: int) -> tuple[DeviceKey, str]:
    user = data.device_user
    key = DeviceKey.objects.create(
        contract_id=user.contract_id,
        user=user,
        device_name=f"event-{n}",
        key="",
        key_hash=f"bench$event{n}",
        key_suffix="EV",
        registered_at=timezone.now(),
        registered_by=rules.Client.IOS,
    )
    registration, _tokens = app_registration_create(
        contract=user.contract,
        user=user,
        client=rules.Client.IOS,
        device_name=key.device_name,
        device_key=key,
    )
    return key, registration.public_id


def run(data: dataset.Dataset, *, log: Path) -> dict:
    receiver = Receiver(keys.public_jwks())
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    client, _secret = api_client_create(name="bench receiver", actor=ACTOR)
    url = f"http://127.0.0.1:{receiver.server_port}/events"
    config = ssf_rules.stream_config(
        {
            "delivery": {"method": ssf_rules.PUSH, "endpoint_url": url},
            "events_requested": [ssf_rules.SESSION_REVOKED],
        },
        allow_insecure=True,
        partial=False,
    )
    ssf.stream_create(client=client, actor=ACTOR, config=config)
    environment = {**os.environ, "SSF_ALLOW_INSECURE_RECEIVERS": "true"}
    with log.open("ab") as output:
        worker = subprocess.Popen(  # noqa: S603 (the project's own worker)
            [
                *(sys.executable, "manage.py", "db_worker", "--no-reload"),
                *("--interval", str(WORKER_INTERVAL)),
            ],
            cwd=servers.ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    seconds = []
    try:
        time.sleep(2)  # the worker is up and polling
        for n in range(ROUNDS):
            key, session = _registered_key(data, n)
            # At a random moment of the worker's second, as an administrator clicks.
            time.sleep(random.uniform(0, WORKER_INTERVAL))  # noqa: S311 (not a secret)
            stopped = time.time()
            device_key_stop(contract=key.contract, key=key, actor=ACTOR)
            with receiver.event:
                arrived = receiver.event.wait_for(
                    lambda session=session: session in receiver.arrived, timeout=LIMIT
                )
            if not arrived:
                raise RuntimeError(f"no event within {LIMIT} s (worker log: {log})")
            seconds.append(receiver.arrived[session] - stopped)
    finally:
        servers.stop(worker)
        receiver.shutdown()
    ms = sorted(1000 * value for value in seconds)
    return {
        "rounds": ROUNDS,
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "max_ms": ms[-1],
    }

"""The introspection endpoint (POST /api/oauth/introspect), which the storage service
calls on every request of every app: its server time and queries (in process, as
bench/pages.py measures the pages), and its throughput under gunicorn beside a bare
view of the same stack that answers the same JSON with no query (bench/urls.py), in
the same run: the stack's own limit. And the refresh token grant, which every app
calls once per access token's lifetime: its server time and queries, each refresh
with the token the one before gave (each is used once).
"""

import base64
import json
import tempfile
from pathlib import Path

from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings
from django.utils import timezone

from api.registrations import app_registration_create
from api.services import api_client_create
from api.tokens import IssuedTokens
from bench import dataset, servers
from bench.throughput import DURATION, WARMUP, WORKERS, restarts, wrk
from bench.timing import Case, Timing, call, measure
from core import actors
from devicekeys import rules
from devicekeys.models import DeviceKey

ROUNDS = 300
INTROSPECT = "/api/oauth/introspect"
TOKEN_ENDPOINT = "/api/oauth/token"  # noqa: S105 (a path, not a secret)
BARE = "/bench/bare-introspect"


def _app_tokens(data: dataset.Dataset) -> IssuedTokens:
    """A token of an iOS app of the device user, its key among the table's others, and
    its app registration (used a moment ago: its once-a-minute write falls outside the
    measured seconds)."""
    user = data.device_user
    key = DeviceKey.objects.create(
        contract_id=user.contract_id,
        user=user,
        device_name="iOS",
        key="",
        key_hash="bench$app",
        key_suffix="AP",
        registered_at=timezone.now(),
        # Used a moment ago: its once-a-minute write falls outside the measured seconds.
        last_used_at=timezone.now(),
        registered_by=rules.Client.IOS,
    )
    _registration, tokens = app_registration_create(
        contract=user.contract,
        user=user,
        client=rules.Client.IOS,
        device_name=key.device_name,
        device_key=key,
    )
    return tokens


def _refreshes(app, refresh_token: str, *, rounds: int, warmup: int = 3) -> Timing:
    """`rounds` refresh grants in a row, each with the refresh token the one before
    gave (a refresh token works once)."""
    timing = Timing()
    for number in range(warmup + rounds):
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "ios"}
        elapsed, queries, body = call(
            app, Case(TOKEN_ENDPOINT, form=form), expect=b'"refresh_token"'
        )
        refresh_token = json.loads(body)["refresh_token"]
        if number >= warmup:
            timing.seconds.append(elapsed)
            timing.queries.append(queries)
    return timing


def run(data: dataset.Dataset, *, throughput: bool) -> dict:
    tokens = _app_tokens(data)
    token = tokens.access_token
    client, secret = api_client_create(name="bench", actor=actors.System("bench"))
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    headers = {"HTTP_AUTHORIZATION": f"Basic {basic}"}
    form = {"token": token}
    with override_settings(ROOT_URLCONF="bench.urls"):
        app = WSGIHandler()
        timings = measure(
            {
                "introspect": (
                    app,
                    Case(INTROSPECT, form=form, headers=headers),
                    b'"active": true',
                ),
                "bare": (app, Case(BARE, form=form, headers=headers), b'"active": true'),
            },
            rounds=ROUNDS,
        )
        timings["refresh"] = _refreshes(app, tokens.refresh_token, rounds=ROUNDS)
    results = {name: timing.summary() for name, timing in timings.items()}
    if throughput:
        results["load"] = _load(basic, token)
    return results


def _load(basic: str, token: str) -> dict:
    wrk_headers = [f"Authorization: Basic {basic}", "Accept-Language: ja"]
    body = f"token={token}"
    with tempfile.TemporaryDirectory(prefix="azukeru-bench-introspect-") as folder:
        log = Path(folder) / "gunicorn.log"
        environment = {"DJANGO_SETTINGS_MODULE": "bench.settings"}
        with servers.gunicorn(workers=WORKERS, log=log, environment=environment) as (base, _):
            runs = {}
            for name, path in (("introspect", INTROSPECT), ("bare", BARE)):
                wrk(base + path, WARMUP, headers=wrk_headers, body=body)
                booted = restarts(log)
                runs[name] = wrk(base + path, DURATION, headers=wrk_headers, body=body)
                runs[name]["worker_restarts"] = restarts(log) - booted
    runs["ratio"] = runs["introspect"]["requests_per_s"] / runs["bare"]["requests_per_s"]
    return runs

"""A lost phone, end to end over real HTTP: an app registers with its key through the
token endpoint, a storage service (a small one of this test) lets it download as long
as the console's introspection says its token is active (caching each answer for a
moment), the administrator clicks 停止 in Chromium, and the app's next download is
refused once the cache has expired; GET /api/device/status tells the app why;
停止解除 lets it in again.

On PostgreSQL the console is the project's own gunicorn, on the test database. On
SQLite, whose test database lives in this process's memory, it is pytest-django's
live server (real HTTP all the same)."""

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.db import connection
from playwright.sync_api import expect

from api.forms import GRANT_TYPE
from api.services import api_client_create
from bench import servers
from devicekeys import services as keys
from tests.conftest import PASSWORD, SETUP
from tests.e2e.browsing import message, sign_in
from tests.notifications.test_worker_process import database_url

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CACHE_SECONDS = 1.0  # how long the storage service trusts an introspection answer


@pytest.fixture
def console_url(live_server, tmp_path, settings, admin_a, users_a):
    if connection.vendor != "postgresql":
        yield live_server.url
        return
    # gunicorn knows only the production hashers: the personas' passwords (MD5 in the
    # tests, for speed) are hashed again with one of them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    for user in (admin_a, *users_a):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    log = tmp_path / "gunicorn.log"
    with servers.gunicorn(workers=2, log=log, environment={"DATABASE_URL": database_url()}) as (
        base,
        _server,
    ):
        yield base


def http(method, url, *, data=None, headers=None):
    """(status, headers, body) of a request over real HTTP."""
    body = urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class StorageService:
    """GET /download with `Authorization: Bearer <token>`: the file, as long as the
    console says the token is active; each answer is kept CACHE_SECONDS."""

    def __init__(self, console: str, client_id: str, secret: str):
        self.introspect = f"{console}/api/oauth/introspect"
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.authorization = f"Basic {basic}"
        self.cache: dict[str, tuple[float, bool]] = {}

    def active(self, token: str) -> bool:
        known = self.cache.get(token)
        if known and time.monotonic() - known[0] < CACHE_SECONDS:
            return known[1]
        status, _headers, body = http(
            "POST",
            self.introspect,
            data={"token": token},
            headers={"Authorization": self.authorization},
        )
        assert status == 200, body
        active = json.loads(body)["active"]
        self.cache[token] = (time.monotonic(), active)
        return active

    def __call__(self, environ, start_response):
        scheme, _space, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme == "Bearer" and self.active(token):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"the file"]
        start_response("401 Unauthorized", [("WWW-Authenticate", 'Bearer error="invalid_token"')])
        return [b""]


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def storage_url(console_url):
    client, secret = api_client_create(name="storage of the test", actor=SETUP)
    server = make_server(
        "127.0.0.1", 0, StorageService(console_url, client.client_id, secret), handler_class=Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_stop_locks_a_lost_phone_out_of_the_storage_service(
    browser, console_url, storage_url, admin_a, users_a
):
    taro = users_a[0]
    key = keys.device_key_issue(
        contract=taro.contract, user=taro, actor=admin_a, device_name="taroのiPhone"
    )
    # The app registers with its key.
    status, headers, body = http(
        "POST",
        f"{console_url}/api/oauth/token",
        data={
            "grant_type": GRANT_TYPE,
            "client_id": "ios",
            "username": "taro-a",
            "password": PASSWORD,
            "device_key": key.key,
        },
    )
    assert status == 200 and headers["Cache-Control"] == "no-store", body
    token = json.loads(body)["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}

    def download() -> int:
        return http("GET", f"{storage_url}/download", headers=bearer)[0]

    assert download() == 200

    # The phone is lost: the administrator clicks 停止.
    context = browser.new_context(base_url=console_url, locale="ja-JP")
    page = context.new_page()
    sign_in(page, "admin-a")
    page.goto("/console/device-keys/")
    row = page.get_by_role("row", name="taroのiPhone")
    expect(row).to_contain_text("iOSアプリ")
    row.get_by_role("link", name="停止 taroのiPhone").click()
    page.get_by_role("button", name="停止する").click()
    expect(message(page)).to_contain_text("端末認証キーを停止しました")
    stopped_at = time.monotonic()

    while download() == 200:  # the storage service's cached answer, for a moment
        assert time.monotonic() - stopped_at < CACHE_SECONDS + 5
        time.sleep(0.05)
    locked_after = time.monotonic() - stopped_at
    assert locked_after <= CACHE_SECONDS + 1
    status, _headers, body = http(
        "GET", f"{console_url}/api/device/status", headers={**bearer, "Accept-Language": "ja"}
    )
    assert status == 200
    assert json.loads(body)["state"] == "stopped"
    assert "利用停止" in json.loads(body)["message"]

    # 停止解除: the same token opens the service again.
    page.goto("/console/device-keys/")
    page.get_by_role("row", name="taroのiPhone").get_by_role(
        "link", name="停止解除 taroのiPhone"
    ).click()
    page.get_by_role("button", name="停止を解除する").click()
    expect(message(page)).to_contain_text("停止を解除しました")
    time.sleep(CACHE_SECONDS)
    assert download() == 200
    context.close()

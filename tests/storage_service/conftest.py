"""The storage service (this folder's Django project) as a process of its own, on a
free loopback port and its own SQLite file, against the console in pytest-django's
live server (SITE_URL set to it). Its API client is made through
api.services.api_client_create; the process is stopped at teardown, also when the
test fails."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from api.forms import GRANT_TYPE
from api.services import api_client_create
from bench.servers import free_port, stop, wait_for
from devicekeys import services as keys
from tests.conftest import PASSWORD, SETUP

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "azc_storage-of-the-tests"
CLIENT_SECRET = "storage-service-secret-of-the-tests"


def _environment(*, console: str, storage: str, database: Path) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.storage_service.settings",
        "CONSOLE_URL": console,
        "STORAGE_URL": storage,
        "STORAGE_CLIENT_ID": CLIENT_ID,
        "STORAGE_CLIENT_SECRET": CLIENT_SECRET,
        "STORAGE_DATABASE": str(database),
    }


@pytest.fixture(scope="session")
def storage_database(tmp_path_factory) -> Path:
    """The storage service's database, migrated once; each test gets a copy."""
    database = tmp_path_factory.mktemp("storage") / "template.sqlite3"
    environment = _environment(
        console="http://127.0.0.1", storage="http://127.0.0.1", database=database
    )
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--run-syncdb", "--verbosity=0"],
        cwd=ROOT,
        env=environment,
        check=True,
    )
    return database


@dataclass
class StorageService:
    url: str
    database: Path
    environment: dict
    log: Path

    def files(self, token: str) -> int:
        """The status of the app's request for its file list."""
        response = requests.get(
            f"{self.url}/files", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        return response.status_code

    def assert_serves(self, token: str) -> None:
        """The file list is given; else why DOT refused: an introspection answer it
        cached but whose audience (`aud`, RFC 8707 in DOT) is not this service's URL."""
        status = self.files(token)
        cached = self.rows("SELECT resource, expires FROM oauth2_provider_accesstoken")
        assert status == 200, f"DOT answered {status}; cached (resource, expires): {cached}"

    def rows(self, query: str) -> list[tuple]:
        with sqlite3.connect(self.database) as db:
            return db.execute(query).fetchall()

    def cached_until(self) -> list[float]:
        """Until when DOT keeps each cached introspection answer (Unix time)."""
        rows = self.rows("SELECT expires FROM oauth2_provider_accesstoken")
        return [
            datetime.fromisoformat(expires).replace(tzinfo=UTC).timestamp() for (expires,) in rows
        ]

    def events(self) -> list[dict]:
        rows = self.rows(
            "SELECT event_type, subject, received_at, dropped FROM storage_receivedevent"
        )
        return [
            {"type": kind, "subject": json.loads(subject), "received_at": at, "dropped": dropped}
            for kind, subject, at, dropped in rows
        ]

    def subscribe(self) -> str:
        """The service creates its stream at the console (its `subscribe` command)."""
        done = subprocess.run(
            [sys.executable, "-m", "django", "subscribe"],
            cwd=ROOT,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


@pytest.fixture
def storage_port() -> int:
    return free_port()


@pytest.fixture
def console(live_server, settings, transactional_db, storage_port):
    """The console at its live server's address, with the storage service's client,
    which names the service's URL as its resource (introspection's `aud`, checked by
    django-oauth-toolkit against the URL of each request)."""
    settings.SITE_URL = live_server.url
    api_client_create(
        name="storage service",
        actor=SETUP,
        client_id=CLIENT_ID,
        secret=CLIENT_SECRET,
        resource_url=f"http://127.0.0.1:{storage_port}/",
    )
    return live_server.url


@pytest.fixture
def storage_service(console, storage_database, tmp_path, storage_port):
    port = storage_port
    url = f"http://127.0.0.1:{port}"
    database = tmp_path / "storage.sqlite3"
    shutil.copy(storage_database, database)
    environment = _environment(console=console, storage=url, database=database)
    log = tmp_path / "storage.log"
    with log.open("ab") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            try:
                wait_for(port, server, timeout=30)
            except RuntimeError as error:
                pytest.fail(f"the storage service did not start ({error}):\n{log.read_text()}")
            yield StorageService(url=url, database=database, environment=environment, log=log)
        finally:
            stop(server)


def sign_in_app(console: str, user, **fields) -> dict:
    """The token endpoint's answer to an iOS app of `user` (the device-key grant)."""
    response = requests.post(
        f"{console}/api/oauth/token",
        data={
            "grant_type": GRANT_TYPE,
            "client_id": "ios",
            "username": user.login_id,
            "password": PASSWORD,
            **fields,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def register(console: str, user, actor, device_name: str = "taroのiPhone") -> tuple[object, dict]:
    """A key for `user`, and the token endpoint's answer to its app's registration."""
    key = keys.device_key_issue(
        contract=user.contract, user=user, actor=actor, device_name=device_name
    )
    return key, sign_in_app(console, user, device_key=key.key)

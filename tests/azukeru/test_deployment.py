"""Production posture and the real gunicorn."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from azukeru import settings as project_settings

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 20 + "-production-only-secret-key-for-the-check-0123456789",
    "ALLOWED_HOSTS": "console.example.jp",
    "SITE_URL": "https://console.example.jp",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.jp:587",
}


def run_manage(*args, env):
    environment = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_argon2_is_the_first_password_hasher():
    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_sqlite_writers_queue_instead_of_failing():
    if project_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        options = project_settings.DATABASES["default"]["OPTIONS"]
        assert options["transaction_mode"] == "IMMEDIATE"
        assert "journal_mode=WAL" in options["init_command"]


def test_check_deploy_is_clean_in_production():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn_server():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--workers", "1"],
        cwd=ROOT,
        env={**os.environ, "BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None:
                pytest.fail(process.stderr.read().decode())
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=30)


def test_gunicorn_serves_the_login_page_with_csp(gunicorn_server):
    with urllib.request.urlopen(f"{gunicorn_server}/login/", timeout=10) as response:  # noqa: S310
        body = response.read().decode()
        assert response.status == 200
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "ログインID" in body
    with urllib.request.urlopen(f"{gunicorn_server}/static/css/console.css", timeout=10) as css:  # noqa: S310
        assert css.status == 200


def test_gunicorn_hands_a_10000_character_search_to_the_consoles_414_page(gunicorn_server):
    """gunicorn's own limit would answer with its plain-text English 414
    (gunicorn.conf.py lifts it); the console answers with its page."""
    search = urllib.parse.urlencode({"q": "検索" * 5_000})
    request = urllib.request.Request(f"{gunicorn_server}/console/users/?{search}")  # noqa: S310
    request.add_header("Cookie", "django_language=en")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310
    assert refused.value.code == 414
    body = refused.value.read().decode()
    assert '<html lang="en">' in body and "The address is too long" in body


WARM_UP_CHECK = """
import threading
from django.db import connections
import azukeru.wsgi
from django.template import engines
loader = engines["django"].engine.template_loaders[0]
print(len(loader.get_template_cache), threading.active_count(),
      sum(c.connection is not None for c in connections.all()))
"""


def test_the_application_is_warmed_without_a_connection_or_a_thread():
    """gunicorn forks its workers from a master that imported azukeru.wsgi
    (preload_app): the templates are compiled there, and nothing that must not be
    shared across a fork (a database connection, a thread) is opened."""
    run = subprocess.run(
        [sys.executable, "-c", WARM_UP_CHECK],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "azukeru.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    compiled, threads, connections = map(int, run.stdout.split())
    templates = [p for p in (ROOT / "templates").rglob("*") if p.suffix in {".html", ".txt"}]
    assert compiled >= len(templates)
    assert (threads, connections) == (1, 0)

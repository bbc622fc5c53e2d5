"""Throughput: gunicorn with the project's gunicorn.conf.py (2 workers) on a free
loopback port, loaded by wrk for DURATION seconds per page with CONNECTIONS
connections: twice the workers, so that neither worker is ever idle (saturated)
and every request may wait behind one other.

Only 127.0.0.1 is ever addressed. The sessions are made directly in the
database (bench.dataset.session_cookies), so that no sign-in is throttled.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from bench import dataset

WORKERS = 2
CONNECTIONS = 2 * WORKERS
DURATION = 30  # seconds of load per page
WARMUP = 2  # seconds of load before each measured run (workers' first requests)
LUA = Path(__file__).with_name("wrk_report.lua")


def run(data: dataset.Dataset) -> dict:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(WORKERS)}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with (
        tempfile.TemporaryDirectory(prefix="azukeru-bench-gunicorn-") as folder,
        open(Path(folder) / "gunicorn.log", "ab") as output,
    ):
        log = Path(output.name)
        server = subprocess.Popen(  # noqa: S603 (the project's own gunicorn)
            [str(gunicorn), "-c", "gunicorn.conf.py"],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_for(port, server)
            pages = {
                "利用者ID一覧 (999 rows, first page)": (
                    reverse("accounts:user-list"),
                    dataset.session_cookies(data.administrators["full"]),
                    b"full-0001",
                ),
                "ホーム (user ID, device check)": (
                    reverse("accounts:user-home"),
                    dataset.device_cookies(data),
                    data.device_user.login_id.encode(),
                ),
            }
            results = {}
            for name, (path, cookies, expect) in pages.items():
                cookie = "; ".join(f"{key}={value}" for key, value in cookies.items())
                _check(base + path, cookie, expect)
                _wrk(base + path, cookie, WARMUP)
                booted = _restarts(log)
                results[name] = _wrk(base + path, cookie, DURATION)
                # gunicorn.conf.py's max_requests recycles a worker every ~2,000 requests.
                results[name]["worker_restarts"] = _restarts(log) - booted
        finally:
            _stop(server)
    return {
        "workers": WORKERS,
        "connections": CONNECTIONS,
        "duration_s": DURATION,
        "pages": results,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited before it listened")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not listen on 127.0.0.1:{port} within {timeout} s")


def _restarts(log: Path) -> int:
    """Workers booted so far, according to gunicorn's log."""
    return log.read_bytes().count(b"Booting worker")


def _check(url: str, cookie: str, expect: bytes) -> None:
    """One request first: the page answers 200 with the signed-in content (not the
    sign-in page), so that every request of the load is a real one."""
    request = urllib.request.Request(url, headers={"Cookie": cookie, "Accept-Language": "ja"})  # noqa: S310 (loopback)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        if response.status != 200 or expect not in response.read():
            raise RuntimeError(f"{url} did not answer with the signed-in page")


def _wrk(url: str, cookie: str, seconds: int) -> dict:
    command = [
        "wrk",
        "--threads=1",
        f"--connections={CONNECTIONS}",
        f"--duration={seconds}s",
        "--timeout=5s",
        f"--script={LUA}",
        f"--header=Cookie: {cookie}",
        "--header=Accept-Language: ja",
        url,
    ]
    finished = subprocess.run(  # noqa: S603 (wrk, on loopback)
        command, capture_output=True, text=True, check=True, timeout=seconds + 30
    )
    report = json.loads(finished.stdout.strip().splitlines()[-1])
    report["requests_per_s"] = report["requests"] / report["seconds"]
    report["errors"] = sum(
        report[kind] for kind in ("not_200", "connect", "read", "write", "timeout")
    )
    return report


def _stop(server: subprocess.Popen) -> None:
    """gunicorn's graceful stop (SIGTERM to the arbiter, which stops its workers)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

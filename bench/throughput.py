"""Throughput: gunicorn with the project's gunicorn.conf.py (2 workers) on a free
loopback port, loaded by wrk for DURATION seconds per page with CONNECTIONS
connections: twice the workers, so that neither worker is ever idle (saturated)
and every request may wait behind one other.

Only 127.0.0.1 is ever addressed. The sessions are made directly in the
database (bench.dataset.session_cookies), so that no sign-in is throttled.
"""

import json
import os
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from django.urls import reverse

from bench import dataset, servers

WORKERS = 2
CONNECTIONS = 2 * WORKERS
DURATION = 30  # seconds of load per page
WARMUP = 2  # seconds of load before each measured run (workers' first requests)
LUA = Path(__file__).with_name("wrk_report.lua")


def run(data: dataset.Dataset) -> dict:
    with tempfile.TemporaryDirectory(prefix="azukeru-bench-gunicorn-") as folder:
        log = Path(folder) / "gunicorn.log"
        with servers.gunicorn(workers=WORKERS, log=log) as (base, _server):
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
                headers = [f"Cookie: {cookie}", "Accept-Language: ja"]
                wrk(base + path, WARMUP, headers=headers)
                booted = restarts(log)
                results[name] = wrk(base + path, DURATION, headers=headers)
                # gunicorn.conf.py's max_requests recycles a worker every ~2,000 requests.
                results[name]["worker_restarts"] = restarts(log) - booted
    return {
        "workers": WORKERS,
        "connections": CONNECTIONS,
        "duration_s": DURATION,
        "pages": results,
    }


def restarts(log: Path) -> int:
    """Workers booted so far, according to gunicorn's log."""
    return log.read_bytes().count(b"Booting worker")


def _check(url: str, cookie: str, expect: bytes) -> None:
    """One request first: the page answers 200 with the signed-in content (not the
    sign-in page), so that every request of the load is a real one."""
    request = urllib.request.Request(url, headers={"Cookie": cookie, "Accept-Language": "ja"})  # noqa: S310 (loopback)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        if response.status != 200 or expect not in response.read():
            raise RuntimeError(f"{url} did not answer with the signed-in page")


def wrk(url: str, seconds: int, *, headers: list[str], body: str | None = None) -> dict:
    """wrk on `url` for `seconds` (a POST of the form `body` when given): the JSON line
    of wrk_report.lua, with requests per second and every kind of error summed."""
    command = [
        "wrk",
        "--threads=1",
        f"--connections={CONNECTIONS}",
        f"--duration={seconds}s",
        "--timeout=5s",
        f"--script={LUA}",
        *(f"--header={header}" for header in headers),
        url,
    ]
    environment = {**os.environ, **({"WRK_BODY": body} if body is not None else {})}
    finished = subprocess.run(  # noqa: S603 (wrk, on loopback)
        command, capture_output=True, text=True, check=True, timeout=seconds + 30, env=environment
    )
    report = json.loads(finished.stdout.strip().splitlines()[-1])
    report["requests_per_s"] = report["requests"] / report["seconds"]
    report["errors"] = sum(
        report[kind] for kind in ("not_200", "connect", "read", "write", "timeout")
    )
    return report

"""The project's own gunicorn (gunicorn.conf.py) on a free loopback port, for the
benchmarks and the tests that need real HTTP against it: started, waited for, and
stopped gracefully. Only 127.0.0.1 is ever addressed."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
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


def stop(server: subprocess.Popen) -> None:
    """gunicorn's graceful stop (SIGTERM to the arbiter, which stops its workers)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@contextmanager
def gunicorn(*, workers: int, log: Path, environment: dict | None = None):
    """gunicorn with gunicorn.conf.py and `workers` workers; yields its base URL and
    the process. Its output goes to `log`."""
    port = free_port()
    env = {
        **os.environ,
        **(environment or {}),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
    }
    executable = Path(sys.executable).with_name("gunicorn")
    with open(log, "ab") as output:
        server = subprocess.Popen(  # noqa: S603 (the project's own gunicorn)
            [str(executable), "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(port, server)
            yield f"http://127.0.0.1:{port}", server
        finally:
            stop(server)

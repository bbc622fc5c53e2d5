"""Requests timed as the server sees them: a WSGI call into the project's
application (every middleware, the view, the template, the response closed),
with no HTTP client, socket or test instrumentation in the measurement.

Cases are measured in rounds, each round running every case once, so that a
burst of noise on the machine falls on all of them alike.
"""

import io
import math
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db import connection

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"


@dataclass(frozen=True)
class Case:
    """One request: a GET of `path` with `query`, sent with `cookies`; or, with
    `form`, a POST of that form (and `headers`, as HTTP_* names)."""

    path: str
    query: dict = field(default_factory=dict)
    cookies: dict = field(default_factory=dict)
    form: dict | None = None
    headers: dict = field(default_factory=dict)

    def environ(self) -> dict:
        body = urlencode(self.form).encode() if self.form is not None else b""
        posted = {}
        if self.form is not None:
            posted = {
                "CONTENT_TYPE": "application/x-www-form-urlencoded",
                "CONTENT_LENGTH": str(len(body)),
            }
        return {
            **posted,
            **self.headers,
            "REQUEST_METHOD": "GET" if self.form is None else "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": self.path,
            "QUERY_STRING": urlencode(self.query),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_USER_AGENT": USER_AGENT,
            "HTTP_ACCEPT_LANGUAGE": "ja",
            "HTTP_COOKIE": "; ".join(f"{name}={value}" for name, value in self.cookies.items()),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }


class _QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def call(app, case: Case, *, expect: bytes | None = None) -> tuple[float, int, bytes]:
    """One request: seconds from the call to the closed response, queries, body.
    Anything but 200 (a redirect to the sign-in page included) stops the run."""
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    counter = _QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        response = app(case.environ(), start_response)
        try:
            body = b"".join(response)
        finally:
            response.close()
        elapsed = time.perf_counter() - started
    if not statuses[0].startswith("200"):
        raise RuntimeError(f"GET {case.path}?{urlencode(case.query)}: {statuses[0]}")
    if expect is not None and expect not in body:
        raise RuntimeError(f"GET {case.path}?{urlencode(case.query)}: {expect!r} not in the page")
    return elapsed, counter.count, body


@dataclass
class Timing:
    """Server times (seconds) and query counts of one case's requests."""

    seconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return percentile(self.seconds, 50)

    @property
    def p95(self) -> float:
        return percentile(self.seconds, 95)

    @property
    def query_count(self) -> int:
        """The count of a typical request (the session's last-seen stamp is written
        once a minute, so one request in many has one query more)."""
        return Counter(self.queries).most_common(1)[0][0]

    def summary(self) -> dict:
        return {
            "n": len(self.seconds),
            "p50_ms": self.p50 * 1000,
            "p95_ms": self.p95 * 1000,
            "mean_ms": statistics.fmean(self.seconds) * 1000,
            "queries": self.query_count,
            "queries_max": max(self.queries),
        }


def paired_difference_ms(timings: Timing, baseline: Timing) -> float:
    """The median of the differences between the requests of the same rounds (ms):
    what one case costs more than the other, with the noise common to a round cancelled."""
    pairs = zip(timings.seconds, baseline.seconds, strict=True)
    return statistics.median(one - other for one, other in pairs) * 1000


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def measure(cases: dict, *, rounds: int, warmup: int = 3) -> dict[str, Timing]:
    """Time every case `rounds` times, a round running each case once (every other
    round in the reverse order), after `warmup` untimed rounds. `cases` maps a name
    to (app, Case, expected bytes)."""
    timings = {name: Timing() for name in cases}
    order = list(cases.items())
    for round_number in range(warmup + rounds):
        for name, (app, case, expect) in order if round_number % 2 else reversed(order):
            elapsed, queries, _ = call(app, case, expect=expect)
            if round_number >= warmup:
                timings[name].seconds.append(elapsed)
                timings[name].queries.append(queries)
    return timings

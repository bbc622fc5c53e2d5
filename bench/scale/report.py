"""The `make scale` section of docs/PERFORMANCE.md: both runs side by side."""

METHOD = """\
How it is run (bench/scale, `python -m bench.scale --help`): a throw-away PostgreSQL
cluster; per run a database of its own, migrated and seeded straight to PostgreSQL,
and an SMTP sink (aiosmtpd) that counts every mail by the outbox row it names. Every
contract's administrator works at once, one thread each, over HTTP on 127.0.0.1:
sign-in, 利用者ID一覧, user IDs created by the form and by a CSV import (all mailed),
key issue, a browser signing in with the key from its mail and opening ホーム ten
times, two apps registering (POST /api/oauth/token) and the storage service
introspecting their tokens, 停止 and 再発行, 停止 of the browser's key, two user
IDs deleted, ログ管理. Two "near full" contracts (990 user IDs and keys) are worked
by two sessions at once, one per instance, both trying to pass 999. A contract's
console talks to one instance, its users and apps to the other. "停止 → refusal" is
the time from sending 停止 to the first introspection (asked of the other instance,
in a loop) that answers inactive. After the load the run waits for the outbox and
the imports to drain, then checks the database against what every administrator was
told (bench/scale/data.py) and fails when a check does not hold.

The times include the wait for a free gunicorn worker. With 26 administrators at
once on 2 (single) or 4 (scale-out) sync workers, a page often waits behind a
sign-in or a user creation, whose Argon2 hash takes about 0.12 s of 1.5 cores: that
queueing, not the page itself, is most of the time of the screens around a form.

The leases after which the sweep takes back a dead worker's work are shortened for
this run only (bench/scale/settings.py: a mail's attempt 30 s, an import's heartbeat
50 s; in production 5 and 2 minutes). On a 2-CPU machine, both runs share the same
two CPUs, so the scale-out run shows what two instances behind PgBouncer cost and
that nothing is lost, not how much faster more machines are."""


def section(results: dict, machine: dict, software: str, contracts: int, seconds: float) -> str:
    labels = list(results)
    lines = [
        "## Scale-out (`make scale`)",
        "",
        f"- Date: {machine['date']}; {machine['cpus']} CPUs ({machine['cpu']}), "
        f"{machine['memory']} memory; {software}",
        f"- Load: {contracts} contracts and 2 near-full ones at once; the whole of "
        f"`make scale` took {seconds:.0f} s",
        "- Result: "
        + (
            "every check held in both runs"
            if not any(results[label]["failures"] for label in labels)
            else "FAILED: " + "; ".join(f for label in labels for f in results[label]["failures"])
        ),
        "",
        "| | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for name, cell in _ROWS:
        lines.append(f"| {name} | " + " | ".join(cell(results[label]) for label in labels) + " |")
    lines += ["", "Per kind of request, p50 / p95 / p99 in ms (count):", ""]
    lines += ["| request | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    kinds = sorted({kind for label in labels for kind in results[label]["figures"]["kinds"]})
    for kind in kinds:
        cells = []
        for label in labels:
            found = results[label]["figures"]["kinds"].get(kind)
            cells.append(
                f"{found['p50']} / {found['p95']} / {found['p99']} ({found['count']})"
                if found
                else "–"
            )
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    kills = [what for label in labels for what in results[label]["kills"]]
    if kills:
        lines += ["", "Killed during the scale-out run: " + "; ".join(kills) + "."]
    lines += ["", METHOD]
    return "\n".join(lines)


def _processes(found: dict) -> str:
    shown = found["processes"]
    return (
        f"{shown['gunicorn instances']} gunicorn × 2 workers, {shown['task workers']} task "
        "worker(s), sweep" + (", PgBouncer (transaction)" if shown["pgbouncer"] else ", direct")
    )


def _pair(found: dict, first: str, second: str) -> str:
    return f"{found.get(first, 0)} / {found.get(second, 0)}"


_ROWS = [
    ("processes", _processes),
    ("requests", lambda r: str(r["figures"]["requests"])),
    ("requests per second", lambda r: str(r["figures"]["per_second"])),
    ("load duration", lambda r: f"{r['figures']['seconds']} s"),
    ("answers ≥ 500", lambda r: str(r["figures"]["errors_5xx"])),
    ("connections lost (to a kill)", lambda r: str(r["figures"]["connections_lost"])),
    ("mails received", lambda r: str(r["mail"]["received"])),
    ("mails per second", lambda r: str(r["mail"]["per_second"])),
    ("mails received twice", lambda r: str(r["mail"]["duplicates"])),
    (
        "停止 → first refusal (p50 / max)",
        lambda r: (
            f"{r['figures']['stop_to_refusal_ms']['p50']} / "
            f"{r['figures']['stop_to_refusal_ms']['max']} ms"
        ),
    ),
    (
        "user IDs created / deleted",
        lambda r: _pair(r["totals"], "user IDs created", "user IDs deleted"),
    ),
    ("keys issued", lambda r: str(r["totals"].get("keys issued", 0))),
    ("audit entries checked", lambda r: str(r["totals"].get("audit entries checked", 0))),
    (
        "CSV imports / started again after the kill",
        lambda r: _pair(r["counts"], "imports", "imports started again after a worker died"),
    ),
    (
        "PgBouncer: most clients / server connections / clients waiting",
        lambda r: " / ".join(str(v) for v in r["pgbouncer"].values()) if r["pgbouncer"] else "–",
    ),
    ("outbox drained after the load", lambda r: f"{r['drain_seconds']} s"),
]

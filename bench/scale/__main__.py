"""`make scale`: the same load twice, on a throw-away PostgreSQL cluster.

    python -m bench.scale [--contracts N] [--no-doc]

1. single: one gunicorn instance (2 workers) and one task worker (queues
   "imports,default") and the sweep, straight to PostgreSQL; nothing is killed.
2. scale-out: PgBouncer in transaction pooling in front of the same cluster; two
   gunicorn instances (2 workers each, two ports), two task workers ("default" and
   "imports,default", as bin/serve runs them) and the sweep, all through PgBouncer
   (DATABASE_POOLER=pgbouncer). Halfway, one gunicorn instance and the import worker
   are killed (SIGKILL to the whole process group) and started again 3 s later.

Each run has its own database and its own SMTP sink; migrations, the seed and the
checks go straight to PostgreSQL, as an operator's would. After the load, the run
waits for the outbox and the import jobs to drain, then checks (bench.scale.data)
and fails (exit status 1) when a check does not hold. The figures of both runs
replace the `make scale` section of docs/PERFORMANCE.md (the rest of it is `make
bench`'s). Every process's output is kept under var/scale/.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import report, servers
from bench.scale import load
from bench.scale import report as scale_report
from bench.scale.sink import Sink

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
LOGS = ROOT / "var" / "scale"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# PostgreSQL and PgBouncer refuse to run as root: as root (CI), they run as `postgres`.
AS_PG = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
PYTHON = sys.executable
LOAD_DEADLINE = 420  # seconds for a run's load; a thread still busy after it fails the run
DRAIN_DEADLINE = 180  # seconds for the outbox and the imports to finish after the load


class Cluster:
    """A PostgreSQL cluster in a temporary folder, on its unix socket only. Not
    bin/with-postgres, whose cluster is the test suite's (fsync off, one database):
    this one keeps PostgreSQL's durable defaults, as in production, holds a database
    per run and keeps its log."""

    def __init__(self, folder: Path):
        self.folder = folder
        # PostgreSQL's and PgBouncer's logs are written inside the cluster's folder (its
        # user may not enter the checkout) and copied to var/scale/ at the end.
        self.log = folder / "postgresql.log"

    def __enter__(self):
        self.folder.chmod(0o755)
        if AS_PG:
            shutil.chown(self.folder, "postgres")
        _run([*AS_PG, PG_BIN / "initdb", "-D", self.folder / "data", "-U", "postgres",
              "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"])  # fmt: skip
        options = f"-k {self.folder} -c listen_addresses='' -c max_connections=100 -c timezone=UTC"
        _run([*AS_PG, PG_BIN / "pg_ctl", "-D", self.folder / "data", "-l", self.log,
              "-w", "-t", "60", "-o", options, "start"])  # fmt: skip
        return self

    def __exit__(self, *exc):
        subprocess.run(  # noqa: S603 (PostgreSQL's own pg_ctl)
            [*AS_PG, PG_BIN / "pg_ctl", "-D", self.folder / "data", "-m", "fast", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        for log in self.folder.rglob("*.log"):
            shutil.copy(log, LOGS / log.name)

    def create(self, name: str) -> str:
        """A new database; its URL, straight to the cluster."""
        _run([*AS_PG, PG_BIN / "createdb", "-h", self.folder, "-U", "postgres", name])
        return f"postgres://postgres@/{name}?host={self.folder}"

    def version(self) -> str:
        found = subprocess.run(  # noqa: S603
            [PG_BIN / "postgres", "--version"], capture_output=True, text=True, check=True
        )
        return found.stdout.split()[2]  # "postgres (PostgreSQL) 15.18 (Debian …)"


class Process:
    """One server process (and its children, in a session of their own) that can be
    killed as a machine failure would and started again with the same command."""

    def __init__(self, name: str, command: list, env: dict, *, port: int | None = None):
        self.name, self.command, self.env, self.port = name, command, env, port
        self.log = LOGS / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        with open(self.log, "ab") as output:
            self.popen = subprocess.Popen(  # noqa: S603 (the project's own commands)
                [str(part) for part in self.command],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if self.port:
            try:
                servers.wait_for(self.port, self.popen)
            except RuntimeError:
                self.kill()
                raise
        return self

    def kill(self) -> None:
        """SIGKILL to every process of it: no graceful stop, no cleanup."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self) -> None:
        if self.popen is not None:
            servers.stop(self.popen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=24, help="contracts worked at once")
    parser.add_argument("--no-doc", action="store_true", help="leave docs/PERFORMANCE.md")
    args = parser.parse_args()
    # Stopped from outside (Ctrl-C, a CI timeout): every process this run started is
    # stopped on the way out, the cluster too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not (PG_BIN / "initdb").exists() or not shutil.which("pgbouncer", path=PGBOUNCER_PATH):
        sys.exit("make scale needs postgresql-15 and pgbouncer (make scale installs them)")
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    machine = report.machine()
    # As in production: the static files collected once, served by whitenoise.
    _run([PYTHON, "manage.py", "collectstatic", "--noinput", "--verbosity=0"])
    started = time.monotonic()
    results = {}
    with tempfile.TemporaryDirectory(prefix="azukeru-scale-") as folder:
        Path(folder).chmod(0o755)  # PostgreSQL's own user works inside it
        cluster_dir = Path(folder) / "pg"
        cluster_dir.mkdir()
        with Cluster(cluster_dir) as cluster:
            single = run("single", cluster, args.contracts, scale_out=False)
            results["single"] = single
            print_run("single", single)
            # Kill in the middle: the import worker after a sixth of the single run's
            # requests, as soon as an import is seen running; a web instance after a third.
            kills = {"gunicorn_after": single["figures"]["requests"] // 3,
                     "worker_after": single["figures"]["requests"] // 6}  # fmt: skip
            results["scale-out"] = run("scale-out", cluster, args.contracts, scale_out=True,
                                       kills=kills)  # fmt: skip
            print_run("scale-out", results["scale-out"])
            software = f"PostgreSQL {cluster.version()}, {_pgbouncer_version()}"
    seconds = time.monotonic() - started
    failures = [f"{label}: {line}" for label, run_ in results.items() for line in run_["failures"]]
    if not args.no_doc:
        section = scale_report.section(results, machine, software, args.contracts, seconds)
        DOC.write_text(report.with_scale_section(DOC.read_text() if DOC.exists() else "", section))
        print(f"--- Written to {DOC.relative_to(ROOT)}")
    print(f"--- make scale took {seconds:.0f} s; logs in {LOGS.relative_to(ROOT)}/")
    if failures:
        print("!!! make scale FAILED:", *failures, sep="\n  ")
        sys.exit(1)
    print("--- make scale passed: every check held")


PGBOUNCER_PATH = "/usr/sbin:/usr/bin:" + os.environ.get("PATH", "")


def run(label: str, cluster: Cluster, contracts: int, *, scale_out: bool, kills=None) -> dict:
    name = f"scale_{label.replace('-', '_')}"
    database = cluster.create(name)
    direct = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.scale.settings",
        "DJANGO_ENV": "development",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database,
        "DATABASE_POOLER": "none",
    }
    folder = LOGS / label
    folder.mkdir()
    _run([PYTHON, "manage.py", "migrate", "--noinput", "--verbosity=0"], env=direct)
    _data(direct, "seed", "--contracts", contracts, "--out", folder / "seed.json")
    seed = json.loads((folder / "seed.json").read_text())
    processes: list[Process] = []

    def start(process: Process) -> Process:
        processes.append(process)  # stopped at the end, whether it started or not
        return process.start()

    with Sink() as sink:
        served = {**direct, "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"}
        pools = killer = None
        try:
            if scale_out:
                bouncer = start(pgbouncer(cluster, label))
                served["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{bouncer.port}/{name}"
                served["DATABASE_POOLER"] = "pgbouncer"
                pools = PoolWatch(bouncer.port)
                pools.start()
            instances = [
                start(web(f"{label}-gunicorn-{n}", served)) for n in range(2 if scale_out else 1)
            ]
            queues = ["default", "imports,default"] if scale_out else ["imports,default"]
            workers = [
                start(worker(f"{label}-worker-{n}", served, q)) for n, q in enumerate(queues, 1)
            ]
            start(Process(f"{label}-sweep", [PYTHON, "manage.py", "sweep", "--every", "5"], served))
            load_run = load.Run(seed, [f"127.0.0.1:{p.port}" for p in instances], sink)
            began = time.monotonic()
            threads = load_run.threads()
            for thread in threads:
                thread.start()
            if kills:
                killer = Killer(load_run, instances[1], workers[-1], kills)
                killer.start()
            deadline = began + LOAD_DEADLINE
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            busy = [thread.name for thread in threads if thread.is_alive()]
            seconds = time.monotonic() - began
            if killer:
                killer.stop.set()
                killer.join()
            drained = _data(direct, "drain", "--timeout", DRAIN_DEADLINE, "--out",
                            folder / "drain.json", result=True)  # fmt: skip
            mails_per_second = sink.rate(began)
            (folder / "sink.json").write_text(json.dumps(sink.summary()))
        finally:
            for watcher in (killer, pools):
                if watcher:
                    watcher.stop.set()
            for process in reversed(processes):
                process.stop()
    (folder / "ledger.json").write_text(
        json.dumps({"contracts": load_run.record.contracts}, ensure_ascii=False, indent=1)
    )
    found = _data(direct, "check", "--ledger", folder / "ledger.json", "--sink",
                  folder / "sink.json", "--out", folder / "check.json", result=True)  # fmt: skip
    figures = load_run.record.figures(seconds)
    failures = list(found["failures"]) + list(drained["failures"])
    failures += [f"unexpected: {what}" for what in load_run.record.unexpected]
    if busy:
        failures.append(f"{len(busy)} contracts still busy after {LOAD_DEADLINE} s: {busy[:5]}")
    if figures["errors_5xx"]:
        failures.append(f"{figures['errors_5xx']} answers of 500 or more")
    if found["mail"]["duplicates"] and not kills:
        failures.append(f"{found['mail']['duplicates']} mails received twice with no kill")
    if kills and len(killer.done) < len(killer.targets):
        failures.append(f"the kills did not all happen: only {killer.done}")
    return {
        "figures": figures,
        "mail": {**found["mail"], "per_second": round(mails_per_second, 1)},
        "totals": found["totals"],
        "counts": dict(load_run.counts),
        "kills": killer.done if killer else [],
        "pgbouncer": pools.most if pools else None,
        "drain_seconds": drained["seconds"],
        "failures": failures,
        "processes": {
            "gunicorn instances": len(instances),
            "task workers": len(workers),
            "pgbouncer": scale_out,
        },
    }


class Killer(threading.Thread):
    """Kills a gunicorn instance after `gunicorn_after` requests, and the import
    worker after `worker_after` requests while a progress poll has just seen an
    import running; each is started again 3 s later (the instance on its port)."""

    def __init__(self, load_run, instance: Process, worker: Process, plan: dict):
        super().__init__(daemon=True)
        self.load_run, self.plan = load_run, plan
        self.targets = [
            (instance, lambda: len(load_run.record.requests) >= plan["gunicorn_after"]),
            (worker, self.import_running),
        ]
        self.stop = threading.Event()  # the load has ended
        self.done: list[str] = []

    def import_running(self) -> bool:
        return (
            len(self.load_run.record.requests) >= self.plan["worker_after"]
            and time.monotonic() - self.load_run.running_seen_at < 0.3
        )

    def run(self):
        waiting = list(self.targets)
        while waiting and not self.stop.wait(0.05):
            for target in list(waiting):
                process, due = target
                if due():
                    waiting.remove(target)
                    at = len(self.load_run.record.requests)
                    process.kill()
                    time.sleep(3)
                    process.start()
                    self.done.append(f"{process.name} killed after {at} requests, back 3 s later")


class PoolWatch(threading.Thread):
    """PgBouncer's SHOW POOLS every second (its admin console, through psql): the most
    client connections, server connections and waiting clients seen."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.most = {"clients": 0, "server connections": 0, "clients waiting": 0}

    def run(self):
        command = [PG_BIN / "psql", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres",
                   "-d", "pgbouncer", "-A", "-F", "|", "-c", "SHOW POOLS"]  # fmt: skip
        while not self.stop.wait(1):
            shown = subprocess.run(  # noqa: S603 (PostgreSQL's psql)
                [str(part) for part in command], capture_output=True, text=True, check=False
            )
            lines = shown.stdout.splitlines()
            if shown.returncode or len(lines) < 2:
                continue
            columns = lines[0].split("|")
            rows = [dict(zip(columns, line.split("|"), strict=False)) for line in lines[1:-1]]
            rows = [row for row in rows if row.get("database") != "pgbouncer"]
            now = {
                "clients": sum(int(row["cl_active"]) + int(row["cl_waiting"]) for row in rows),
                "server connections": sum(
                    int(row["sv_active"]) + int(row["sv_idle"]) + int(row["sv_used"])
                    for row in rows
                ),
                "clients waiting": sum(int(row["cl_waiting"]) for row in rows),
            }
            for key, value in now.items():
                self.most[key] = max(self.most[key], value)


def web(name: str, env: dict) -> Process:
    port = servers.free_port()
    env = {**env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}
    gunicorn = Path(PYTHON).with_name("gunicorn")
    return Process(name, [gunicorn, "-c", "gunicorn.conf.py"], env, port=port)


def worker(name: str, env: dict, queues: str) -> Process:
    command = [PYTHON, "manage.py", "db_worker", "--no-reload", "--interval", "0.5",
               "--queue-name", queues]  # fmt: skip
    return Process(name, command, env)


def pgbouncer(cluster: Cluster, label: str) -> Process:
    """PgBouncer (transaction pooling) on a loopback port, to the cluster's socket.
    The settings are those of docs/OPERATIONS.md."""
    port = servers.free_port()
    folder = cluster.folder / f"pgbouncer-{label}"
    folder.mkdir()
    (folder / "userlist.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "\n".join(
            [
                "[databases]",
                f"* = host={cluster.folder}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {folder / 'userlist.txt'}",
                "pool_mode = transaction",
                "default_pool_size = 20",
                "reserve_pool_size = 5",
                "max_client_conn = 500",
                "ignore_startup_parameters = extra_float_digits,options",
                "admin_users = postgres",  # its log goes to stderr: var/scale/
                "",
            ]
        )
    )
    if AS_PG:
        for path in (folder, *folder.iterdir()):
            shutil.chown(path, "postgres")
    command = [*AS_PG, shutil.which("pgbouncer", path=PGBOUNCER_PATH), folder / "pgbouncer.ini"]
    return Process(f"{label}-pgbouncer", command, os.environ.copy(), port=port)


def print_run(label: str, found: dict) -> None:
    figures = found["figures"]
    print(
        f"--- {label}: {figures['requests']} requests in {figures['seconds']} s "
        f"({figures['per_second']}/s), {found['mail']['received']} mails "
        f"({found['mail']['per_second']}/s, {found['mail']['duplicates']} twice), "
        f"停止→refusal p50 {figures['stop_to_refusal_ms']['p50']} ms, "
        f"{figures['connections_lost']} connections lost, {len(found['failures'])} failures"
    )
    for what in found["kills"]:
        print(f"    {what}")


def _pgbouncer_version() -> str:
    found = subprocess.run(  # noqa: S603
        [shutil.which("pgbouncer", path=PGBOUNCER_PATH), "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.splitlines()[0] if found.stdout else "PgBouncer"


def _data(env: dict, *arguments, result: bool = False) -> dict | None:
    out = next(Path(arguments[i + 1]) for i, a in enumerate(arguments) if a == "--out")
    _run([PYTHON, "-m", "bench.scale.data", *arguments], env=env)
    return json.loads(out.read_text()) if result else None


def _run(command: list, env: dict | None = None) -> None:
    """`command`, which must succeed; its output goes to var/scale/commands.log."""
    with open(LOGS / "commands.log", "a") as log:
        log.write(f"$ {' '.join(str(part) for part in command)}\n")
        log.flush()
        subprocess.run(  # noqa: S603 (PostgreSQL's and the project's own commands)
            [str(part) for part in command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


if __name__ == "__main__":
    main()

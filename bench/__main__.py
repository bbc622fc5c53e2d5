"""`make bench`: one pass on SQLite, one on a throw-away PostgreSQL, then the table.

    python -m bench [--sqlite-only]

Each pass (bench.measure) runs in its own process with its own database: SQLite
in a temporary file, PostgreSQL through bin/with-postgres. The CSV import and the
throughput run in the PostgreSQL pass only (the production database). The table
is printed and written, with the machine and the date, to docs/PERFORMANCE.md.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "PERFORMANCE.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sqlite-only", action="store_true", help="skip the PostgreSQL pass (and the doc)"
    )
    args = parser.parse_args()
    machine = report.machine()
    environment = {
        **os.environ,
        "DJANGO_ENV": "development",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "EMAIL_URL": "dummymail://",
        # The measured access token opens through the whole run (the refresh grant is
        # measured on its own: bench/introspection.py).
        "API_ACCESS_TOKEN_SECONDS": "86400",
        "PYTHONPATH": str(ROOT),
    }
    environment.pop("DATABASE_URL", None)
    started = time.perf_counter()
    results = {}
    with tempfile.TemporaryDirectory(prefix="azukeru-bench-") as folder:
        passes = {"sqlite": ([], f"sqlite:///{folder}/bench.sqlite3")}
        if not args.sqlite_only:
            passes["postgresql"] = (["--csv", "--throughput"], None)
        for label, (extra, database_url) in passes.items():
            out = Path(folder) / f"{label}.json"
            command = [sys.executable, "-m", "bench.measure", "--label", label, "--out", str(out)]
            env = dict(environment)
            # The SSF signing key of the pass (bench/events.py), generated on first use.
            env["SSF_SIGNING_KEYS_FILE"] = f"{folder}/{label}-ssf-signing-keys.json"
            if database_url:
                env["DATABASE_URL"] = database_url
            else:
                command = [str(ROOT / "bin" / "with-postgres"), *command]
            subprocess.run([*command, *extra], cwd=ROOT, env=env, check=True)  # noqa: S603
            results[label] = json.loads(out.read_text())
    seconds = time.perf_counter() - started
    table, document = report.render(results, machine, seconds)
    print(table)
    if not args.sqlite_only:
        DOC.parent.mkdir(exist_ok=True)
        kept = report.scale_section_of(DOC.read_text()) if DOC.exists() else ""
        DOC.write_text(report.with_scale_section(document, kept))
        print(f"--- Written to {DOC.relative_to(ROOT)} ({seconds:.0f} s)")


if __name__ == "__main__":
    main()

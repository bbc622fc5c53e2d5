"""One benchmark pass on the database of DATABASE_URL: build the dataset, measure,
write the results as JSON.

    python -m bench.measure --label sqlite --out results.json [--csv] [--throughput]

Run by `python -m bench` (bench/__main__.py), once per database, each in a fresh
process: the settings read DATABASE_URL once.
"""

import argparse
import json
import os
import time
import warnings
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--label", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--csv", action="store_true", help="also the CSV import")
    parser.add_argument("--throughput", action="store_true", help="also gunicorn under load")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukeru.settings")
    # WhiteNoise's note that var/static/ is missing (filled by collectstatic in production).
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    import django

    django.setup()
    _ensure_database()
    from django.core.management import call_command

    from bench import csv_import, dataset, events, introspection, pages, throughput

    results = {"label": args.label, "database": _database_version(), "steps": {}}
    started = time.perf_counter()

    def step(name, function, *arguments):
        begun = time.perf_counter()
        print(f"--- [{args.label}] {name}", flush=True)
        value = function(*arguments)
        # Seconds, and the 1-minute load average then: other work on the machine
        # shows in the figures (the hashing steps' own Argon2 threads count in it too).
        results["steps"][name] = [round(time.perf_counter() - begun, 1), os.getloadavg()[0]]
        return value

    step("migrate", call_command, "migrate", "--noinput", "--verbosity=0")
    data = step("dataset: contracts, users, 1,000 keys", dataset.build_base)
    results["counts_base"] = dataset.counts()
    results["device_check"] = [step("device check (1,000 keys)", pages.device_check, data)]
    step("dataset: 100,000 keys, audit log", dataset.build_rest, data)
    results["counts"] = dataset.counts()
    results["device_check"].append(step("device check (100,000 keys)", pages.device_check, data))
    results["lists"] = step("list pages beside Django admin", pages.lists, data)
    results["growth"] = step("growth with rows", pages.growth, data, results["lists"])
    results["introspection"] = step(
        "introspection", lambda: introspection.run(data, throughput=args.throughput)
    )
    worker_log = Path(args.out).with_name(f"{args.label}-worker.log")
    results["events"] = step("停止 → event received", lambda: events.run(data, log=worker_log))
    if args.csv:
        results["csv"] = step("CSV import", csv_import.run, data)
    if args.throughput:
        results["throughput"] = step("throughput (gunicorn)", throughput.run, data)
    results["seconds"] = round(time.perf_counter() - started, 1)
    with open(args.out, "w") as out:
        json.dump(results, out, indent=1, ensure_ascii=False)


def _database_version() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def _ensure_database() -> None:
    """A fresh PostgreSQL cluster has no database of the URL's name yet: create it."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    import psycopg

    params = connection.get_connection_params()
    try:
        psycopg.connect(**params).close()
    except psycopg.OperationalError:
        with psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True) as server:
            server.execute(f'CREATE DATABASE "{params["dbname"]}"')


if __name__ == "__main__":
    main()

"""Run calls at the same moment, each in its own thread with its own database
connection: real parallelism for the PostgreSQL race tests (marked
`postgres_only`, with `django_db(transaction=True)` so that each thread sees
what the others commit)."""

import threading

import pytest
from django.db import connection


def at_the_same_moment(*calls) -> list:
    """Start every call together (a barrier) and wait for all of them. Returns, in
    the order of `calls`, what each returned or the exception it raised."""
    start = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            start.wait()
            outcomes[index] = call()
        except Exception as error:  # the caller asserts on it
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def on_postgresql(reason: str):
    """The marks of a test that only PostgreSQL can run (`reason` says why): marked
    `postgres_only`, skipped on SQLite, and in a transactional test database so that
    other connections (threads, processes) see what is committed."""

    def mark(test):
        test = pytest.mark.django_db(transaction=True)(test)
        test = pytest.mark.skipif(connection.vendor != "postgresql", reason=reason)(test)
        return pytest.mark.postgres_only(test)

    return mark

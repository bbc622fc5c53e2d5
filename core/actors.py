"""Who changes data when nobody signed in does.

Every service that changes data takes `actor` as a required keyword: the
signed-in account (a `User`), or the console itself, named. A manage.py command,
the task worker and the sweep pass a `System`, so ログ管理 says which part of the
system acted and no change is ever filed under a silent default. A failed sign-in
is recorded with an `Anonymous` actor: the login ID that was typed.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class System:
    """The console acting on its own: `name` is what ログ管理 shows as the actor
    (e.g. "manage.py import_users", "worker")."""

    name: str

    def __str__(self):
        return self.name


def command(name: str) -> System:
    """The actor of a manage.py command."""
    return System(f"manage.py {name}")


@dataclass(frozen=True)
class Anonymous:
    """Someone not signed in, known only by the login ID they typed (a failed sign-in)."""

    login_id: str


WORKER = System("worker")  # the task worker (db_worker) running a queued job
SWEEP = System("sweep")  # the periodic maintenance loop (manage.py sweep)

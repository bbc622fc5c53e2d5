"""The housekeeping steps of `manage.py sweep`, one maintenance loop for all of them.

Each app registers its steps in its AppConfig.ready() (core imports nothing of the
project): a function without arguments that does its work for every contract and
returns how many things it did. A step must be safe to run from any number of
processes at once, and cheap when there is nothing to do.

    notifications  mail       queue the mails whose delivery task was lost
    ssf            events     queue the security events whose delivery task was lost
    csvimport      imports    fail the import jobs whose worker died
    accounts       sessions   delete the expired sessions
"""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

STEPS: dict[str, Callable[[], int]] = {}


def register(name: str, step: Callable[[], int]) -> None:
    STEPS[name] = step


def sweep() -> dict[str, int | None]:
    """Run every step once; a step that fails (the database briefly away) is logged and
    counted as None, and the others still run. Returns each step's count."""
    done = {}
    for name, step in STEPS.items():
        try:
            done[name] = step()
        except Exception:
            logger.exception("Sweep step %s failed", name)
            done[name] = None
    return done

"""The console's settings for `make scale`, with one difference: the leases after
which the sweep takes back the work of a dead worker are shorter, so that the run,
which kills a worker on purpose, sees that work finished within minutes rather
than after the production leases (a mail's attempt: 5 minutes; an import's
heartbeat: 2 minutes). Everything else, PgBouncer's settings included, is the
production code path. Never used outside bench/scale."""

from datetime import timedelta

from azukeru.settings import *  # noqa: F403

SCALE_ATTEMPT_LEASE = timedelta(seconds=30)
# Two missed heartbeats (csvimport.tasks.HEARTBEAT_INTERVAL is 20 s) and a margin.
SCALE_RUNNING_LEASE = timedelta(seconds=50)
INSTALLED_APPS = [*INSTALLED_APPS, "bench.scale"]  # noqa: F405 (its AppConfig applies the leases)

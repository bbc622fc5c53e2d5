"""`make scale`: the console scaled out (two gunicorn instances, two task workers and
the sweep behind PgBouncer on one PostgreSQL) under a bounded load of many contracts,
with a gunicorn instance and a worker killed halfway; then the checks that nothing
was lost or done twice, and the figures beside a single-instance run of the same
load (docs/PERFORMANCE.md). `python -m bench.scale --help`."""

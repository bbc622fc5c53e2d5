"""The console's settings with the benchmarks' URLs beside its own (bench/urls.py):
the gunicorn of `make bench` runs with DJANGO_SETTINGS_MODULE=bench.settings. Never
used outside the benchmarks."""

from azukeru.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

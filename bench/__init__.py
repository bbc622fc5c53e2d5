"""Benchmarks of the console (`make bench`): the list pages beside Django admin,
the device check, the CSV import beside the hashing floor and django-import-export,
throughput under gunicorn, and how the costs grow. Not part of the test suite.

`python -m bench` runs one pass per database (bench.measure, in its own process,
since the settings read DATABASE_URL once) and writes the table
(bench.report) to the terminal and to docs/PERFORMANCE.md.
"""

"""gunicorn settings of the console (read automatically from the working directory).

Every value can be overridden from the environment; see README.md.
"""

import multiprocessing
import os

wsgi_app = "azukeru.wsgi:application"
# Load (and warm, see azukeru/wsgi.py) the application once in the master; every
# worker, also one that replaces a recycled worker, is forked from it and serves its
# first request as fast as its thousandth. New code needs a restart, not a HUP.
preload_app = True
bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A request that has not finished in 30 s is stuck; the worker is replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so that a slow leak can never grow without bound. Not
# too often: the storage service introspects a token on every request of every app,
# and a worker serving 800 of them a second would otherwise restart every few seconds
# (a new database connection each time; docs/PERFORMANCE.md).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# The request line (method, address, version). gunicorn's own limit (4094 bytes by
# default, 8190 at most) would answer a long address, such as a long search typed
# into the address bar, with its plain-text English 414. 0 lifts it: the console
# answers an address over core.errorpages.MAX_URL_LENGTH with its own 414 page, in the
# viewer's language. What bounds the line before gunicorn is the TLS proxy in front
# (README: nginx's large_client_header_buffers), as for the body.
limit_request_line = 0
# A header field (a Referer holding a long address): browsers send at most 4 KiB of
# Referer, within gunicorn's default of 8190 bytes, kept here.
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
# Addresses of the TLS proxy allowed to set X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket (gunicornc) only where GUNICORN_CONTROL_SOCKET names its
# path: the default path is one per machine, which two instances side by side (as in
# docs/OPERATIONS.md and `make scale`) would take from each other.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

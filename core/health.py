"""/healthz and /readyz for load balancers and process supervisors, answered by the
first middleware: no session, no sign-in, no device check, no host check (a
balancer asks by IP address) and no HTTPS redirect run for them.

- GET /healthz: 200 while the process serves requests. It touches nothing else.
- GET /readyz: 200 when the database answers and every migration is applied, 503
  otherwise. Which of the two failed goes to the log, never to the caller.

The migrations are compared with the database once per process, until they match
(they never come apart again in a running process); after that a ready check
costs one `SELECT 1`.
"""

import logging

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, HttpResponseNotAllowed

logger = logging.getLogger(__name__)

HEALTH, READY = "/healthz", "/readyz"


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.migrated = False

    def __call__(self, request):
        if request.path not in (HEALTH, READY):
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        if request.path == HEALTH:
            return _answer(200, "ok")
        problem = self.problem()
        if problem:
            logger.warning("Not ready: %s", problem)
            return _answer(503, "not ready")
        return _answer(200, "ready")

    def problem(self) -> str:
        connection = connections[DEFAULT_DB_ALIAS]
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            if not self.migrated:
                executor = MigrationExecutor(connection)
                pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
                if pending:
                    return f"{len(pending)} migration(s) not applied"
                self.migrated = True
        except DatabaseError as error:
            return f"database: {type(error).__name__}"
        return ""


def _answer(status: int, text: str) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response

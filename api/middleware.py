"""The edge of the app API: what every request under /api/ (and /.well-known/) goes through, first
after the health checks (azukeru/settings.py MIDDLEWARE).

No cookie. The API's credentials are its tokens and the storage service's HTTP Basic
(docs/API.md); a cookie opens nothing there. The request's Cookie header is dropped
before any other middleware reads it, so a console session or a device cookie that a
browser sends along is not even looked at: it is not checked, ended or prolonged by
an API call, and no second step, device check or session limit answers in its place.

Only JSON. The views answer in JSON themselves. Some answers under /api/ are made
before a view runs or without one, by Django: 400 for a Host header not in
ALLOWED_HOSTS or a body it will not parse (more fields than it reads), 403 from the
CSRF check, 404 for a path that is no endpoint, 500 for a failure (with DEBUG too:
the traceback goes to the log). Those are HTML pages made for a browser. Each becomes
the RFC 6749 §5.2 JSON of its status (errors.error_for_status), changed in place so
that its status and headers (`Allow`, `WWW-Authenticate`, `Retry-After`, the security
headers) stay: a fixed description, never anything of the request.
"""

from api.errors import JSON, error_for_status, no_store, oauth_error
from core.errorpages import API_PREFIXES


class ApiEdgeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIXES):
            return self.get_response(request)
        request.META.pop("HTTP_COOKIE", None)
        response = self.get_response(request)
        if response.status_code < 400 or _is_json(response):
            return response
        error = oauth_error(*error_for_status(response.status_code), status=response.status_code)
        if response.streaming:
            return error
        response.content = error.content
        response["Content-Type"] = error["Content-Type"]
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        no_store(response)
        return response


def _is_json(response) -> bool:
    return response.get("Content-Type", "").partition(";")[0].strip() == JSON

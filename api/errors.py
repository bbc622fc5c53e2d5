"""The app API's answers are JSON, errors included (docs/API.md, "Errors").

The views answer in the RFC 6749 §5.2 shape themselves (`oauth_error`). Some answers
under /api/ are made before a view runs or without one, by Django: 400 for a Host
header not in ALLOWED_HOSTS or a body it will not parse (more fields than it reads,
a broken multipart body), 403 from the CSRF check, 404 for a path that is no
endpoint, 500 for a failure. Those are HTML pages made for a browser.
ApiJsonErrorsMiddleware, near the top of MIDDLEWARE, turns each of them into the
same JSON shape with the same status and headers (`Allow`, `WWW-Authenticate`,
`Retry-After` stay): `error` from the status and a fixed `error_description`, never
anything of the request.
"""

from http import HTTPStatus

from django.http import JsonResponse

# Where azukeru/urls.py mounts api.urls.
API_PREFIX = "/api/"
JSON = "application/json"


def json_response(data: dict, *, status: int = 200, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(
        data, status=status, headers=headers, json_dumps_params={"ensure_ascii": False}
    )
    _no_store(response)
    return response


def oauth_error(error: str, description: str, *, status: int = 400, headers=None):
    """RFC 6749 §5.2: {"error", "error_description"}."""
    body = {"error": error, "error_description": description}
    return json_response(body, status=status, headers=headers)


def _no_store(response) -> None:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"


def error_for_status(status: int) -> tuple[str, str]:
    """The body of an error Django answered with this status: `server_error` for a
    5xx (RFC 6749 §4.1.2.1), `invalid_request` for anything else, and the status's
    reason phrase as description ("Not Found", "Forbidden", ...)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    error = "server_error" if status >= 500 else "invalid_request"
    return error, f"{phrase}."


class ApiJsonErrorsMiddleware:
    """Every error answer under /api/ that is not JSON yet becomes the JSON error of
    its status (error_for_status). The response is changed in place, so the headers
    Django and the other middleware set on it stay."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path_info.startswith(API_PREFIX)
            or response.get("Content-Type", "").partition(";")[0].strip() == JSON
        ):
            return response
        json_error = oauth_error(
            *error_for_status(response.status_code), status=response.status_code
        )
        if response.streaming:
            return json_error
        response.content = json_error.content
        response["Content-Type"] = json_error["Content-Type"]
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        _no_store(response)
        return response

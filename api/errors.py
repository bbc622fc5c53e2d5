"""The app API's answers: JSON, errors in the RFC 6749 §5.2 shape (docs/API.md,
"Errors"). The views answer with these; api.middleware gives the errors Django
makes itself under /api/ the same shape."""

from http import HTTPStatus

from django.http import JsonResponse

JSON = "application/json"


def json_response(data: dict, *, status: int = 200, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(
        data, status=status, headers=headers, json_dumps_params={"ensure_ascii": False}
    )
    no_store(response)
    return response


def oauth_error(error: str, description: str, *, status: int = 400, headers=None):
    """RFC 6749 §5.2: {"error", "error_description"}."""
    body = {"error": error, "error_description": description}
    return json_response(body, status=status, headers=headers)


def no_store(response) -> None:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"


def error_for_status(status: int) -> tuple[str, str]:
    """The error and description of an answer that has nothing but its status:
    `server_error` for a 5xx (RFC 6749 §4.1.2.1), `invalid_request` for anything
    else, and the status's reason phrase ("Not Found.", "Forbidden.", ...)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return ("server_error" if status >= 500 else "invalid_request"), f"{phrase}."

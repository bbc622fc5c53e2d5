"""The Shared Signals transmitter's endpoints (OpenID SSF 1.0; docs/API.md, "Events").

- GET /.well-known/ssf-configuration: the transmitter's metadata (§7.1), public.
- GET /api/ssf/jwks: the public keys that sign the SETs, public.
- /api/ssf/streams (POST create, GET read or list, PATCH update, PUT replace, DELETE),
  /api/ssf/status (GET, POST) and /api/ssf/verify (POST): with an API client's own
  credentials in HTTP Basic, as introspection (api.clientauth); a client sees and
  changes only its own streams, another's stream id is 404 as a missing one.

Every answer is JSON (errors in the RFC 6749 §5.2 shape, as the rest of the API).
Without a signing key configured (production without SSF_SIGNING_KEYS_FILE) the
transmitter is off: every endpoint answers 404.
"""

import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from api.clientauth import authenticated_client, client_refused
from api.errors import json_response, no_store, oauth_error
from core.actors import System
from ssf import keys, rules, selectors, services
from ssf.exceptions import StreamLimitReached, StreamNotFound, VerificationTooSoon
from ssf.rules import ConfigError

MAX_BODY = 16 * 1024
JSON_TYPES = ("application/json",)


def _off():
    return oauth_error("invalid_request", "Not Found.", status=404)


def _method_not_allowed(allowed: str):
    return oauth_error(
        "invalid_request", "Method Not Allowed.", status=405, headers={"Allow": allowed}
    )


def _json_list(items: list) -> JsonResponse:
    response = JsonResponse(items, safe=False, json_dumps_params={"ensure_ascii": False})
    no_store(response)
    return response


def _no_content() -> HttpResponse:
    response = HttpResponse(status=204)
    no_store(response)
    return response


def _url(name: str) -> str:
    return settings.SITE_URL + reverse(name)


@csrf_exempt  # answers 405 to a POST, in JSON, rather than Django's CSRF page
def configuration(request):
    """GET /.well-known/ssf-configuration (SSF 1.0 §7.1)."""
    if not keys.enabled():
        return _off()
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed("GET, HEAD")
    return json_response(
        {
            "spec_version": rules.SPEC_VERSION,
            "issuer": settings.SITE_URL,
            "jwks_uri": _url("ssf:jwks"),
            "delivery_methods_supported": [rules.PUSH],
            "configuration_endpoint": _url("ssf:streams"),
            "status_endpoint": _url("ssf:status"),
            "verification_endpoint": _url("ssf:verify"),
            # The API client's ID and secret in HTTP Basic, as for introspection.
            "authorization_schemes": [{"spec_urn": "urn:ietf:rfc:7617"}],
            "default_subjects": "ALL",
        }
    )


@csrf_exempt
def jwks(request):
    """GET /api/ssf/jwks: the public signing keys (RFC 7517)."""
    if not keys.enabled():
        return _off()
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed("GET, HEAD")
    response = json_response(keys.public_jwks())
    response["Cache-Control"] = "public, max-age=3600"
    del response["Pragma"]
    return response


def stream_document(stream) -> dict:
    """A stream's configuration as SSF 1.0 §8.1.1 names it (its authorization header
    is the receiver's secret: never shown back)."""
    return {
        "stream_id": stream.stream_id,
        "iss": settings.SITE_URL,
        "aud": stream.client.client_id,
        "delivery": {"method": rules.PUSH, "endpoint_url": stream.endpoint_url},
        "events_supported": list(rules.SUPPORTED_EVENTS),
        "events_requested": stream.events_requested,
        "events_delivered": rules.events_delivered(stream.events_requested),
        "description": stream.description,
        "min_verification_interval": rules.MIN_VERIFICATION_INTERVAL,
    }


def _body(request):
    """The request's JSON body, or the error to answer."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = MAX_BODY + 1
    if length > MAX_BODY or len(request.body) > MAX_BODY:
        return None, oauth_error("invalid_request", "The request is too large.", status=413)
    if request.content_type not in JSON_TYPES:
        return None, oauth_error("invalid_request", "Send the body as application/json.")
    try:
        return json.loads(request.body), None
    except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep
        return None, oauth_error("invalid_request", "The body is no JSON.")


def _client_endpoint(allowed: tuple[str, ...]):
    """The common frame of the client's endpoints: on, the method, the client."""

    def decorate(view):
        @csrf_exempt
        def guarded(request):
            if not keys.enabled():
                return _off()
            if request.method not in allowed:
                return _method_not_allowed(", ".join(allowed))
            client = authenticated_client(request)
            if client is None:
                return client_refused()
            try:
                return view(request, client, System(f"API client {client.client_id}"))
            except StreamNotFound:
                return oauth_error("invalid_request", "No such stream.", status=404)
            except ConfigError as error:
                return oauth_error("invalid_request", str(error))

        return guarded

    return decorate


def _stream_id(request, body=None) -> str:
    source = body if isinstance(body, dict) else request.GET
    stream_id = source.get("stream_id", "")
    if not isinstance(stream_id, str) or not stream_id:
        raise ConfigError("stream_id: required")
    return stream_id


@_client_endpoint(("GET", "POST", "PATCH", "PUT", "DELETE"))
def streams(request, client, actor):
    """The stream configuration endpoint (SSF 1.0 §8.1.1)."""
    if request.method == "GET":
        if "stream_id" not in request.GET:
            found = selectors.stream_list(client=client)
            return _json_list([stream_document(stream) for stream in found])
        stream = selectors.stream_get(client=client, stream_id=_stream_id(request))
        return json_response(stream_document(stream))
    if request.method == "DELETE":
        services.stream_delete(client=client, actor=actor, stream_id=_stream_id(request))
        return _no_content()
    body, refused = _body(request)
    if refused:
        return refused
    config = rules.stream_config(
        body,
        allow_insecure=settings.SSF_ALLOW_INSECURE_RECEIVERS,
        partial=request.method == "PATCH",
    )
    if request.method == "POST":
        try:
            stream = services.stream_create(client=client, actor=actor, config=config)
        except StreamLimitReached:
            return oauth_error("invalid_request", "No more streams for this client.", status=409)
        return json_response(stream_document(stream), status=201)
    stream = services.stream_change(
        client=client, actor=actor, stream_id=_stream_id(request, body), config=config
    )
    return json_response(stream_document(stream))


def _status_document(stream) -> dict:
    answer = {"stream_id": stream.stream_id, "status": stream.status}
    if stream.status_reason:
        answer["reason"] = stream.status_reason
    return answer


@_client_endpoint(("GET", "POST"))
def status(request, client, actor):
    """The stream status endpoint (SSF 1.0 §8.1.2): read or change."""
    if request.method == "GET":
        stream = selectors.stream_get(client=client, stream_id=_stream_id(request))
        return json_response(_status_document(stream))
    body, refused = _body(request)
    if refused:
        return refused
    new_status, reason = rules.stream_status(body)
    stream = services.stream_status_change(
        client=client,
        actor=actor,
        stream_id=_stream_id(request, body),
        status=new_status,
        reason=reason,
    )
    return json_response(_status_document(stream))


@_client_endpoint(("POST",))
def verify(request, client, actor):
    """The verification endpoint (SSF 1.0 §8.1.4): the verification event with the
    receiver's `state` is pushed to the stream."""
    body, refused = _body(request)
    if refused:
        return refused
    state = rules.verification_state(body)
    try:
        services.stream_verify(
            client=client, actor=actor, stream_id=_stream_id(request, body), state=state
        )
    except VerificationTooSoon as waiting:
        return oauth_error(
            "invalid_request",
            "Verification asked for too soon.",
            status=429,
            headers={"Retry-After": str(waiting.wait_seconds)},
        )
    return _no_content()

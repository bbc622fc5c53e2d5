"""Who is acting in this request: the client's IP address and user agent, kept
for the audit entries the request writes. Services receive the actor (a User)
but not the request; this context supplies the rest. Outside a request (a
manage.py command, a task) there is none, and entries name the system."""

from contextvars import ContextVar
from dataclasses import dataclass

from core.clientip import client_address


@dataclass(frozen=True)
class RequestContext:
    ip: str | None
    user_agent: str


current: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current.set(
            RequestContext(
                ip=client_address(request),
                user_agent=request.headers.get("User-Agent", "")[:255],
            )
        )
        try:
            return self.get_response(request)
        finally:
            current.reset(token)

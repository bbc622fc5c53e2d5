"""The console's URLs, and one view of the benchmarks only: the stack's own limit for
the introspection endpoint, the same JSON answer through the same middleware with
no database query and no work of its own."""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from api.views import json_response
from azukeru.urls import urlpatterns as console_urlpatterns

# What /api/oauth/introspect answers for an active token (its fields, its size).
ANSWER = {
    "active": True,
    "scope": "storage",
    "client_id": "ios",
    "username": "full-0001",
    "sub": "1",
    "token_type": "Bearer",
    "iat": 1764567890,
    "exp": 1764568190,
    "aud": "azc_Bench0Client0Id0A",
    "sid": "reg_Bench0Registration0Id0",
    "contract": 1,
    "device_key_id": 1,
    "device_name": "iOS",
}


@csrf_exempt
def bare_introspect(request):
    return json_response(ANSWER)


urlpatterns = [*console_urlpatterns, path("bench/bare-introspect", bare_introspect)]

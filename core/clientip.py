"""The client's address: the one place that reads it from a request.

Sign-in throttling (django-axes, through AXES_CLIENT_IP_CALLABLE), the device-key
limits, the reset limits, ログ管理 and a key's last address all ask `client_address`.

One setting says what to trust, TRUSTED_PROXY_COUNT: how many proxies stand in front
of the console, each appending the address it received the request from to
X-Forwarded-For (nginx: `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`).

- 0 (the default): X-Forwarded-For is ignored entirely; the client is REMOTE_ADDR, the
  peer of the connection, which no client can forge.
- N: the client is the N-th entry from the right of X-Forwarded-For, the one the
  outermost trusted proxy appended. Only the last N entries are read: whatever the
  client sent in front of them (forged addresses, garbage, an unclosed quote) is never
  parsed, so it can neither become the address nor hide the proxies' entries.
- A header with fewer than N entries, or whose last N entries are not all addresses
  (the request did not come through every proxy): REMOTE_ADDR, the address of whatever
  connected, never an entry the client may have written.

The address is parsed and normalised by django-ipware (IPv6, brackets and ports,
IPv4-mapped IPv6); an entry that is no usable address (garbage, 0.0.0.0, multicast)
is none. django-ipware's own `proxy_count` counts the proxies *listed in the header*
(the last proxy is the peer, REMOTE_ADDR, and is not in it), so N trusted proxies are
its proxy_count N - 1 over exactly the N entries they appended.
"""

from types import SimpleNamespace

from django.conf import settings
from ipware import get_client_ip

FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"
PEER = "REMOTE_ADDR"


def client_address(request) -> str | None:
    """The address of the client that sent `request`, or None when unknown."""
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted > 0:
        appended = request.META.get(FORWARDED_FOR, "").split(",")[-trusted:]
        if len(appended) == trusted:
            found = _parsed({FORWARDED_FOR: ",".join(appended)}, FORWARDED_FOR, trusted - 1)
            if found is not None:
                return found
    return _parsed(request.META, PEER, 0)


def _parsed(meta, header: str, listed_proxies: int) -> str | None:
    """The client address django-ipware reads from `header` of `meta`, which must hold
    exactly `listed_proxies` + 1 valid addresses (strict), the leftmost being the client."""
    address, _routable = get_client_ip(
        SimpleNamespace(META=meta),
        proxy_order="left-most",
        proxy_count=listed_proxies,
        request_header_order=[header],
        strict=True,
    )
    return address

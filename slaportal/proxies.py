"""The client's address behind the TLS proxies we deploy (README, "Production runbook").

Each proxy appends the address it received the request from to ``X-Forwarded-For``, so
behind ``TRUSTED_PROXY_COUNT`` = N proxies the client is the N-th address from the right;
anything left of it was written by the client and proves nothing. With no proxy (N = 0)
it is ``REMOTE_ADDR``. DRF's throttling reads the header by the same rule (``NUM_PROXIES``).
Used by django-axes (``AXES_CLIENT_IP_CALLABLE``): keyed on the proxy's address, five bad
passwords would lock an account for everyone behind it.
"""

from __future__ import annotations

from ipaddress import ip_address

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if not count:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if len(forwarded) < count:
        # Not through all our proxies (a health check from inside, say): the peer it is.
        return remote
    candidate = forwarded[-count]
    try:
        return str(ip_address(candidate))
    except ValueError:
        return remote

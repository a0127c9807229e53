"""The client's address, as the proxies we trust saw it: the one answer that the sign-in
lockout (django-axes, ``AXES_CLIENT_IP_CALLABLE``) and the API's throttles share.

``X-Forwarded-For`` is a list each proxy appends the address it received from to. Only
the entries our own proxies wrote can be believed: with ``TRUSTED_PROXIES = N``, the
client is the N-th entry from the right; whatever a client sends lies further left and
is ignored. With no trusted proxy (the embedded default), the header is ignored and the
client is the connection's own address, ``REMOTE_ADDR``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework import throttling


def trusted_proxies() -> int:
    """How many proxies in front of the application append to X-Forwarded-For."""
    return max(int(getattr(settings, "TRUSTED_PROXIES", 0) or 0), 0)


def _address(value: str | None) -> str | None:
    """The value if it is an IP address, else None (it ends up in a database column
    of addresses, and a malformed one must not make the sign-in fail)."""
    if not value:
        return None
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_address(request: HttpRequest | Any) -> str | None:
    """The address of the client that sent ``request`` (a Django or DRF request)."""
    meta = request.META
    remote = meta.get("REMOTE_ADDR")
    proxies = trusted_proxies()
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        entries = forwarded.split(",")
        # As DRF's NUM_PROXIES: the N-th from the right, or the leftmost if fewer.
        found = _address(entries[-min(proxies, len(entries))])
        if found:
            return found
    return _address(remote) or remote


class ClientAddressMixin:
    """DRF throttles identify anonymous clients by ``client_address``."""

    def get_ident(self, request: Any) -> str:
        return client_address(request) or ""


class AnonRateThrottle(ClientAddressMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientAddressMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(ClientAddressMixin, throttling.ScopedRateThrottle):
    pass

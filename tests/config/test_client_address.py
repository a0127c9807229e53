"""The client's address (issue: nothing lost, nothing crashes): the sign-in lockout and the
API's throttles read it the same way, from the proxies we trust and never from what the
client sends; and the token endpoint answers 429 with Retry-After when it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle

from config.client_address import client_address
from tests.factories import make_school

PROXY = "10.0.0.2"  # the TLS proxy, as the application sees it
ALICE = "203.0.113.7"
BOB = "198.51.100.9"
TOKEN = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _fresh_counters() -> None:
    cache.clear()  # throttle counters and django-axes' cache live there


def _request(forwarded: str | None = None, remote: str = PROXY) -> Any:
    extra: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/connexion/", **extra)


def _auth_limit() -> int:
    """The "auth" rate's number of requests (API_THROTTLE_AUTH, 10/minute by default)."""
    limit, _ = AnonRateThrottle().parse_rate(ScopedRateThrottle.THROTTLE_RATES["auth"])
    assert limit is not None
    return limit


def _try(client: APIClient, username: str, password: str, forwarded: str | None = None) -> Any:
    extra: dict[str, Any] = {"REMOTE_ADDR": PROXY}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(TOKEN, {"username": username, "password": password}, format="json", **extra)


def test_no_trusted_proxy_is_the_embedded_default():
    assert django_settings.TRUSTED_PROXIES == 0
    assert django_settings.AXES_CLIENT_IP_CALLABLE == "config.client_address.client_address"
    assert django_settings.REST_FRAMEWORK["NUM_PROXIES"] == django_settings.TRUSTED_PROXIES


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        # No trusted proxy: whatever the client writes in X-Forwarded-For is ignored.
        (0, "1.2.3.4", PROXY),
        (0, None, PROXY),
        # One: the entry our proxy appended, the rightmost; the client's own are ignored.
        (1, ALICE, ALICE),
        (1, f"1.2.3.4, 5.6.7.8, {ALICE}", ALICE),
        (1, f"1.2.3.4,{ALICE} ", ALICE),
        (1, None, PROXY),
        # Two: the second from the right (the first proxy wrote it).
        (2, f"1.2.3.4, {ALICE}, 10.0.0.9", ALICE),
        # Not an address (a misconfigured proxy count, or a forged header): the connection's.
        (1, "not-an-address", PROXY),
        (1, "", PROXY),
        (1, "2001:DB8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_comes_from_the_trusted_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies
    assert client_address(_request(forwarded)) == expected


@pytest.mark.django_db
def test_a_new_x_forwarded_for_on_each_try_is_still_throttled():
    """20 token tries from one client, each with a new X-Forwarded-For: the throttle sees one
    client, and answers 429 with Retry-After once its limit is reached."""
    limit = _auth_limit()
    assert limit < 20
    client = APIClient()
    statuses = []
    for i in range(20):
        response = _try(client, "x", "y", forwarded=f"192.0.2.{i + 1}")
        statuses.append(response.status_code)
    assert statuses == [400] * limit + [429] * (20 - limit)
    body = response.json()
    assert body["code"] == "throttled"
    assert body["detail"]
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_behind_one_trusted_proxy_each_client_has_its_own_throttle(settings):
    """Behind the proxy, everybody arrives from the proxy's address: the throttle counts per
    client, as the proxy saw it, and a forged prefix does not make a new client."""
    settings.TRUSTED_PROXIES = 1
    limit = _auth_limit()
    client = APIClient()
    for i in range(limit):
        assert _try(client, "x", "y", forwarded=f"192.0.2.{i + 1}, {ALICE}").status_code == 400
    refused = _try(client, "x", "y", forwarded=f"192.0.2.99, {ALICE}")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert refused.has_header("Retry-After")
    # Another client behind the same proxy is not slowed down by Alice's tries.
    assert _try(client, "x", "y", forwarded=BOB).status_code == 400


@pytest.mark.django_db
def test_wrong_passwords_from_one_client_do_not_lock_the_account_for_another(settings):
    settings.AXES_ENABLED = True
    settings.TRUSTED_PROXIES = 1
    school = make_school("Proxy")
    username = school.principal.username  # password "pw"
    client = APIClient()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _try(client, username, "faux", forwarded=ALICE)
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "invalid"
    # The limit is reached: locked out, told so, and for how long.
    last = _try(client, username, "faux", forwarded=ALICE)
    assert last.status_code == 429
    assert last.json()["code"] == "locked_out"

    # Alice now gets no token, even with the right password or a forged X-Forwarded-For.
    for forwarded in (ALICE, f"192.0.2.1, {ALICE}"):
        locked = _try(client, username, "pw", forwarded=forwarded)
        assert locked.status_code == 429
        body = locked.json()
        assert set(body) == {"code", "detail"}
        assert body["code"] == "locked_out"
        assert "15 min" in body["detail"]
        assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
        assert "token" not in body

    # Bob, behind the same proxy, signs in to the same account.
    other = _try(client, username, "pw", forwarded=BOB)
    assert other.status_code == 200, other.content
    assert other.json()["token"]


@pytest.mark.django_db
def test_the_sign_in_page_locks_out_per_client_behind_the_proxy(client, settings):
    settings.AXES_ENABLED = True
    settings.TRUSTED_PROXIES = 1
    school = make_school("ProxyPage")
    username = school.principal.username
    alice: dict[str, Any] = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": ALICE}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/connexion/", {"username": username, "password": "faux"}, **alice)
    locked = client.post("/connexion/", {"username": username, "password": "pw"}, **alice)
    assert locked.status_code == 429
    bob: dict[str, Any] = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": BOB}
    signed_in = client.post("/connexion/", {"username": username, "password": "pw"}, **bob)
    assert signed_in.status_code == 302


@pytest.mark.django_db
def test_without_the_trusted_proxy_the_lockout_would_reach_everyone(settings):
    """What the setting fixes: counted at the proxy's address, Alice's wrong passwords
    lock Bob out too."""
    settings.AXES_ENABLED = True
    settings.TRUSTED_PROXIES = 0
    school = make_school("NoProxy")
    username = school.principal.username
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _try(client, username, "faux", forwarded=ALICE)
    assert _try(client, username, "pw", forwarded=BOB).status_code == 429

"""Login lockout: the username + client address pair is locked, nobody else; tries while locked do not extend it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role

PASSWORD = "demo-pass-123"  # what wangge.registry.testing.make_user gives every user
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def axes_on(settings: Any) -> Any:
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    return settings


def _login(username: str, password: str, ip: str = "203.0.113.7", **meta: str) -> Any:
    return Client(REMOTE_ADDR=ip, **meta).post(reverse("accounts:login"), {"username": username, "password": password})


def _fail(username: str, times: int, **kw: Any) -> None:
    """`times` wrong passwords: the form says so until the last one, which locks the pair."""
    for i in range(times):
        assert _login(username, "wrong-password", **kw).status_code == (429 if i == times - 1 else 200)


@pytest.mark.django_db
def test_the_pair_is_locked_not_the_address_nor_the_account(axes_on: Any, personas: Any) -> None:
    town, village = personas[Role.TOWN].username, personas[Role.VILLAGE].username
    with time_machine.travel(START, tick=False):
        _fail(town, 3)
        locked = _login(town, PASSWORD)
        assert locked.status_code == 429
        page = locked.content.decode()
        assert "登录失败次数过多" in page and "15 分钟后再试" in page  # the translated lockout page
        # A colleague behind the same address logs in; the same account from elsewhere too.
        assert _login(village, PASSWORD).status_code == 302
        assert _login(town, PASSWORD, ip="198.51.100.9").status_code == 302


@pytest.mark.django_db
def test_tries_during_the_lockout_do_not_extend_it(axes_on: Any, personas: Any) -> None:
    town = personas[Role.TOWN].username
    with time_machine.travel(START, tick=False) as clock:
        _fail(town, 3)
        clock.shift(dt.timedelta(minutes=10))
        assert _login(town, "wrong-password").status_code == 429  # still locked, and this try…
        clock.shift(dt.timedelta(minutes=6))  # …does not start the 15 minutes again
        assert _login(town, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_address(axes_on: Any, personas: Any) -> None:
    axes_on.WANGGE_TRUSTED_PROXIES = ["10.0.0.0/8"]
    town = personas[Role.TOWN].username
    proxy = {"ip": "10.0.0.2"}
    with time_machine.travel(START, tick=False):
        _fail(town, 3, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
        assert _login(town, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy).status_code == 429
        # Another resident's office behind the same proxy is not locked out…
        assert _login(town, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.9", **proxy).status_code == 302
        # …and the locked client cannot step out by claiming another address to the left of the proxy's entry.
        spoofed = _login(town, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7", **proxy)
        assert spoofed.status_code == 429


def test_forwarded_for_is_ignored_from_a_peer_that_is_not_a_trusted_proxy(rf: Any, settings: Any) -> None:
    from wangge.core.ratelimit import client_ip

    settings.WANGGE_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.WANGGE_TRUST_X_FORWARDED_FOR = False
    assert client_ip(rf.get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="1.2.3.4")) == "203.0.113.7"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.9.9.9")) == "1.2.3.4"

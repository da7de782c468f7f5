"""Find my demand (查询我的诉求): code + phone, a one-time SMS code, then the private tracking page.

The page answers the same whether or not the pair exists; codes are hashed, expire, die after five
wrong tries, and sending is limited per phone and per client address.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from wangge.core import clock
from wangge.demands import services
from wangge.demands.models import LookupCode
from wangge.demands.testing import make_demand
from wangge.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db

REPORTER = "13900000001"
NEIGHBOUR = "13900000002"
STRANGER = "13900000009"
URL = "/demands/lookup/"


@pytest.fixture(autouse=True)
def _rates(settings: Any) -> Any:
    settings.WANGGE_LOOKUP_PHONE_RATE = "100/h"
    settings.WANGGE_LOOKUP_IP_RATE = "100/h"
    settings.WANGGE_LOOKUP_VERIFY_RATE = "100/h"
    cache.clear()
    yield
    cache.clear()


def send(client: Client, code: str, phone: str) -> Any:
    return client.post(URL, {"code": code, "phone": phone})


def verify(client: Client, code: str, phone: str, otp: str) -> Any:
    return client.post(URL, {"do": "verify", "code": code, "phone": phone, "otp": otp})


def last_otp(phone: str) -> str:
    message = OutboxMessage.objects.filter(kind="otp", recipient=phone).latest("id")
    found = re.search(r"验证码是 (\d{6})", message.body)
    assert found, message.body
    return found.group(1)


def visible_text(body: str) -> str:
    """The page without its CSRF token (random per response), to compare two answers."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)


def test_the_reporter_gets_a_code_by_sms_and_lands_on_the_tracking_page(tree: Any) -> None:
    demand = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    client = Client()
    resp = send(client, demand.code.lower(), "139 0000 0001")
    assert resp.status_code == 200 and 'data-testid="sent"' in resp.content.decode()
    row = LookupCode.objects.get()
    otp = last_otp(REPORTER)
    assert otp not in row.code_hash and len(row.code_hash) == 64  # only a keyed hash is kept
    assert row.expires_at == row.created_at + dt.timedelta(minutes=10)
    resp = verify(client, demand.code, REPORTER, otp)
    assert resp.status_code == 302 and resp["Location"] == reverse("demands:track", args=[demand.tracking_token])
    assert client.get(resp["Location"]).status_code == 200
    # One time only.
    assert verify(client, demand.code, REPORTER, otp).status_code == 400


def test_a_follower_lands_on_their_own_follower_page(tree: Any) -> None:
    demand = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    follower = services.demand_follow(demand=demand, phone=NEIGHBOUR)
    client = Client()
    send(client, demand.code, NEIGHBOUR)
    resp = verify(client, demand.code, NEIGHBOUR, last_otp(NEIGHBOUR))
    assert resp["Location"] == reverse("demands:follow_track", args=[follower.token])


def test_an_unknown_pair_gets_the_same_answer_and_no_sms(tree: Any) -> None:
    demand = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    known = send(Client(), demand.code, REPORTER)
    unknown = send(Client(), demand.code, STRANGER)
    missing = send(Client(), "LY-20200101-000001", REPORTER)
    assert known.status_code == unknown.status_code == missing.status_code == 200
    answer = visible_text(known.content.decode())
    assert visible_text(unknown.content.decode()).replace(STRANGER, REPORTER) == answer
    assert not OutboxMessage.objects.filter(kind="otp", recipient=STRANGER).exists()
    assert OutboxMessage.objects.filter(kind="otp").count() == 1 and LookupCode.objects.count() == 1
    # Guessing a code for a pair that does not exist reads exactly like a wrong code.
    resp = verify(Client(), demand.code, STRANGER, "123456")
    assert resp.status_code == 400 and "验证码错误或已过期" in resp.content.decode()


def test_an_expired_code_is_refused(tree: Any) -> None:
    demand = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    client = Client()
    send(client, demand.code, REPORTER)
    otp = last_otp(REPORTER)
    with time_machine.travel(clock.now() + dt.timedelta(minutes=10, seconds=1), tick=False):
        resp = verify(client, demand.code, REPORTER, otp)
    assert resp.status_code == 400 and "验证码错误或已过期" in resp.content.decode()


def test_wrong_codes_are_counted_and_the_fifth_ends_the_code(tree: Any) -> None:
    demand = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    client = Client()
    send(client, demand.code, REPORTER)
    otp = last_otp(REPORTER)
    wrong = "000000" if otp != "000000" else "111111"
    for attempt in range(1, 5):
        resp = verify(client, demand.code, REPORTER, wrong)
        assert resp.status_code == 400 and "验证码错误或已过期" in resp.content.decode()
        assert LookupCode.objects.get().attempts == attempt
    resp = verify(client, demand.code, REPORTER, wrong)
    assert "验证码错误次数过多" in resp.content.decode()
    # Even the right code no longer opens anything; a new code does.
    resp = verify(client, demand.code, REPORTER, otp)
    assert resp.status_code == 400 and "验证码错误次数过多" in resp.content.decode()
    send(client, demand.code, REPORTER)
    assert verify(client, demand.code, REPORTER, last_otp(REPORTER)).status_code == 302


def test_a_new_code_replaces_the_old_one(tree: Any) -> None:
    demand = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    client = Client()
    send(client, demand.code, REPORTER)
    old = last_otp(REPORTER)
    send(client, demand.code, REPORTER)
    new = last_otp(REPORTER)
    if old != new:
        assert verify(client, demand.code, REPORTER, old).status_code == 400
    assert verify(client, demand.code, REPORTER, new).status_code == 302


def test_codes_sent_are_limited_per_phone_whatever_the_address(tree: Any, settings: Any) -> None:
    settings.WANGGE_LOOKUP_PHONE_RATE = "2/h"
    demand = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    for address in ("10.0.0.1", "10.0.0.2"):
        assert send(Client(REMOTE_ADDR=address), demand.code, REPORTER).status_code == 200
    resp = send(Client(REMOTE_ADDR="10.0.0.3"), demand.code, REPORTER)
    assert resp.status_code == 429 and "提交太频繁" in resp.content.decode()
    assert OutboxMessage.objects.filter(kind="otp").count() == 2
    # The limit is counted for unknown pairs too, so it says nothing about which pairs exist.
    settings.WANGGE_LOOKUP_PHONE_RATE = "1/h"
    assert send(Client(), demand.code, STRANGER).status_code == 200
    assert send(Client(), demand.code, STRANGER).status_code == 429


def test_codes_sent_and_tried_are_limited_per_address(tree: Any, settings: Any) -> None:
    settings.WANGGE_LOOKUP_IP_RATE = "2/h"
    settings.WANGGE_LOOKUP_VERIFY_RATE = "2/h"
    demand = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    client = Client()
    for phone in (REPORTER, STRANGER):
        assert send(client, demand.code, phone).status_code == 200
    assert send(client, demand.code, "13900000008").status_code == 429
    assert send(Client(REMOTE_ADDR="10.0.0.7"), demand.code, "13900000008").status_code == 200
    for _ in range(2):
        assert verify(client, demand.code, REPORTER, "999999").status_code in (400, 302)
    resp = verify(client, demand.code, REPORTER, last_otp(REPORTER))
    assert resp.status_code == 429


def test_bad_input_is_shown_next_to_the_field(tree: Any) -> None:
    resp = send(Client(), "12345", "0731-1234567")
    body = resp.content.decode()
    assert resp.status_code == 400
    assert "LY-20260415-000123" in body and "请填写手机号码" in body
    assert not OutboxMessage.objects.filter(kind="otp").exists()


def test_the_report_and_tracking_pages_link_to_the_lookup(tree: Any) -> None:
    demand = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    follower = services.demand_follow(demand=demand, phone=NEIGHBOUR)
    for url in (
        reverse("demands:report"),
        reverse("demands:track", args=[demand.tracking_token]),
        reverse("demands:follow_track", args=[follower.token]),
    ):
        body = Client().get(url).content.decode()
        assert f'href="{URL}" data-testid="lookup-link">查询我的诉求<' in body, url
    assert "查询我的诉求" in Client().get(URL).content.decode()

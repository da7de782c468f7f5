"""The rate limiter on both of its stores: the database table (one statement) and Redis (one round trip)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from wangge.core import ratelimit
from wangge.core.models import RateCounter

# These machines (and CI) run Redis on 127.0.0.1; the tests use a database number and a prefix of their own.
TEST_REDIS_URL = os.environ.get("WANGGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture(params=["database", "redis"])
def store(request: Any, settings: Any) -> Iterator[str]:
    if request.param == "redis":
        prefix = f"wangge-test:{uuid.uuid4().hex[:12]}:"
        settings.WANGGE_RATELIMIT_REDIS_URL = TEST_REDIS_URL
        settings.WANGGE_RATELIMIT_PREFIX = prefix
        yield "redis"
        client = ratelimit._redis_counter(TEST_REDIS_URL, prefix).client
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
    else:
        settings.WANGGE_RATELIMIT_REDIS_URL = ""
        request.getfixturevalue("db")
        yield "database"


def _request(address: str = "10.9.8.7") -> Any:
    return RequestFactory().post("/", REMOTE_ADDR=address)


def test_hit_counts_up_to_the_limit_and_a_new_window_starts_again(store: str) -> None:
    key = f"k-{uuid.uuid4()}"
    with time_machine.travel("2026-05-04 10:00:05+00:00", tick=False) as traveller:
        assert [ratelimit.hit(key, limit=3, window=60) for _ in range(4)] == [True, True, True, False]
        assert ratelimit.hit(f"other-{key}", limit=3, window=60)  # another client has its own count
        traveller.shift(60)
        assert ratelimit.hit(key, limit=3, window=60)  # the next minute


def test_peek_does_not_count_and_count_all_counts_every_limit_at_once(store: str) -> None:
    request = _request()
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    limits: list[ratelimit.Limit] = [("report-phone", "2/h", phone), ("report-ip", "3/h", None)]
    for _ in range(5):
        ratelimit.peek_all(request, limits)
    ratelimit.count_all(request, limits)
    ratelimit.count_all(request, limits)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.peek_all(request, limits)  # the phone's two are used
    # The address has one left: another phone from it goes through once more, then the address is spent.
    other: list[ratelimit.Limit] = [("report-phone", "2/h", phone + "1"), ("report-ip", "3/h", None)]
    ratelimit.peek_all(request, other)
    ratelimit.count_all(request, other)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.peek_all(request, other)
    assert refused.value.status == 429
    ratelimit.peek_all(_request("10.9.8.6"), [("report-ip", "3/h", None)])  # another address is untouched


def test_check_raises_past_the_rate(store: str) -> None:
    request = _request(f"10.0.{uuid.uuid4().int % 250}.1")
    scope = f"scope-{uuid.uuid4().hex}"
    ratelimit.check(request, scope, "2/m")
    ratelimit.check(request, scope, "2/m")
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.check(request, scope, "2/m")


@pytest.mark.django_db
def test_the_database_store_counts_several_limits_in_one_statement_and_stores_no_phone(settings: Any) -> None:
    settings.WANGGE_RATELIMIT_REDIS_URL = ""
    request = _request()
    limits: list[ratelimit.Limit] = [("report-phone", "10/h", "13900001111"), ("report-ip", "60/h", None)]
    ratelimit.count_all(request, limits)
    with CaptureQueriesContext(connection) as counted:
        ratelimit.count_all(request, limits)
    with CaptureQueriesContext(connection) as peeked:
        ratelimit.peek_all(request, limits)
    assert len(counted.captured_queries) == 1 and len(peeked.captured_queries) == 1
    assert sorted(RateCounter.objects.values_list("hits", flat=True)) == [2, 2]
    assert not RateCounter.objects.filter(key__contains="13900001111").exists()


@pytest.mark.django_db
def test_prune_deletes_the_counters_whose_window_ended(settings: Any) -> None:
    settings.WANGGE_RATELIMIT_REDIS_URL = ""
    with time_machine.travel("2026-05-04 10:00:00+00:00", tick=False) as traveller:
        ratelimit.hit("old", limit=5, window=60)
        traveller.shift(3600)
        ratelimit.hit("new", limit=5, window=60)
        assert ratelimit.ratelimit_prune() == 1
    assert RateCounter.objects.count() == 1


def test_the_redis_store_expires_its_keys_and_counts_in_one_round_trip(settings: Any) -> None:
    prefix = f"wangge-test:{uuid.uuid4().hex[:12]}:"
    counter = ratelimit.RedisCounter(TEST_REDIS_URL, prefix)
    slots = [ratelimit.Slot.of("a", 60), ratelimit.Slot.of("b", 3600)]
    sent: list[Any] = []
    real = counter.client.execute_command
    counter.client.execute_command = lambda *args, **kw: sent.append(args) or real(*args, **kw)  # type: ignore[method-assign]
    try:
        assert counter.add(slots) == [1, 1]
        assert counter.add(slots) == [2, 2]
        assert sent == []  # the pipeline sends MULTI … EXEC in one go, never a command at a time
        ttls = [counter.client.ttl(counter._key(s)) for s in slots]
        assert 0 < ttls[0] <= 61 and 3500 < ttls[1] <= 3601
    finally:
        counter.client.delete(*[counter._key(s) for s in slots])


def test_an_unreachable_redis_lets_requests_through_and_logs_it(caplog: Any) -> None:
    counter = ratelimit.RedisCounter("redis://127.0.0.1:1/0", "wangge-test:")
    assert counter.add([ratelimit.Slot.of("a", 60)]) == [0]
    assert counter.read([ratelimit.Slot.of("a", 60)]) == [0]
    assert "rate limiter unreachable" in caplog.text


def test_a_reservation_counts_at_once_refuses_past_the_limit_and_can_be_taken_back(store: str) -> None:
    request = _request(f"10.1.{uuid.uuid4().int % 250}.1")
    phone = f"138{uuid.uuid4().int % 10**8:08d}"
    limits: list[ratelimit.Limit] = [("report-phone", "2/h", phone), ("report-ip", "5/h", None)]
    first = ratelimit.reserve_all(request, limits)
    ratelimit.reserve_all(request, limits)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.reserve_all(request, limits)  # the phone's third: refused, and not counted
    first.release()  # the first report failed after all: its place comes back
    ratelimit.reserve_all(request, limits)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.peek_all(request, limits)
    # The address counted two kept reservations and no refused one: three more fit, then it is spent.
    other: list[ratelimit.Limit] = [("report-ip", "5/h", None)]
    for _ in range(3):
        ratelimit.reserve_all(request, other)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.reserve_all(request, other)

"""The read-replica router and the write pin, on any database (a real replica: tests/test_replica.py).

Here the replica is stood in for: `replica_configured` and the two WAL-position queries are replaced, so
the decisions (which alias each read and write goes to, when a client is pinned) are checked on SQLite.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from config.routers import ReplicaRouter
from wangge.accounts.models import User
from wangge.core import replica
from wangge.core.replica import PIN_COOKIE, ReplicaPinMiddleware, use_replica
from wangge.demands.models import Demand

SETTINGS_FILE = Path(__file__).resolve().parents[3] / "config" / "settings.py"
router = ReplicaRouter()


def _settings_from(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> dict[str, Any]:
    for name in ("DATABASE_URL", "DATABASE_REPLICA_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def test_without_a_replica_url_the_settings_add_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    values = _settings_from(monkeypatch, {"WANGGE_VAR_DIR": str(tmp_path)})
    assert list(values["DATABASES"]) == ["default"]
    assert "DATABASE_ROUTERS" not in values
    assert "wangge.core.replica.ReplicaPinMiddleware" not in values["MIDDLEWARE"]


def test_a_replica_url_adds_the_alias_the_router_and_the_pin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    values = _settings_from(
        monkeypatch,
        {
            "WANGGE_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://u@primary:5432/wangge",
            "DATABASE_REPLICA_URL": "postgres://u@standby:5433/wangge",
        },
    )
    assert values["DATABASES"]["replica"]["HOST"] == "standby"
    # Under test the replica reads the primary's test database, which reaches it by streaming.
    assert values["DATABASES"]["replica"]["TEST"] == {"MIRROR": "default"}
    assert values["DATABASE_ROUTERS"] == ["config.routers.ReplicaRouter"]
    assert values["MIDDLEWARE"][1] == "wangge.core.replica.ReplicaPinMiddleware"


def test_a_replica_needs_postgresql_as_primary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_REPLICA_URL"):
        _settings_from(
            monkeypatch, {"WANGGE_VAR_DIR": str(tmp_path), "DATABASE_REPLICA_URL": "postgres://u@standby:5433/wangge"}
        )


def test_without_a_replica_the_router_routes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replica, "replica_configured", lambda: False)
    with use_replica():
        assert router.db_for_read(Demand) is None
        assert router.db_for_write(Demand) is None
    assert replica.primary_position() is None


@pytest.fixture
def standby(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A stand-in replica: `replayed` says whether it has every position asked about (a list: the answers in
    turn); `asked` records the positions."""
    state: dict[str, Any] = {"replayed": True, "asked": [], "position": "0/3000060"}
    monkeypatch.setattr(replica, "replica_configured", lambda: True)
    monkeypatch.setattr(replica, "primary_position", lambda: state["position"])

    def replica_has(position: str) -> bool:
        state["asked"].append(position)
        replayed = state["replayed"]
        return bool(replayed.pop(0) if isinstance(replayed, list) else replayed)

    monkeypatch.setattr(replica, "replica_has", replica_has)
    return state


def test_reads_go_to_the_replica_only_inside_use_replica(standby: dict[str, Any]) -> None:
    assert router.db_for_read(Demand) == "default"
    with use_replica():
        assert router.db_for_read(Demand) == "replica"
        # Writes, and who the reader is (sessions, users, scopes, the cache), stay on the primary.
        assert router.db_for_write(Demand) == "default"
        assert router.db_for_read(User) == "default"
    assert router.db_for_read(Demand) == "default"
    assert standby["asked"] == []  # nothing to wait for: no query to the replica


@pytest.mark.django_db
def test_reads_inside_a_transaction_stay_on_the_primary(standby: dict[str, Any]) -> None:
    with transaction.atomic(), use_replica():
        assert router.db_for_read(Demand) == "default"


def test_use_replica_decorates_a_view(standby: dict[str, Any]) -> None:
    seen: list[str | None] = []

    @use_replica()
    def view() -> None:
        seen.append(router.db_for_read(Demand))

    view()
    view()
    assert seen == ["replica", "replica"]
    assert router.db_for_read(Demand) == "default"


def test_a_job_reads_the_replica_only_once_it_has_the_position_given(standby: dict[str, Any], settings: Any) -> None:
    settings.DATABASE_REPLICA_WAIT_SECONDS = 0
    standby["replayed"] = False
    with use_replica(after="0/5000000"):
        assert router.db_for_read(Demand) == "default"
    standby["replayed"] = True
    with use_replica(after="0/5000000"):
        assert router.db_for_read(Demand) == "replica"
    assert standby["asked"] == ["0/5000000", "0/5000000"]


def _through_middleware(request: Any, routed: list[str | None]) -> HttpResponse:
    @use_replica()
    def view(request: Any) -> HttpResponse:
        routed.append(router.db_for_read(Demand))
        return HttpResponse("ok")

    return ReplicaPinMiddleware(view)(request)


def test_a_client_that_wrote_reads_the_primary_until_the_replica_has_its_write(standby: dict[str, Any]) -> None:
    factory = RequestFactory()
    routed: list[str | None] = []
    wrote = _through_middleware(factory.post("/anything/"), routed)
    pin = wrote.cookies[PIN_COOKIE]
    assert pin["httponly"] and pin["max-age"] == 300

    # The replica lags: the client's reads go to the primary and the pin stays.
    standby["replayed"] = False
    lagging = factory.get("/dashboards/", HTTP_COOKIE=f"{PIN_COOKIE}={pin.value}")
    response = _through_middleware(lagging, routed)
    assert PIN_COOKIE not in response.cookies
    # Another client, that did not write, reads the replica meanwhile.
    _through_middleware(factory.get("/dashboards/"), routed)

    # Caught up: the replica serves the client again, and the pin is dropped.
    standby["replayed"] = True
    response = _through_middleware(factory.get("/dashboards/", HTTP_COOKIE=f"{PIN_COOKIE}={pin.value}"), routed)
    assert response.cookies[PIN_COOKIE].value == "" and response.cookies[PIN_COOKIE]["max-age"] == 0
    assert routed == ["replica", "default", "replica", "replica"]
    assert standby["asked"] == ["0/3000060", "0/3000060"]


def test_a_forged_pin_is_ignored(standby: dict[str, Any]) -> None:
    routed: list[str | None] = []
    standby["replayed"] = False
    _through_middleware(RequestFactory().get("/", HTTP_COOKIE=f"{PIN_COOKIE}=FFFFFFFF/0"), routed)
    assert routed == ["replica"] and standby["asked"] == []


def test_a_pin_lasts_at_most_its_window(standby: dict[str, Any], settings: Any) -> None:
    import time_machine

    routed: list[str | None] = []
    factory = RequestFactory()
    with time_machine.travel("2026-03-09 09:00 +0800", tick=False) as traveller:
        pin = _through_middleware(factory.post("/"), routed).cookies[PIN_COOKIE].value
        standby["replayed"] = False
        traveller.shift(settings.DATABASE_REPLICA_PIN_SECONDS - 1)
        _through_middleware(factory.get("/", HTTP_COOKIE=f"{PIN_COOKIE}={pin}"), routed)
        traveller.shift(2)
        _through_middleware(factory.get("/", HTTP_COOKIE=f"{PIN_COOKIE}={pin}"), routed)
    assert routed == ["replica", "default", "replica"]


def test_a_job_waits_a_moment_for_the_replica(standby: dict[str, Any], settings: Any) -> None:
    settings.DATABASE_REPLICA_WAIT_SECONDS = 5
    standby["replayed"] = [False, False, True]
    with use_replica(after="0/5000000"):
        assert router.db_for_read(Demand) == "replica"
    assert standby["asked"] == ["0/5000000"] * 3


def test_an_api_client_is_pinned_by_its_key_not_by_a_cookie(standby: dict[str, Any]) -> None:
    from django.core.cache import cache

    cache.clear()
    factory = RequestFactory()
    routed: list[str | None] = []
    posted = factory.post("/open311/v2/requests.json", {"api_key": "wgk_one"})
    assert posted.POST["api_key"] == "wgk_one"  # as the Open311 view reads it
    _through_middleware(posted, routed)
    standby["replayed"] = False
    _through_middleware(factory.get("/open311/v2/requests.json", {"api_key": "wgk_one"}), routed)
    _through_middleware(factory.get("/api/v1/demands", HTTP_X_API_KEY="wgk_one"), routed)
    _through_middleware(factory.get("/open311/v2/requests.json", {"api_key": "wgk_two"}), routed)
    assert routed == ["replica", "default", "default", "replica"]
    # The cache holds a digest of the key, never the key.
    assert not any("wgk_one" in str(k) for k in getattr(cache, "_cache", {}))
    cache.clear()


def test_the_pin_never_reads_a_body_the_view_left_unread(standby: dict[str, Any]) -> None:
    from django.core.cache import cache

    cache.clear()
    routed: list[str | None] = []
    factory = RequestFactory()
    _through_middleware(factory.post("/upload/", {"api_key": "wgk_one"}), routed)
    standby["replayed"] = False
    _through_middleware(factory.get("/open311/v2/requests.json", {"api_key": "wgk_one"}), routed)
    assert routed == ["replica", "replica"]  # the posted key was not read: no pin under it

"""A real streaming replica (`.ci/replica start`; DATABASE_URL and DATABASE_REPLICA_URL on PostgreSQL).

Each test commits on the primary, then pauses WAL replay on the replica (`pg_wal_replay_pause()`): what a
page shows while the replica stands still tells which database served it. Dashboards and lists read the
replica; a detail page, a client that just wrote and an export job read the primary until the replica has
their write. The router's decisions on any database: wangge/core/tests/test_replica.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from wangge.accounts.models import Role
from wangge.core.replica import PIN_COOKIE, REPLICA_ALIAS, primary_position, replica_has
from wangge.dashboards import services
from wangge.dashboards.models import ExportJob
from wangge.dashboards.testing import make_export_job
from wangge.demands.testing import make_demand
from wangge.open311.testing import make_api_key

HAS_REPLICA = REPLICA_ALIAS in connections
pytestmark = [
    pytest.mark.replica,
    pytest.mark.skipif(
        not HAS_REPLICA, reason="needs a streaming replica: .ci/replica start, DATABASE_REPLICA_URL (make test-replica)"
    ),
    pytest.mark.django_db(transaction=True, databases=["default", REPLICA_ALIAS] if HAS_REPLICA else ["default"]),
]
OPEN311 = "/open311/v2"


@pytest.fixture(autouse=True)
def _replica_has_the_test_database() -> None:
    caught_up()  # the test database itself reaches the replica by streaming


def caught_up() -> None:
    """Wait until the replica has replayed everything committed so far (a barrier, not a timing)."""
    position = primary_position()
    assert position is not None
    for _ in range(3600):
        try:
            if replica_has(position):
                return
        except OperationalError:  # the test database is not on the replica yet
            connections[REPLICA_ALIAS].close()
        time.sleep(0.05)
    raise AssertionError(f"the replica did not replay {position} within three minutes: is it streaming?")


@pytest.fixture
def paused() -> Iterator[Any]:
    """A context in which the replica replays nothing (after catching up first)."""
    from contextlib import contextmanager

    @contextmanager
    def standing_still() -> Iterator[None]:
        caught_up()
        with connections[REPLICA_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            with connections[REPLICA_ALIAS].cursor() as cursor:
                cursor.execute("SELECT pg_wal_replay_resume()")

    yield standing_still


def replica_reads_of(table: str, queries: CaptureQueriesContext) -> int:
    return sum(f'"{table}"' in q["sql"] for q in queries.captured_queries)


def grid_dashboard(client: Client, grid: Any) -> str:
    """The dashboard of one grid, which lists the grid's demands of the period."""
    resp = client.get(reverse("dashboards:dashboard"), {"area": grid.pk, "period": "today"})
    assert resp.status_code == 200
    return resp.content.decode()


def exported_codes(job: ExportJob) -> list[Any]:
    sheet = load_workbook(services.export_path(job), read_only=True).worksheets[0]
    return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_the_replica_is_a_standby_of_the_primary() -> None:
    with connections[REPLICA_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_database()")
        in_recovery, name = cursor.fetchone()
    assert in_recovery is True
    assert name == connections["default"].settings_dict["NAME"]  # the primary's test database, streamed


def test_the_dashboard_reads_the_replica_and_a_detail_page_the_primary(tree: Any, personas: Any, paused: Any) -> None:
    earlier = make_demand(grid=tree.grid, title="早先的诉求")
    city = Client()
    city.force_login(personas[Role.CITY_ADMIN])
    caught_up()
    assert earlier.code in grid_dashboard(city, tree.grid)
    with paused():
        demand = make_demand(grid=tree.grid, title="停摆期间的诉求")
        with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
            page = grid_dashboard(city, tree.grid)
        assert earlier.code in page and demand.code not in page  # the replica has not replayed it
        assert replica_reads_of("demands_demand", on_replica) >= 1
        # The demand's own page must show what was just written: it reads the primary.
        detail = city.get(reverse("demands:detail", args=[demand.pk]))
        assert detail.status_code == 200 and demand.code in detail.content.decode()
    caught_up()
    assert demand.code in grid_dashboard(city, tree.grid)


def test_a_client_that_wrote_never_reads_a_replica_without_its_write(tree: Any, paused: Any) -> None:
    _key, raw = make_api_key(name="12345热线", areas=[tree.town])
    _other_key, other_raw = make_api_key(name="另一个集成方", areas=[tree.town])
    writer, other = Client(), Client()
    listing = f"{OPEN311}/requests.json?api_key={raw}"
    with paused():
        resp = writer.post(
            f"{OPEN311}/requests.json",
            {"api_key": raw, "service_code": "0101", "description": "路面塌陷", "address_id": tree.grid.code},
        )
        assert resp.status_code == 200, resp.content
        code = resp.json()[0]["service_request_id"]
        assert PIN_COOKIE in resp.cookies
        # The writer's list is read on the primary while the replica lags: its request is there.
        with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
            mine = writer.get(listing)
        assert code in {r["service_request_id"] for r in mine.json()}
        assert replica_reads_of("demands_demand", on_replica) == 0
        assert PIN_COOKIE not in mine.cookies  # still pinned
        # An API client keeps no cookie: its key alone pins it.
        assert code in {r["service_request_id"] for r in Client().get(listing).json()}
        # A client that wrote nothing reads the lagging replica.
        theirs = other.get(f"{OPEN311}/requests.json?api_key={other_raw}")
        assert code not in {r["service_request_id"] for r in theirs.json()}
    caught_up()
    # Once the replica has the write the writer reads it there again, and is unpinned.
    with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
        mine = writer.get(listing)
    assert code in {r["service_request_id"] for r in mine.json()}
    assert replica_reads_of("demands_demand", on_replica) >= 1
    assert mine.cookies[PIN_COOKIE].value == ""
    theirs = other.get(f"{OPEN311}/requests.json?api_key={other_raw}")
    assert code in {r["service_request_id"] for r in theirs.json()}  # it was only the lag


def test_an_export_job_sees_every_write_made_before_it_ran(
    tree: Any, personas: Any, paused: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.DATABASE_REPLICA_WAIT_SECONDS = 0.2
    town = personas[Role.TOWN]
    with paused():
        wanted = make_demand(grid=tree.grid, title="导出前刚提交")
        job = make_export_job(user=town, view="all")
        with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
            assert services.export_jobs_run() == 1
        assert replica_reads_of("demands_demand", on_replica) == 0  # the replica lags: the primary was read
        assert exported_codes(ExportJob.objects.get(pk=job.pk)) == [wanted.code]
    # Replaying again, the replica reaches the job's position (other databases of a busy test server may
    # delay it: the wait is long enough here that the answer does not depend on them).
    settings.DATABASE_REPLICA_WAIT_SECONDS = 180
    make_export_job(user=town, view="all")
    with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
        assert services.export_jobs_run() == 1
    assert replica_reads_of("demands_demand", on_replica) >= 1
    assert [exported_codes(j) for j in ExportJob.objects.order_by("pk")] == [[wanted.code], [wanted.code]]

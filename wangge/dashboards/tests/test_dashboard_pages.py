"""The dashboard, ranking, map, reports and public pages: right figures, right scope, nothing personal."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from wangge.accounts.models import Role
from wangge.dashboards import selectors, services
from wangge.dashboards.tests.conftest import CITY
from wangge.demands.models import Demand
from wangge.registry.testing import make_area, make_user


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def kpi(html: str, measure: str) -> str:
    """The big number of one measure card."""
    block = re.search(rf'data-measure="{measure}"(.*?)</article>', html, re.S)
    assert block, measure
    return re.search(r'class="num"[^>]*>([^<]*)<', block.group(1)).group(1).strip()


@pytest.mark.django_db
def test_city_dashboard_shows_the_measures(story: Any, now: Any) -> None:
    services.rollup_refresh_recent()
    html = client_for(story.personas[Role.CITY_ADMIN]).get(reverse("dashboards:dashboard")).content.decode()
    assert kpi(html, "received") == str(CITY["received"])
    assert kpi(html, "resolved") == str(CITY["resolved"])
    assert kpi(html, "response_rate") == "62.5%"  # 5/8
    assert kpi(html, "resolution_rate") == "50.0%"  # 1/2: D1 solved, D3 not
    assert kpi(html, "satisfaction_rate") == "66.7%"  # 2/3
    assert kpi(html, "return_rate") == "25.0%"  # 1/4
    assert 'data-numerator="5" data-denominator="8"' in html
    # 满意率 and 解决率 by channel: every channel the city's demands came by has its row.
    assert 'data-testid="channels"' in html
    for channel in set(Demand.objects.values_list("channel", flat=True)):
        assert f'data-channel="{channel}"' in html, channel
    # Drill-down: both towns are listed under the city with their own counts.
    assert story.tree.town.name in html and story.tree.other_town.name in html
    assert 'id="dash-data"' in html and "echarts.min.js" in html and "leaflet.js" in html


@pytest.mark.django_db
def test_the_dashboard_reads_todays_demands_once(story: Any, now: Any, monkeypatch: Any) -> None:
    """Figures, series, categories, channels and children share one live reading of today's demands."""
    from wangge.dashboards.selectors import tallies

    services.rollup_refresh_recent()
    reads: list[str] = []
    real = tallies._compute_live

    def counted(demands: Any) -> Any:
        reads.append(str(demands.query))
        return real(demands)

    monkeypatch.setattr(tallies, "_compute_live", counted)
    html = client_for(story.personas[Role.CITY_ADMIN]).get(reverse("dashboards:dashboard")).content.decode()
    assert kpi(html, "received") == str(CITY["received"])  # today's D11 is counted, from that one reading
    assert reads and len(reads) == len(set(reads))  # no day's demands read twice (today's were read five times)
    # Outside a page's reading each call reads anew (a service or a test never sees stale figures).
    subject, before = selectors.Subject(area=story.tree.city), len(reads)
    selectors.figures(subject=subject, period=selectors.period_from("today"))
    selectors.figures(subject=subject, period=selectors.period_from("today"))
    assert len(reads) == before + 2


@pytest.mark.django_db
def test_todays_figures_from_the_stored_facts_equal_a_full_count(story: Any, now: Any, settings: Any) -> None:
    """Today's live part reads the worker's stored facts of unchanged demands and computes the others:
    the figures equal a count of every demand computed now, after a change, an intake and time alone."""
    from wangge.dashboards import facts
    from wangge.dashboards.tests.conftest import NOW
    from wangge.demands import services as demand_services
    from wangge.demands.testing import make_demand

    settings.DASHBOARD_ROLLUP_ID_MARGIN = 0  # only the events after the refresh mark a demand changed
    tree = story.tree
    today = selectors.period_from("today")
    subjects = [selectors.Subject(area=a) for a in (tree.city, tree.town, tree.grid)]
    subjects.append(selectors.Subject(department=tree.department))

    def check() -> None:
        with selectors.one_reading():
            for subject in subjects:
                got = selectors.figures(subject=subject, period=today)
                full = facts.tally_demands(subject.demands().filter(created_at__gte=facts.day_bounds(today.start)[0]))
                assert (got.counts, got.accept_hist, got.resolve_hist) == (
                    full.counts,
                    full.accept_hist,
                    full.resolve_hist,
                ), subject.label

    services.rollup_refresh_recent()
    check()
    demand_services.demand_accept(demand=story.d["D11"], actor=story.personas[Role.GRID_LEADER])  # an event since
    make_demand(grid=tree.sibling_grid, title="新的诉求")  # not refreshed yet
    check()
    services.rollup_refresh_recent()
    now.move_to(NOW + dt.timedelta(hours=5))  # the same day: limits pass by time alone, no refresh
    check()


@pytest.mark.django_db
def test_a_town_sees_only_its_own_figures_and_ranking_place(story: Any, now: Any) -> None:
    tree, personas = story.tree, story.personas
    services.rollup_refresh_recent()
    town = client_for(personas[Role.TOWN])
    html = town.get(reverse("dashboards:dashboard")).content.decode()
    assert kpi(html, "received") == "10"  # its own town, not the city's 11
    assert tree.other_town.name not in html
    assert 'data-testid="position"' in html
    # Not the city, not the other town.
    assert town.get(reverse("dashboards:dashboard") + f"?area={tree.city.pk}").status_code == 404
    assert town.get(reverse("dashboards:dashboard") + f"?area={tree.other_town.pk}").status_code == 404
    assert town.get(reverse("dashboards:map_data") + f"?area={tree.other_town.pk}").status_code == 404
    # The ranking: its own row with its place among all towns, no other town's name or figures.
    ranking = town.get(reverse("dashboards:ranking")).content.decode()
    assert tree.town.name in ranking and tree.other_town.name not in ranking
    assert 'data-testid="red-board"' not in ranking
    # The city sees every town, and the red and black lists.
    city = client_for(personas[Role.CITY_ADMIN]).get(reverse("dashboards:ranking")).content.decode()
    assert tree.town.name in city and tree.other_town.name in city and 'data-testid="red-board"' in city
    # The other town's staff see theirs and not ours.
    outsider = client_for(personas["outsider"]).get(reverse("dashboards:dashboard")).content.decode()
    assert kpi(outsider, "received") == "1" and tree.town.name not in outsider


@pytest.mark.django_db
def test_ranking_orders_by_the_three_rates(story: Any, now: Any) -> None:
    services.rollup_refresh_recent()
    board = selectors.ranking(user=story.personas[Role.CITY_ADMIN], level="town", period=selectors.month_period(None))
    rows = {r["area"].pk: r for r in board["rows"]}
    town, other = rows[story.tree.town.pk], rows[story.tree.other_town.pk]
    # 集里: response 5/7, resolution 1/2 (D1 solved, D3 not), satisfaction 2/3; 淮川: response 0/1, nothing rated.
    assert town["score"] == pytest.approx((5 / 7 + 1 / 2 + 2 / 3) / 3)
    assert other["score"] == 0.0
    assert (town["position"], other["position"]) == (1, 2) and board["ranked"] == 2
    # Two towns: split in halves, the better on the red list, the other on the black list, never both.
    assert [r["area"] for r in board["top"]] == [story.tree.town]
    assert [r["area"] for r in board["bottom"]] == [story.tree.other_town] and board["split"]
    village_board = selectors.ranking(
        user=story.personas[Role.TOWN], level="village", period=selectors.month_period(None)
    )
    assert [r["area"] for r in village_board["rows"]] == [story.tree.village]  # 北正社区 is another town's
    # Ranked among both villages (北正社区 has D5), but only its own row and place are shown to the town.
    assert village_board["top"] == [] and village_board["ranked"] == 2
    assert village_board["rows"][0]["position"] == 1


@pytest.mark.parametrize(
    ("ranked", "red", "black"),
    [
        (0, [], []),
        (1, [1], []),
        (2, [1], [2]),
        (3, [1, 2], [3]),
        (5, [1, 2, 3], [5, 4]),
        (10, [1, 2, 3, 4, 5], [10, 9, 8, 7, 6]),
        (12, [1, 2, 3, 4, 5], [12, 11, 10, 9, 8]),
    ],
)
def test_a_short_ranking_is_split_in_halves_so_the_black_list_is_never_an_empty_box(
    ranked: int, red: list[int], black: list[int]
) -> None:
    rows = [{"position": i} for i in range(1, ranked + 1)]
    top, bottom = selectors.board_ends(rows)
    assert [r["position"] for r in top] == red and [r["position"] for r in bottom] == black


@pytest.mark.django_db
def test_department_dashboard_and_drill_down_to_demands(story: Any, now: Any) -> None:
    services.rollup_refresh_recent()
    dept = client_for(story.personas[Role.DEPARTMENT])
    html = dept.get(reverse("dashboards:dashboard")).content.decode()
    assert story.tree.department.name in html and kpi(html, "received") == "3"
    assert (
        dept.get(reverse("dashboards:dashboard") + f"?department={story.tree.other_department.pk}").status_code == 404
    )
    # The grid's page lists its demands, each linking to the console.
    grid_page = (
        client_for(story.personas[Role.VILLAGE])
        .get(reverse("dashboards:dashboard") + f"?area={story.tree.grid.pk}")
        .content.decode()
    )
    assert story.d["D1"].code in grid_page
    assert reverse("dashboards:console_demand", args=[story.d["D1"].pk]) in grid_page


@pytest.mark.django_db
def test_map_colours_areas_by_open_and_overdue(story: Any, now: Any) -> None:
    tree = story.tree
    square = {
        "type": "Polygon",
        "coordinates": [[[113.6, 28.1], [113.7, 28.1], [113.7, 28.2], [113.6, 28.2], [113.6, 28.1]]],
    }
    for area in (tree.town, tree.other_town, tree.grid, tree.sibling_grid):
        area.boundary = square
        area.save(update_fields=["boundary"])
    city = client_for(story.personas[Role.CITY_ADMIN])
    data = city.get(reverse("dashboards:map_data") + f"?area={tree.city.pk}").json()
    props = {f["properties"]["name"]: f["properties"] for f in data["features"]}
    assert props[tree.town.name]["open"] == 3 and props[tree.town.name]["overdue"] == 2  # D7, D10, D11
    assert props[tree.other_town.name] == {**props[tree.other_town.name], "open": 1, "overdue": 1}
    assert props[tree.town.name]["url"].endswith(f"?area={tree.town.pk}")
    grids = city.get(reverse("dashboards:map_data") + f"?area={tree.village.pk}").json()
    names = {f["properties"]["name"]: f["properties"] for f in grids["features"]}
    assert names[tree.grid.name]["open"] == 1 and names[tree.sibling_grid.name]["open"] == 0


@pytest.mark.django_db
def test_map_counts_are_grouped_once_per_cache_period(story: Any, now: Any, settings: Any, monkeypatch: Any) -> None:
    """Every view of the city's map within DASHBOARD_MAP_CACHE_SECONDS reads one grouping of the open demands."""
    import datetime as dt
    import importlib

    import time_machine
    from django.core.cache import cache

    from wangge.dashboards.tests.conftest import NOW

    ranking = importlib.import_module("wangge.dashboards.selectors.ranking")  # the module, not its function

    settings.DASHBOARD_MAP_CACHE_SECONDS = 30
    cache.clear()
    groupings: list[int] = []
    real = ranking._map_counts
    monkeypatch.setattr(ranking, "_map_counts", lambda area, areas: groupings.append(area.pk) or real(area, areas))
    subject = selectors.Subject(area=story.tree.city)
    first = selectors.map_features(subject=subject)
    assert selectors.map_features(subject=subject) == first
    assert groupings == [story.tree.city.pk]
    with time_machine.travel(NOW + dt.timedelta(seconds=31), tick=False):  # past the cache period
        selectors.map_features(subject=subject)
    assert groupings == [story.tree.city.pk] * 2
    cache.clear()


@pytest.mark.django_db
def test_report_page_and_workbook(story: Any, now: Any) -> None:
    services.rollup_refresh_recent()
    city = client_for(story.personas[Role.CITY_ADMIN])
    query = f"?area={story.tree.city.pk}&kind=weekly&date=2026-03-11"
    page = city.get(reverse("dashboards:report") + query).content.decode()
    assert "周报" in page and "2026-03-09" in page and "2026-03-15" in page
    resp = city.get(reverse("dashboards:report_xlsx") + query)
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(resp.content))
    assert wb.sheetnames == ["指标", "类别", "排名"]
    measures = {row[0]: row[1:] for row in wb["指标"].iter_rows(min_row=3, values_only=True)}
    assert measures["受理诉求数"][0] == 11 and measures["办结数"][0] == 5
    assert measures["响应率"][0] == 0.625 and measures["满意率"][0] == round(2 / 3, 4)
    assert measures["受理诉求数"][1] == 0  # the week before had none
    cats = list(wb["类别"].iter_rows(min_row=2, values_only=True))
    assert cats[0][0].endswith("垃圾清运测试") and cats[0][1] == 11
    ranking = list(wb["排名"].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in ranking] == [story.tree.town.name, story.tree.other_town.name] and ranking[0][0] == 1
    # A town's report of the city is refused like the city's dashboard.
    town = client_for(story.personas[Role.TOWN])
    assert town.get(reverse("dashboards:report_xlsx") + query).status_code == 404


@pytest.mark.django_db
def test_public_page_shows_counts_and_nothing_personal(story: Any, now: Any) -> None:
    services.rollup_refresh_recent()
    resp = Client().get(reverse("dashboards:public"))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert story.tree.town.name in html and story.tree.other_town.name in html
    city_table = re.search(r'data-testid="public-city".*?</table>', html, re.S).group(0)
    assert "<td>2026-03</td><td>11</td><td>5</td><td>66.7%</td>" in city_table.replace("\n", "")
    for demand in story.d.values():
        assert demand.code not in html and demand.title not in html
    assert "13900001234" not in html and "李四" not in html and "139****1234" not in html


@pytest.mark.django_db
def test_figures_of_an_area_without_demands_and_empty_roles(tree: Any) -> None:
    empty = make_area(level="grid", parent=tree.branch, name="空网格")
    leader = make_user(role=Role.GRID_LEADER, areas=[empty])
    html = client_for(leader).get(reverse("dashboards:dashboard")).content.decode()
    assert kpi(html, "received") == "0" and kpi(html, "response_rate") == "—"
    # A user whose scope rows were all removed sees nothing, not everything.
    from wangge.accounts.models import User

    nobody = User.objects.create_user(username="no-scope", password="x-pass-12345", role=Role.TOWN)
    assert client_for(nobody).get(reverse("dashboards:dashboard")).status_code == 404


def test_periods_and_their_previous() -> None:
    import datetime as dt

    import time_machine

    from wangge.demands.sla import LOCAL_TZ

    with time_machine.travel(dt.datetime(2026, 3, 13, 12, 0, tzinfo=LOCAL_TZ), tick=False):
        month = selectors.period_from("month")
        assert (month.start, month.end) == (dt.date(2026, 3, 1), dt.date(2026, 3, 13))
        assert (month.previous().start, month.previous().end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 13))
        week = selectors.period_from("week")
        assert (week.start, week.previous().start, week.previous().end) == (
            dt.date(2026, 3, 9),
            dt.date(2026, 3, 2),
            dt.date(2026, 3, 6),
        )
        custom = selectors.period_from("custom", "2026-01-31", "2026-01-01")
        assert (custom.start, custom.end, custom.previous().end) == (
            dt.date(2026, 1, 1),
            dt.date(2026, 1, 31),
            dt.date(2025, 12, 31),
        )
        assert selectors.month_period("2026-02").end == dt.date(2026, 2, 28)
        assert selectors.month_period("bad").start == dt.date(2026, 3, 1)
        from wangge.core.errors import ValidationFailed

        with pytest.raises(ValidationFailed):
            selectors.period_from("custom", "2026-13-01", "x")

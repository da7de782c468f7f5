"""Keyset pages and the capped count of the demand lists: no row lost or repeated, ties included."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.dashboards.models import ExportJob
from wangge.dashboards.services import export_jobs_run
from wangge.demands import selectors
from wangge.demands.models import Demand
from wangge.demands.selectors import paging
from wangge.demands.testing import make_demand


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def tied(tree: Any) -> list[Demand]:
    """13 demands in a grid, filed at only four distinct instants (ties on the first ordering key)."""
    demands = [make_demand(grid=tree.grid) for _ in range(13)]
    base = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)
    for i, demand in enumerate(demands):
        Demand.objects.filter(pk=demand.pk).update(created_at=base + dt.timedelta(minutes=i % 4))
    return demands


def walk_forward(qs: Any, size: int) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = selectors.demand_page(qs, cursor=cursor, size=size)
        pages.append([d.pk for d in page])
        if not page.has_next:
            return pages
        cursor = page.next_cursor


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 3, 4, 5, 13, 20])
def test_pages_forward_and_back_hold_every_row_once_in_order(tied: list[Demand], personas: Any, size: int) -> None:
    qs = selectors.demand_list(user=personas[Role.CITY_ADMIN])
    expected = [d.pk for d in qs]
    assert len(expected) == 13 and len({d.created_at for d in qs}) == 4  # the ties are there
    pages = walk_forward(qs, size)
    assert [pk for page in pages for pk in page] == expected
    assert all(len(page) == size for page in pages[:-1]) and 1 <= len(pages[-1]) <= size
    # Back from the last page, by the previous cursors: the same pages in reverse, then the first page ends it.
    page = selectors.demand_page(qs, cursor=None, size=size)
    for _ in pages[:-1]:
        page = selectors.demand_page(qs, cursor=page.next_cursor, size=size)
    back = [[d.pk for d in page]]
    while page.has_previous:
        page = selectors.demand_page(qs, cursor=page.previous_cursor, size=size)
        back.append([d.pk for d in page])
    assert back[::-1] == pages


@pytest.mark.django_db
def test_a_demand_filed_meanwhile_never_shifts_the_next_page(tied: list[Demand], personas: Any, tree: Any) -> None:
    qs = selectors.demand_list(user=personas[Role.CITY_ADMIN])
    first = selectors.demand_page(qs, cursor=None, size=5)
    newcomer = make_demand(grid=tree.grid)  # the newest of all: it belongs on the first page
    second = selectors.demand_page(qs, cursor=first.next_cursor, size=5)
    expected = [d.pk for d in qs if d.pk != newcomer.pk]
    assert [d.pk for d in first] + [d.pk for d in second] == expected[:10]
    back = selectors.demand_page(qs, cursor=second.previous_cursor, size=5)
    assert [d.pk for d in back] == [d.pk for d in first] and back.has_previous  # the newcomer lies before it


@pytest.mark.django_db
def test_the_count_is_exact_up_to_the_cap_and_capped_beyond(tied: list[Demand], personas: Any) -> None:
    qs = selectors.demand_list(user=personas[Role.CITY_ADMIN])
    exact = selectors.capped_count(qs, cap=13)
    assert (exact.value, exact.capped, str(exact)) == (13, False, "13")
    capped = selectors.capped_count(qs, cap=12)
    assert (capped.value, capped.capped, str(capped)) == (12, True, "12+")
    assert str(paging.CappedCount(value=1000, capped=True)) == "1,000+"
    assert selectors.capped_count(qs.filter(pk__in=[tied[0].pk, tied[1].pk]), cap=12).value == 2
    # The count is the list's, whatever page is shown.
    page = selectors.demand_page(qs, cursor=selectors.demand_page(qs, cursor=None, size=5).next_cursor, size=5)
    assert page.count == selectors.capped_count(qs)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "garbage",
        "eyJ4Ijox",
        paging.encode_cursor("a", [5]),
        # A fixed time: the test ids must be the same in every xdist worker.
        paging.encode_cursor("x", [dt.datetime(2026, 12, 6, 15, 0, tzinfo=dt.UTC), 1]),
    ],
)
def test_a_cursor_the_list_cannot_read_opens_the_first_page(tied: list[Demand], personas: Any, cursor: str) -> None:
    qs = selectors.demand_list(user=personas[Role.CITY_ADMIN])
    page = selectors.demand_page(qs, cursor=cursor, size=4)
    assert [d.pk for d in page] == [d.pk for d in qs[:4]] and not page.has_previous


@pytest.mark.django_db
def test_a_naive_time_in_a_cursor_is_refused() -> None:
    assert paging.decode_cursor(paging.encode_cursor("a", [dt.datetime(2026, 1, 1), 3]), keys=2) is None


def next_link(body: str) -> str | None:
    found = re.search(r'<a href="\?([^"]*)" rel="next"', body)
    return html.unescape(found.group(1)) if found else None


def codes_in(body: str) -> list[str]:
    return re.findall(r'class="code">([^<]+)</a>', body)


@pytest.mark.django_db
def test_the_list_page_follows_its_next_links_through_every_demand(
    tied: list[Demand], personas: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("wangge.demands.views.staff.PAGE_SIZE", 4)
    monkeypatch.setattr(paging, "COUNT_CAP", 10)
    client = client_for(personas[Role.VILLAGE])
    body = client.get(reverse("demands:list"), {"state": "submitted"}).content.decode()
    assert "10+ 件诉求" in body and 'rel="prev"' not in body
    seen = []
    while True:
        table = body.split('data-testid="demands"', 1)[1]
        seen += codes_in(table)
        link = next_link(body)
        if link is None:
            break
        assert "state=submitted" in link  # the filters travel with the cursor
        body = client.get(reverse("demands:list") + "?" + link).content.decode()
        assert 'rel="prev"' in body and 'rel="first"' in body
    expected = [d.code for d in selectors.demand_list(user=personas[Role.VILLAGE])]
    assert seen == expected and len(seen) == 13


@pytest.mark.django_db
def test_the_console_pages_by_cursor_shows_an_exact_small_count_and_exports_everything(
    tied: list[Demand], personas: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    town = client_for(personas[Role.TOWN])
    body = town.get(reverse("dashboards:console"), {"view": "all", "size": "5"}).content.decode()
    assert "13 件诉求" in body
    seen = []
    while True:
        seen += re.findall(r'<tr data-code="([^"]+)"', body)
        link = next_link(body)
        if link is None:
            break
        body = town.get(reverse("dashboards:console") + "?" + link).content.decode()
    assert sorted(seen) == sorted(d.code for d in tied) and len(seen) == 13
    # The export form of a later page carries the filters, never the cursor: the file holds every row.
    first = town.get(reverse("dashboards:console"), {"view": "all", "size": "5"}).content.decode()
    later = town.get(reverse("dashboards:console") + "?" + (next_link(first) or "")).content.decode()
    assert "cursor=" in (next_link(first) or "")
    form = later.split('data-testid="export-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="cursor"' not in form
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    town.post(reverse("dashboards:exports"), {**fields, "kind": "demands"})
    assert export_jobs_run() == 1
    assert ExportJob.objects.get().total == 13

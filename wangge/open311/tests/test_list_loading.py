"""The request list loads each related row once for its page: its queries do not grow with its rows, and every
row still says what it said when the list joined them (holder, merged-into code, media, village, names)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from wangge.demands.models import Demand, State
from wangge.demands.testing import make_demand
from wangge.open311.testing import make_api_key, make_submission
from wangge.registry.testing import make_household

BASE = "/open311/v2"
pytestmark = pytest.mark.django_db


def _every_shape(tree: Any, n: int) -> list[Demand]:
    """n demands, each reading a different part of request_out: unclassified or not, consented words with a
    household head's name, held by a department, merged (into a demand, or into one that is gone), media."""
    household = make_household(grid=tree.grid, head_name="钱多多")
    made: list[Demand] = []
    for i in range(n):
        demand = make_demand(
            grid=tree.grid if i % 2 else tree.sibling_grid,
            description=f"钱多多家门口井盖丢了（{i}）",
            address="" if i % 3 else "金沙北路128号",
            publish_consent=bool(i % 2),
            household=household if i % 2 else None,
            **({"category": "0101"} if i % 4 else {}),
        )
        made.append(demand)
    first = made[0]
    for i, demand in enumerate(made[1:], start=1):
        if i % 4 == 1:
            Demand.objects.filter(pk=demand.pk).update(state=State.MERGED, merged_into=first)
        elif i % 4 == 2:
            Demand.objects.filter(pk=demand.pk).update(holder_department=tree.department, holder_area=None)
        elif i % 4 == 3:
            make_submission(demand=demand, media_urls=[f"https://example.org/{i}.jpg"])
    if n > 4:  # merged into a demand that was deleted (no foreign key on the partitioned table holds it)
        Demand.objects.filter(pk=made[4].pk).update(state=State.MERGED, merged_into_id=first.pk + 10_000)
    return made


def _list(client: Client, **params: str) -> tuple[list[dict[str, Any]], int]:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(f"{BASE}/requests.json", params)
    assert resp.status_code == 200, resp.content[:300]
    return resp.json(), len(ctx.captured_queries)


@pytest.mark.parametrize("keyed", [False, True])
def test_the_lists_queries_do_not_grow_with_its_rows(client: Client, tree: Any, keyed: bool) -> None:
    params = {"api_key": make_api_key(areas=[tree.city])[1]} if keyed else {}
    _every_shape(tree, 5)
    _list(client, **params)  # a key's first use of the minute records it (once), as a session would
    few, queries_few = _list(client, **params)
    _every_shape(tree, 12)
    many, queries_many = _list(client, **params)
    assert (len(few), len(many)) == (5, 17)
    assert queries_many == queries_few


def test_each_row_still_reads_its_related_rows(client: Client, tree: Any) -> None:
    made = _every_shape(tree, 6)
    rows = {r["service_request_id"]: r for r in _list(client)[0]}
    first = made[0]
    merged = rows[made[1].code]
    assert merged["status"] == "closed" and f"并入 {first.code}" in merged["status_notes"]
    gone = rows[made[4].code]  # its merged-into demand is gone: said like any other, by its holder
    assert gone["status_notes"].startswith("已合并为重复诉求（金沙2号微网格）")
    department = rows[made[2].code]
    assert department["agency_responsible"] == "供电公司" and "（供电公司）" in department["status_notes"]
    assert rows[made[3].code]["media_url"] == "https://example.org/3.jpg"
    assert rows[made[5].code]["media_url"] is None
    consented = rows[made[3].code]
    assert "井盖丢了" in consented["description"] and "钱多多" not in consented["description"]  # head's name gone
    assert consented["address"] == "金沙北路，金沙社区，集里街道" and consented["address_id"] == tree.village.code
    unclassified = rows[first.code]
    assert unclassified["service_code"] == "unclassified" and unclassified["service_name"] == "未分类"
    assert unclassified["address"] == "金沙北路，金沙社区，集里街道"
    keyed = {
        r["service_request_id"]: r
        for r in client.get(f"{BASE}/requests.json", {"api_key": make_api_key(areas=[tree.city])[1]}).json()
    }
    assert keyed[made[1].code]["address"] == "金沙1号微网格，金沙第一党支部，金沙社区"  # no address: the areas up
    assert keyed[made[1].code]["address_id"] == tree.grid.code
    assert keyed[first.code]["address"] == "金沙北路128号"
    assert "钱多多" in keyed[made[3].code]["description"]  # staff read the words as filed

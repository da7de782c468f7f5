"""The 12345 round trip's way back: each imported order's state, unit, result and times in the hotline's
own columns, for the orders the person may see, on the page and by command."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.test import Client

from wangge.accounts.models import Role
from wangge.core import clock
from wangge.demands.hotline import hotline_import
from wangge.demands.hotline_results import COLUMNS
from wangge.demands.models import Demand, Satisfaction, State
from wangge.demands.tests.test_hotline import good_rows, write_xlsx

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 4, 15)


@pytest.fixture
def imported(tree: Any, tmp_path: Path) -> list[Demand]:
    hotline_import(path=write_xlsx(tmp_path / "in.xlsx", good_rows()))
    demands = list(Demand.objects.order_by("idempotency_key"))
    first = demands[0]
    Demand.objects.filter(pk=first.pk).update(
        state=State.RESOLVED,
        resolution="已协调施工方夜间停工",
        resolved_at=first.reported_at + dt.timedelta(hours=5),
        rated_solved=True,
        satisfaction=Satisfaction.SATISFIED,
    )
    # The second one is still waiting, past its case deadline.
    Demand.objects.filter(pk=demands[1].pk).update(case_due_at=clock.now() - dt.timedelta(days=1))
    return demands


def sheet_rows(data: bytes) -> list[tuple[Any, ...]]:
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    return list(ws.iter_rows(values_only=True))


def test_the_return_sheet_has_the_hotlines_columns_and_each_orders_state(
    imported: list[Demand], personas: Any, tmp_path: Path
) -> None:
    out = tmp_path / "back.xlsx"
    call_command("export_hotline_results", "--since", "2026-04-15", "--until", "2026-04-15", "--user",
                 personas[Role.CITY_ADMIN].username, "-o", str(out))  # fmt: skip
    rows = sheet_rows(out.read_bytes())
    assert rows[0] == COLUMNS
    by_ticket = {r[0]: dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    assert set(by_ticket) == {"GD2026041500001", "GD2026041500002"}  # the third has no call time: today
    done = by_ticket["GD2026041500001"]
    assert done["平台编号"] == imported[0].code and done["办理状态"] == "已办结"
    assert done["办理结果"] == "已协调施工方夜间停工" and done["是否解决"] == "是" and done["满意度"] == "满意"
    assert done["来电时间"] == "2026-04-15 09:12" and done["办结时间"] == "2026-04-15 14:12"
    waiting = by_ticket["GD2026041500002"]
    assert waiting["办理结果"] is None and waiting["办结时间"] is None and waiting["承办单位"]
    # Still open long after its case deadline: overdue.
    assert waiting["是否超期"] == "是" and done["是否超期"] == "否"


def test_the_page_counts_downloads_and_scopes(imported: list[Demand], personas: Any) -> None:
    admin, outsider = Client(), Client()
    admin.force_login(personas[Role.CITY_ADMIN])
    outsider.force_login(personas["outsider"])
    period = {"since": "2026-04-15", "until": "2026-04-15"}
    page = admin.get("/demands/hotline/", period)
    assert page.status_code == 200 and 'data-testid="hotline-count"' in page.content.decode()
    assert page.context["count"] == 2
    sheet = admin.get("/demands/hotline/", {**period, "download": "1"})
    assert sheet["Content-Type"].startswith("application/vnd.openxmlformats")
    assert len(sheet_rows(sheet.content)) == 3
    # Someone scoped elsewhere sees only the orders of their own areas: never the 集里街道 one.
    theirs = {r[0] for r in sheet_rows(outsider.get("/demands/hotline/", {**period, "download": "1"}).content)[1:]}
    assert "GD2026041500001" not in theirs and theirs < {"GD2026041500001", "GD2026041500002"}


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [
        ("2026-04-15", "2026-04-01", "until"),
        ("2026-01-01", "2026-06-30", "until"),
        ("2026-13-01", "2026-04-15", "since"),
    ],
)
def test_a_period_it_cannot_use_is_named(personas: Any, since: str, until: str, field: str) -> None:
    client = Client()
    client.force_login(personas[Role.CITY_ADMIN])
    resp = client.get("/demands/hotline/", {"since": since, "until": until, "download": "1"})
    assert resp.status_code == 400 and resp["Content-Type"].startswith("text/html")  # the form, not a file
    assert 'data-testid="error"' in resp.content.decode()
    assert field in resp.context["form"].errors

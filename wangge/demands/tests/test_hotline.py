"""The 12345 hotline import: through the intake service, re-import safe, all or nothing, errors by row and column."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from wangge.core.errors import ValidationFailed
from wangge.demands.hotline import hotline_import
from wangge.demands.models import Demand, DemandEvent

pytestmark = pytest.mark.django_db

HEADER = ["工单编号", "来电时间", "来电人", "联系电话", "诉求类型", "诉求内容", "地址", "所属乡镇/村"]


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "工单"
    ws.append(["浏阳市12345热线工单导出"])  # a title line above the header, as exports have
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def good_rows() -> list[list[Any]]:
    return [
        [
            "GD2026041500001",
            dt.datetime(2026, 4, 15, 9, 12),
            "王五",
            13800002222,
            "投诉",
            "夜间施工噪音扰民",
            "金沙路8号",
            "集里街道/金沙社区",
        ],
        [
            "GD2026041500002",
            "2026/4/15 10:30",
            "赵六",
            "0731-83612345",
            "求助",
            "家里老人摔倒需要帮助",
            "北正街12号",
            "淮川街道北正社区",
        ],
        ["GD2026041500003", "", "", "", "", "集里街道路面坑洼", "", "集里街道"],
    ]


def test_import_files_every_row_through_intake(tree: Any, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "export.xlsx", good_rows())
    report = hotline_import(path=path)
    assert report.created == 3 and report.existing == 0
    noise = Demand.objects.get(idempotency_key="hotline:GD2026041500001")
    assert noise.channel == "hotline" and noise.kind == "complaint" and noise.area == tree.village
    assert noise.reporter_phone == "13800002222"
    assert noise.reported_at == dt.datetime(2026, 4, 15, 1, 12, tzinfo=dt.UTC)
    help_ = Demand.objects.get(idempotency_key="hotline:GD2026041500002")
    assert help_.area == tree.other_village and help_.kind == "help"
    road = Demand.objects.get(idempotency_key="hotline:GD2026041500003")
    assert road.area == tree.town
    assert DemandEvent.objects.filter(action="submit", actor_kind="system").count() == 3


def test_reimport_files_nothing_twice(tree: Any, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "export.xlsx", good_rows())
    hotline_import(path=path)
    again = hotline_import(path=path)
    assert (again.created, again.existing) == (0, 3)
    assert Demand.objects.count() == 3


def test_errors_by_row_and_column_and_nothing_written(tree: Any, tmp_path: Path) -> None:
    rows = good_rows()
    rows[1][5] = ""  # no description: Excel row 4
    rows[2][7] = "火星村"  # unknown place: Excel row 5
    rows[0][4] = "吐槽"  # unknown kind: Excel row 3
    path = write_xlsx(tmp_path / "bad.xlsx", rows)
    with pytest.raises(ValidationFailed) as err:
        hotline_import(path=path)
    found = {(p.row, p.column) for p in err.value.problems}
    assert found == {(4, "诉求内容"), (5, "所属乡镇/村"), (3, "诉求类型")}
    text = str(err.value.problems[0])
    assert "第" in text and "row" in text
    assert Demand.objects.count() == 0


def test_a_row_refused_by_the_service_rolls_back_the_rows_before_it(tree: Any, tmp_path: Path) -> None:
    rows = good_rows()
    rows[2][3] = "12345"  # a malformed phone, found only by the intake service
    path = write_xlsx(tmp_path / "bad.xlsx", rows)
    with pytest.raises(ValidationFailed) as err:
        hotline_import(path=path)
    assert [(p.row, p.column) for p in err.value.problems] == [(5, "联系电话")]
    assert Demand.objects.count() == 0 and DemandEvent.objects.count() == 0


def test_csv_and_the_command(tree: Any, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerow(["GD1", "2026-04-15 09:00", "王五", "13800002222", "建议", "建议增设路灯", "金沙路", "金沙社区"])
    call_command("import_hotline", str(path))
    assert "created 1" in capsys.readouterr().out
    assert Demand.objects.get().kind == "suggestion"


def test_command_reports_missing_columns(tree: Any, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("工单编号,来电人\nGD1,王五\n", encoding="utf-8")
    with pytest.raises(CommandError) as err:
        call_command("import_hotline", str(path))
    assert "诉求内容" in str(err.value) and "missing" in str(err.value)


def test_the_confidential_column_marks_orders_and_a_word_it_cannot_read_is_named(tree: Any, tmp_path: Path) -> None:
    rows = [[*row, flag] for row, flag in zip(good_rows(), ["是", "否", ""], strict=True)]
    wb = Workbook()
    ws = wb.active
    ws.append([*HEADER, "是否保密"])
    for row in rows:
        ws.append(row)
    wb.save(tmp_path / "secret.xlsx")
    hotline_import(path=tmp_path / "secret.xlsx")
    assert list(Demand.objects.filter(confidential=True).values_list("description", flat=True)) == ["夜间施工噪音扰民"]

    ws.append(["GD2026041500009", "", "", "", "", "路灯不亮", "", "集里街道", "也许"])
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(ValidationFailed) as err:
        hotline_import(path=tmp_path / "bad.xlsx")
    assert [(p.row, p.column) for p in err.value.problems] == [(5, "是否保密")]
    assert Demand.objects.count() == 3

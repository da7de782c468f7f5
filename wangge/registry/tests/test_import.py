"""Registry import: files as counties keep them, every bad row named, re-imports that change nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlwt
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count

from wangge.core.masking import decrypt, lookup_hash
from wangge.registry.importing import registry_import
from wangge.registry.importing.columns import COLUMNS
from wangge.registry.importing.template import template_workbook
from wangge.registry.models import Area, Household, Level, Person
from wangge.registry.services import area_create
from wangge.registry.testing import make_household

pytestmark = pytest.mark.django_db

HEADERS = [c.header for c in COLUMNS]
KEYS = [c.key for c in COLUMNS]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(n: int) -> str:
    """A valid 18-digit ID number (checksum included) for test person n."""
    base = f"43018119800101{n:03d}"[:17].ljust(17, "0")
    total = sum(int(base[i]) * _WEIGHTS[i] for i in range(17))
    return base + "10X98765432"[total % 11]


def hh(n: int, **over: Any) -> dict[str, Any]:
    """One household row of the county layout, in grid 1 of 金沙第一党支部 unless told otherwise."""
    row: dict[str, Any] = {
        "town": "集里街道",
        "village": "金沙社区",
        "branch": "金沙第一党支部",
        "grid": 1,
        "leader_name": "张建国",
        "leader_phone": "13800001111",
        "address": f"金沙路{n}号",
        "head_name": f"户主{n}",
        "head_id": make_id(n),
        "phone": f"139{n:08d}",
        "members": 3,
        "tags": "",
    }
    row.update(over)
    return row


def write_xlsx(
    path: Path, rows: list[dict[str, Any]], *, sheet: str = "户籍", headers: list[str] | None = None
) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    heads = headers or HEADERS
    ws.append(heads)
    for r in rows:
        ws.append([r.get(KEYS[HEADERS.index(h)], "") if h in HEADERS else r.get(h, "") for h in heads])
    wb.save(path)
    return path


def write_xls(path: Path, rows: list[dict[str, Any]]) -> Path:
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("户籍")
    for c, h in enumerate(HEADERS):
        ws.write(0, c, h)
    for r, row in enumerate(rows, start=1):
        for c, key in enumerate(KEYS):
            ws.write(r, c, row.get(key, ""))
    wb.save(str(path))
    return path


def write_csv(path: Path, rows: list[dict[str, Any]], *, encoding: str) -> Path:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADERS)
    for row in rows:
        w.writerow([row.get(k, "") for k in KEYS])
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def counts_right() -> None:
    """Every area's count equals the households below it, counted directly."""
    per_grid = dict(Household.objects.values_list("grid_id").annotate(n=Count("id")).values_list("grid_id", "n"))
    paths = dict(Area.objects.values_list("id", "path"))
    for area in Area.objects.all():
        expected = sum(n for gid, n in per_grid.items() if paths[gid].startswith(area.path))
        assert area.household_count == expected, (area.name, area.household_count, expected)


def codes(result: Any) -> list[tuple[int | None, str]]:
    return [(p.row, p.code) for p in result.errors]


# --- happy paths, all three formats ---------------------------------------------------------


def test_xlsx_happy_path_creates_households_branches_grids_and_leaders(tree: Any, tmp_path: Path) -> None:
    rows = [
        hh(1, tags="独居老人、低保户"),
        hh(2, members=5.0),
        hh(3, grid=2, leader_name="王芳", leader_phone="13700001111"),
    ]
    rows.append(hh(4, branch="金沙第二党支部", grid=7, leader_name="李明", leader_phone=""))
    result = registry_import(path=write_xlsx(tmp_path / "a.xlsx", rows), city=tree.city)
    assert result.errors == []
    assert (result.created, result.updated, result.unchanged, result.written) == (4, 0, 0, True)
    h1 = Household.objects.get(head_name="户主1")
    assert h1.grid == tree.grid and h1.area_path == tree.grid.path
    assert h1.care_tags == ",elderly_alone,low_income,"
    assert decrypt(h1.head_id_number_enc) == make_id(1)
    assert h1.head_id_number_hash == lookup_hash(make_id(1))
    assert Household.objects.get(head_name="户主2").members == 5
    # A new branch takes the village code + the next two-digit number; its grid the branch code + 3 digits.
    branch = Area.objects.get(name="金沙第二党支部")
    assert branch.level == Level.BRANCH and branch.parent == tree.village
    assert branch.code == tree.village.code + "02" and branch.path == tree.village.path + branch.code + "/"
    grid7 = Area.objects.get(parent=branch, number=7)
    assert grid7.code == branch.code + "007" and grid7.path == branch.path + grid7.code + "/"
    assert grid7.leader.name == "李明" and grid7.leader.is_party_member and grid7.leader.branch == branch
    tree.grid.refresh_from_db()
    assert tree.grid.leader.name == "张建国" and tree.grid.leader.phone == "13800001111"
    assert Area.objects.get(pk=tree.sibling_grid.pk).leader.name == "王芳"
    counts_right()
    tree.city.refresh_from_db()
    assert tree.city.household_count == 4


def test_xls_and_csv_in_utf8_bom_and_gbk_read_alike(tree: Any, tmp_path: Path) -> None:
    files = [
        write_xls(tmp_path / "a.xls", [hh(1), hh(2)]),
        write_csv(tmp_path / "b.csv", [hh(3), hh(4)], encoding="utf-8-sig"),
        write_csv(tmp_path / "c.csv", [hh(5), hh(6, tags="留守儿童 残疾人")], encoding="gbk"),
        write_csv(tmp_path / "d.csv", [hh(7)], encoding="utf-8"),
    ]
    for f in files:
        result = registry_import(path=f, city=tree.city)
        assert result.errors == [], (f.name, result.errors)
    assert Household.objects.count() == 7
    assert Household.objects.get(head_name="户主6").care_tags == ",disabled,left_behind_child,"
    assert Household.objects.get(head_name="户主1").phone == "13900000001"
    counts_right()


def test_header_variants_and_a_title_row_above_the_header(tree: Any, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["浏阳市微网格户籍登记表"])
    ws.append(
        [
            "乡镇",
            "社区",
            "党支部",
            "网格编号",
            "网格长",
            "网格长电话",
            "地址",
            "户主",
            "身份证号码",
            "电话",
            "人口",
            "标签",
        ]
    )
    ws.append(
        [
            "集里街道",
            "金沙社区",
            "金沙第一党支部",
            "1号",
            "张建国",
            "13800001111",
            "金沙路1号",
            "户主1",
            make_id(1),
            "",
            "",
            "",
        ]
    )
    path = tmp_path / "v.xlsx"
    wb.save(path)
    result = registry_import(path=path, city=tree.city)
    assert result.errors == [] and result.created == 1
    h = Household.objects.get()
    assert h.members == 1 and h.grid == tree.grid


# --- re-imports ---------------------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(tree: Any, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [hh(n) for n in range(1, 6)] + [hh(9, head_id="")])
    registry_import(path=path, city=tree.city)
    before = list(Household.objects.order_by("id").values())
    people = Person.objects.count()
    areas = list(Area.objects.order_by("id").values("id", "household_count", "leader_id", "updated_at"))
    again = registry_import(path=path, city=tree.city)
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 6, [])
    assert list(Household.objects.order_by("id").values()) == before
    assert Person.objects.count() == people
    assert list(Area.objects.order_by("id").values("id", "household_count", "leader_id", "updated_at")) == areas


def test_a_changed_row_updates_and_never_duplicates(tree: Any, tmp_path: Path) -> None:
    registry_import(path=write_xlsx(tmp_path / "a.xlsx", [hh(1), hh(2), hh(3, head_id="")]), city=tree.city)
    changed = [hh(1, phone="13512345678", members=6, tags="低保"), hh(2), hh(3, head_id="", tags="残疾")]
    result = registry_import(path=write_xlsx(tmp_path / "b.xlsx", changed), city=tree.city)
    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    assert Household.objects.count() == 3
    h1 = Household.objects.get(head_name="户主1")
    assert (h1.phone, h1.members, h1.care_tags) == ("13512345678", 6, ",low_income,")
    assert Household.objects.get(head_name="户主3").care_tags == ",disabled,"


def test_a_household_first_without_id_then_with_it_stays_one(tree: Any, tmp_path: Path) -> None:
    registry_import(path=write_xlsx(tmp_path / "a.xlsx", [hh(1, head_id="")]), city=tree.city)
    result = registry_import(path=write_xlsx(tmp_path / "b.xlsx", [hh(1)]), city=tree.city)
    assert (result.created, result.updated) == (0, 1)
    h = Household.objects.get()
    assert h.key == "id:" + lookup_hash(make_id(1))[:60] and decrypt(h.head_id_number_enc) == make_id(1)


def test_a_file_without_ids_finds_households_registered_with_them(tree: Any, tmp_path: Path) -> None:
    registry_import(path=write_xlsx(tmp_path / "a.xlsx", [hh(1), hh(2)]), city=tree.city)
    rows = [hh(1, head_id=""), hh(2, head_id="", phone="13611112222")]
    result = registry_import(path=write_xlsx(tmp_path / "b.xlsx", rows), city=tree.city)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    h2 = Household.objects.get(head_name="户主2")
    assert h2.phone == "13611112222" and decrypt(h2.head_id_number_enc) == make_id(2)
    assert h2.key == "id:" + lookup_hash(make_id(2))[:60]
    assert Household.objects.count() == 2


def test_moving_a_household_between_grids_keeps_counts_right(tree: Any, tmp_path: Path) -> None:
    registry_import(path=write_xlsx(tmp_path / "a.xlsx", [hh(1), hh(2), hh(3)]), city=tree.city)
    moved = [
        hh(1),
        hh(2, grid=2, leader_name="", leader_phone=""),
        hh(3, village="金沙社区", branch="金沙第三党支部", grid=1),
    ]
    result = registry_import(path=write_xlsx(tmp_path / "b.xlsx", moved), city=tree.city)
    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    assert Household.objects.count() == 3
    h2 = Household.objects.get(head_name="户主2")
    assert h2.grid_id == tree.sibling_grid.pk and h2.area_path == tree.sibling_grid.path
    h3 = Household.objects.get(head_name="户主3")
    assert h3.grid.parent.name == "金沙第三党支部"
    counts_right()
    assert Area.objects.get(pk=tree.grid.pk).household_count == 1


# --- every kind of bad row, by sheet, row and column, in both languages --------------------------


def test_missing_required_column_is_reported_once_naming_it(tree: Any, tmp_path: Path) -> None:
    heads = [h for h in HEADERS if h != "户主姓名"]
    path = write_xlsx(tmp_path / "a.xlsx", [hh(1), hh(2), hh(3)], headers=heads)
    result = registry_import(path=path, city=tree.city)
    assert [(p.code, p.sheet, p.row, p.column) for p in result.errors] == [("missing_column", "户籍", 1, "户主姓名")]
    assert "户主姓名" in result.errors[0].zh and "missing" in result.errors[0].en
    assert not result.written and Household.objects.count() == 0


@pytest.mark.parametrize(
    ("over", "code", "column"),
    [
        ({"village": "不存在村"}, "unknown_village", "村(社区)(B)"),
        ({"town": "不存在镇"}, "unknown_town", "乡镇(街道)(A)"),
        ({"head_id": 4.30181198001011e17}, "id_number_float", "户主身份证号(I)"),
        ({"head_id": "4.30181E+17"}, "id_number_float", "户主身份证号(I)"),
        ({"phone": "1380000"}, "bad_phone", "联系电话(J)"),
        ({"leader_phone": "12345"}, "bad_phone", "微网格长电话(F)"),
        ({"members": "三"}, "bad_members", "家庭人口(K)"),
        ({"members": 0}, "bad_members", "家庭人口(K)"),
        ({"tags": "独居老人、孤儿"}, "unknown_tag", "关爱标签(L)"),
        ({"grid": "abc"}, "bad_grid_number", "微网格编号(D)"),
        ({"head_name": ""}, "required", "户主姓名(H)"),
    ],
)
def test_each_error_is_named_by_sheet_row_and_column(
    tree: Any, tmp_path: Path, over: dict[str, Any], code: str, column: str
) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [hh(1), hh(2, **over), hh(3)])
    result = registry_import(path=path, city=tree.city)
    assert [(p.sheet, p.row, p.column, p.code) for p in result.errors] == [("户籍", 3, column, code)]
    p = result.errors[0]
    assert p.zh and p.en and p.zh != p.en
    assert "第 3 行" in str(p) and "row 3" in str(p)
    assert not result.written and Household.objects.count() == 0 and Area.objects.filter(level=Level.GRID).count() == 3


def test_two_leaders_for_one_grid_are_refused_on_the_later_row(tree: Any, tmp_path: Path) -> None:
    rows = [hh(1), hh(2, leader_name="王五", leader_phone="13700000000"), hh(3, leader_name="", leader_phone="")]
    result = registry_import(path=write_xlsx(tmp_path / "a.xlsx", rows), city=tree.city)
    assert [(p.row, p.code, p.column) for p in result.errors] == [(3, "leader_conflict", "微网格长姓名(E)")]
    assert "张建国" in result.errors[0].zh and "row 2" in result.errors[0].en


def test_a_failure_while_writing_leaves_nothing_behind(tree: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from wangge.registry.importing.services import write as importing

    def broken() -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "registry_recount", broken)
    rows = [hh(1), hh(2, branch="新支部", grid=3, leader_name="赵六", leader_phone="13600000000")]
    with pytest.raises(RuntimeError):
        registry_import(path=write_xlsx(tmp_path / "a.xlsx", rows), city=tree.city)
    assert Household.objects.count() == 0
    assert not Area.objects.filter(name="新支部").exists()
    assert not Person.objects.filter(name="赵六").exists()
    assert Area.objects.get(pk=tree.grid.pk).leader_id is None


def test_duplicate_household_within_the_file_names_the_first_row(tree: Any, tmp_path: Path) -> None:
    result = registry_import(
        path=write_xlsx(tmp_path / "a.xlsx", [hh(1), hh(2), hh(1, address="别处")]), city=tree.city
    )
    assert codes(result) == [(4, "duplicate")]
    assert "第 2 行" in result.errors[0].zh and "row 2" in result.errors[0].en
    assert result.errors[0].column == "户主身份证号(I)"


def test_the_31st_household_is_refused_counting_existing_ones(tree: Any, tmp_path: Path) -> None:
    for _ in range(25):
        make_household(grid=tree.grid)
    rows = [hh(n) for n in range(1, 8)]  # 25 + 7 = 32: rows 7 and 8 are beyond the 30th
    result = registry_import(path=write_xlsx(tmp_path / "a.xlsx", rows), city=tree.city)
    assert codes(result) == [(7, "grid_full"), (8, "grid_full")]
    assert all(p.column == "微网格编号(D)" for p in result.errors)
    assert "30" in result.errors[0].zh and "30" in result.errors[0].en
    assert Household.objects.count() == 25
    # Keeping the good rows fills the grid to exactly 30.
    kept = registry_import(path=write_xlsx(tmp_path / "a.xlsx", rows), city=tree.city, keep_good=True)
    assert kept.written and kept.created == 5 and len(kept.errors) == 2
    assert Area.objects.get(pk=tree.grid.pk).household_count == 30
    counts_right()


def test_a_move_out_makes_room_for_a_new_household(tree: Any, tmp_path: Path) -> None:
    registry_import(path=write_xlsx(tmp_path / "a.xlsx", [hh(n) for n in range(1, 31)]), city=tree.city)
    rows = [hh(1, grid=2)] + [hh(n) for n in range(2, 31)] + [hh(31)]
    result = registry_import(path=write_xlsx(tmp_path / "b.xlsx", rows), city=tree.city)
    assert result.errors == [] and (result.created, result.updated) == (1, 1)
    assert Area.objects.get(pk=tree.grid.pk).household_count == 30
    counts_right()


def test_nothing_is_written_on_error_and_keep_good_writes_the_rest(tree: Any, tmp_path: Path) -> None:
    rows = [hh(1), hh(2, phone="12"), hh(3, branch="新支部", grid=5), hh(4, village="无此村")]
    path = write_xlsx(tmp_path / "a.xlsx", rows)
    refused = registry_import(path=path, city=tree.city)
    assert codes(refused) == [(3, "bad_phone"), (5, "unknown_village")]
    assert not refused.written
    assert Household.objects.count() == 0 and not Area.objects.filter(name="新支部").exists()
    assert not Person.objects.filter(name="张建国").exists()
    kept = registry_import(path=path, city=tree.city, keep_good=True)
    assert kept.written and kept.created == 2 and codes(kept) == codes(refused)
    assert set(Household.objects.values_list("head_name", flat=True)) == {"户主1", "户主3"}
    counts_right()


def test_twenty_planted_errors_of_mixed_kinds_are_exactly_the_twenty_reported(tree: Any, tmp_path: Path) -> None:
    rows = [hh(n, grid=1 + n % 2) for n in range(1, 41)]
    planted = {
        3: {"village": "无此村"},
        5: {"town": "无此镇"},
        7: {"head_id": 4.30181198001011e17},
        9: {"phone": "1380013"},
        11: {"members": "-2"},
        13: {"tags": "贫困户"},
        15: {"head_id": "430181198001010000"},
        17: {"head_name": ""},
        19: {"address": ""},
        21: {"leader_phone": "999"},
        23: {"grid": "x1"},
        25: {"members": 80},
        27: {"head_id": "4.30181E+17"},
        29: {"phone": "abc"},
        31: {"tags": "独居老人;外来人口"},
        33: {"village": "北正社区"},
        35: {"members": 2.5},
        37: {"head_id": 4.30181198001013e17},
        39: {"grid": 0},
    }
    for i, over in planted.items():
        rows[i].update(over)
    rows.append(dict(rows[0]))  # a duplicate of the first household: the 20th error
    result = registry_import(path=write_xlsx(tmp_path / "a.xlsx", rows), city=tree.city)
    expected_rows = sorted([i + 2 for i in planted] + [len(rows) + 1])
    assert len(result.errors) == 20
    assert [p.row for p in result.errors] == expected_rows
    assert all(p.sheet == "户籍" and p.column and p.zh and p.en for p in result.errors)
    assert Household.objects.count() == 0


def test_rows_on_several_sheets_are_named_by_their_sheet(tree: Any, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    for title, rows in (("集里一", [hh(1), hh(2, phone="1")]), ("集里二", [hh(3, members="x")])):
        ws = wb.create_sheet(title)
        ws.append(HEADERS)
        for r in rows:
            ws.append([r[k] for k in KEYS])
    del wb["Sheet"]
    path = tmp_path / "s.xlsx"
    wb.save(path)
    result = registry_import(path=path, city=tree.city)
    assert [(p.sheet, p.row, p.code) for p in result.errors] == [
        ("集里一", 3, "bad_phone"),
        ("集里二", 2, "bad_members"),
    ]


# --- the template and the command --------------------------------------------------------------


def test_template_downloads_and_reimports_cleanly_after_filling(tree: Any, tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    path.write_bytes(template_workbook())
    wb = openpyxl.load_workbook(path)
    ws = wb["户籍登记"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws["I2"].number_format == "@"
    assert "填写说明" in wb.sheetnames
    for n in range(1, 4):
        r = hh(n)
        for c, key in enumerate(KEYS, start=1):
            ws.cell(row=n + 1, column=c, value=r[key])
    wb.save(path)
    result = registry_import(path=path, city=tree.city)
    assert result.errors == [] and result.created == 3


def test_command_imports_and_refuses_with_errors_named(tree: Any, tmp_path: Path, capsys: Any) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", [hh(1), hh(2)])
    call_command("import_registry", str(good), "--city", tree.city.code)
    out = capsys.readouterr()
    assert "created 2" in out.out and "#" in out.err
    bad = write_xlsx(tmp_path / "bad.xlsx", [hh(3), hh(4, phone="1")])
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_registry", str(bad), "--no-progress")
    out = capsys.readouterr()
    assert "第 3 行" in out.out and "row 3" in out.out
    call_command("import_registry", str(bad), "--keep-good", "--no-progress")
    assert Household.objects.count() == 3


def test_a_second_city_of_the_same_names_is_kept_apart(tree: Any, tmp_path: Path) -> None:
    city2 = area_create(level=Level.CITY, code="430182", name="醴陵市")
    town2 = area_create(level=Level.TOWN, code="430182100", name="集里街道", parent=city2)
    area_create(level=Level.VILLAGE, code="430182100201", name="金沙社区", parent=town2)
    registry_import(path=write_xlsx(tmp_path / "a.xlsx", [hh(1)]), city=tree.city)
    result = registry_import(path=write_xlsx(tmp_path / "b.xlsx", [hh(1), hh(2)]), city=city2)
    # Household 1 is the same person (same ID) already registered in the first city.
    assert codes(result) == [(2, "elsewhere")]
    assert Household.objects.filter(area_path__startswith=city2.path).count() == 0


# --- the upload page, end to end ---------------------------------------------------------------


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def _upload(client: Any, tree: Any, path: Path, **extra: Any) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    data = {"city": tree.city.pk, "file": SimpleUploadedFile(path.name, path.read_bytes())} | extra
    return client.post(reverse("registry:import"), data)


def test_upload_page_queues_the_import_the_worker_runs_it_and_every_error_shows(
    personas: Any, tree: Any, media: Path, client: Any
) -> None:
    from django.urls import reverse

    from wangge.accounts.models import Role
    from wangge.registry.importing import import_jobs_run
    from wangge.registry.models import ImportJob

    admin = personas[Role.CITY_ADMIN]
    client.force_login(admin)
    page = client.get(reverse("registry:import"))
    assert page.status_code == 200 and reverse("registry:import_template") in page.content.decode()
    bad = write_xlsx(media / "bad.xlsx", [hh(1), hh(2, phone="12"), hh(3, village="无此村")])
    resp = _upload(client, tree, bad)
    job = ImportJob.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("registry:import_job", args=[job.pk])
    # The request only queued it: the page says so and keeps polling until the worker takes it.
    assert job.status == ImportJob.Status.QUEUED and job.started_at is None
    waiting = client.get(resp["Location"]).content.decode()
    assert 'data-testid="import-queued"' in waiting and 'hx-trigger="every 1s"' in waiting
    assert "run_worker" in waiting
    assert import_jobs_run() == {
        "requeued": 0,
        "failed": 0,
        "purged": 0,
        "ran": job.pk,
        "status": ImportJob.Status.REFUSED,
    }
    job.refresh_from_db()
    assert job.status == ImportJob.Status.REFUSED and job.error_count == 2 and job.created_by == admin
    assert job.file.name.startswith("imports/") and (media / "media" / job.file.name).exists()
    body = client.get(resp["Location"]).content.decode()
    assert 'data-testid="import-errors"' in body and "hx-trigger" not in body
    for text in (
        "<td>3</td>",
        "联系电话(J)",
        "电话号码格式不正确",
        "is not valid",
        "unknown village",
        "村(社区)(B)",
    ):
        assert text in body
    assert Household.objects.count() == 0

    resp = _upload(client, tree, bad, keep_good="on")
    assert import_jobs_run()["ran"] == ImportJob.objects.order_by("-id").values_list("id", flat=True).first()
    assert import_jobs_run() == {"requeued": 0, "failed": 0, "purged": 0, "ran": None}  # nothing left queued
    job = ImportJob.objects.order_by("-id").first()
    assert job is not None and job.status == ImportJob.Status.DONE and job.created_count == 1 and job.error_count == 2
    assert Household.objects.count() == 1
    listing = client.get(reverse("registry:import")).content.decode()
    assert "bad.xlsx" in listing


def test_a_running_job_polls_every_second_with_a_progress_bar(
    personas: Any, tree: Any, media: Path, client: Any
) -> None:
    from django.urls import reverse

    from wangge.accounts.models import Role
    from wangge.registry.importing.testing import make_import_job
    from wangge.registry.models import ImportJob

    job = make_import_job(
        city=tree.city,
        status=ImportJob.Status.RUNNING,
        stage="validate",
        progress_done=40,
        progress_total=100,
        errors=[],
        error_count=0,
    )
    client.force_login(personas[Role.CITY_ADMIN])
    fragment = client.get(reverse("registry:import_job", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and '<progress value="40" max="100"' in fragment
    assert "<html" not in fragment


def test_only_city_administrators_may_import(personas: Any, tree: Any, media: Path, client: Any) -> None:
    from django.urls import reverse

    from wangge.accounts.models import Role
    from wangge.registry.importing.testing import make_import_job

    job = make_import_job(city=tree.city)
    path = write_xlsx(media / "a.xlsx", [hh(1)])
    for role in (Role.GRID_LEADER, Role.BRANCH, Role.VILLAGE, Role.TOWN, Role.DEPARTMENT, Role.AUDITOR):
        client.force_login(personas[role])
        assert client.get(reverse("registry:import")).status_code == 403, role
        assert client.get(reverse("registry:import_template")).status_code == 403, role
        assert client.get(reverse("registry:import_job", args=[job.pk])).status_code == 403, role
        assert _upload(client, tree, path).status_code == 403, role
    assert Household.objects.count() == 0
    client.force_login(personas[Role.CITY_ADMIN])
    resp = client.get(reverse("registry:import_template"))
    assert resp.status_code == 200 and resp.content[:2] == b"PK"
    nav = client.get(reverse("core:home")).content.decode()
    assert reverse("registry:import") in nav


def test_a_city_administrator_sees_only_the_jobs_of_their_city(
    personas: Any, tree: Any, media: Path, client: Any
) -> None:
    from django.urls import reverse

    from wangge.accounts.models import Role
    from wangge.registry.importing.testing import make_import_job
    from wangge.registry.testing import make_user

    city2 = area_create(level=Level.CITY, code="430182", name="醴陵市")
    mine = make_import_job(city=tree.city, original_name="本市文件.xlsx")
    theirs = make_import_job(city=city2, original_name="外市文件.xlsx")
    client.force_login(personas[Role.CITY_ADMIN])
    listing = client.get(reverse("registry:import")).content.decode()
    assert "本市文件" in listing and "外市文件" not in listing
    assert client.get(reverse("registry:import_job", args=[mine.pk])).status_code == 200
    assert client.get(reverse("registry:import_job", args=[theirs.pk])).status_code == 404
    # Nor may they upload into the other city.
    resp = _upload(client, tree, write_xlsx(media / "a.xlsx", [hh(1)]), city=city2.pk)
    assert resp.status_code == 400 and Household.objects.count() == 0
    other_admin = make_user(role=Role.CITY_ADMIN, areas=[city2])
    client.force_login(other_admin)
    assert client.get(reverse("registry:import_job", args=[mine.pk])).status_code == 404


def test_an_oversized_file_is_refused(personas: Any, tree: Any, media: Path, client: Any, settings: Any) -> None:
    from wangge.accounts.models import Role
    from wangge.registry.models import ImportJob

    settings.IMPORT_MAX_BYTES = 1000
    client.force_login(personas[Role.CITY_ADMIN])
    resp = _upload(client, tree, write_xlsx(media / "a.xlsx", [hh(n) for n in range(1, 30)]))
    assert resp.status_code == 400 and ImportJob.objects.count() == 0

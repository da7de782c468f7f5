"""Bulk import of households from the spreadsheets counties keep: validate every row, then write.

The one bulk path that may bypass `household_create`; it keeps the same rules in bulk:

- the cleaning of `registry.services` (`clean_phone`, `clean_id_number`, `household_key`);
- a micro-grid holds at most GRID_HARD_MAX households, counting the households already there,
  those the file moves away or in, and the file's new rows (every row beyond the limit is named);
- a household is identified by `household_key`, so re-importing a file changes nothing and a
  changed row updates (or moves) its household instead of adding a second one;
- nothing is written while any row is bad, unless the caller keeps the good rows; all writes
  happen in one transaction, and the counts are recomputed once by `registry_recount()`.

Validation runs outside the write transaction, because SQLite's IMMEDIATE transactions take the
database's single write lock at BEGIN and a city-sized file takes seconds to check. The write
transaction then compares a fingerprint of the city's areas and households with the one the
plan was made from, and plans again if anyone wrote in between.

Speed: the file is read once; areas, people and existing households are each loaded with one
query into dicts; rows are inserted with the driver's `executemany` (COPY on PostgreSQL), because
Django's `bulk_create` on SQLite is capped at 999 parameters per statement and runs eight times
slower than the database can take rows (measured in bench/bench_import.py).
"""

from __future__ import annotations

import queue
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q, Sum

from wangge.core import clock
from wangge.core.errors import FieldProblem, ValidationFailed
from wangge.core.masking import encrypt, lookup_hash
from wangge.registry.importing.columns import BY_KEY, REQUIRED, column_letter, match_header
from wangge.registry.importing.reader import Sheet, read_sheets
from wangge.registry.models import CARE_TAG_WORDS, LEVEL_DEPTH, Area, CareTag, Household, Level, Person, tags_to_column
from wangge.registry.services import (
    clean_id_number,
    clean_phone,
    grid_set_leader,
    household_key,
    registry_recount,
)

ProgressFn = Callable[[str, int, int], None]

HEADER_SCAN_ROWS = 10  # a title row or two above the header is common
PROGRESS_EVERY = 5000
WRITE_BATCH = 5000
TAG_SPLIT = re.compile(r"[、,，;；\s/]+")
NO_TAG = {"无", "-", "—", "／", "/", "否"}
TAG_CODES = {str(c) for c in CareTag.values}
GRID_SUFFIX = re.compile(r"(号?微?网格|号)$")


@dataclass
class ImportResult:
    """What an import did (or would have done): counts of households and every problem found."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[FieldProblem] = field(default_factory=list)
    error_rows: int = 0
    written: bool = False
    branches_created: int = 0
    grids_created: int = 0
    leaders_set: int = 0

    @property
    def refused(self) -> bool:
        return bool(self.errors) and not self.written

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": len(self.errors),
            "error_rows": self.error_rows,
            "written": self.written,
            "branches_created": self.branches_created,
            "grids_created": self.grids_created,
            "leaders_set": self.leaders_set,
        }


def problem_dict(p: FieldProblem) -> dict[str, Any]:
    """The JSON form kept on an ImportJob (FieldProblem.as_dict plus nothing it lacks)."""
    return p.as_dict()


# --- the area tree of one city, in dicts ------------------------------------------------


class _Branch:
    __slots__ = ("code", "id", "name", "number", "path", "village")

    def __init__(self, id: int | None, code: str, path: str, name: str, village: _Village, number: int | None):
        self.id, self.code, self.path, self.name, self.village, self.number = id, code, path, name, village, number


class _Village:
    __slots__ = ("branch_numbers", "code", "id", "name", "path")

    def __init__(self, id: int, code: str, path: str, name: str):
        self.id, self.code, self.path, self.name = id, code, path, name
        self.branch_numbers: set[int] = set()


class _Grid:
    __slots__ = ("branch", "code", "id", "leader", "leader_id", "leader_raw", "leader_row", "name", "number", "path")

    def __init__(self, id: int | None, code: str, path: str, name: str, branch: _Branch, number: int | None):
        self.id, self.code, self.path, self.name, self.branch, self.number = id, code, path, name, branch, number
        self.leader_id: int | None = None
        self.leader: tuple[str, str] | None = None  # cleaned (name, phone) from the first row naming one
        self.leader_raw: tuple[object, object] | None = None
        self.leader_row: tuple[str, int] | None = None


class _Tree:
    """Every area of one city, loaded with one query; new branches and grids are added in memory."""

    def __init__(self, city: Area) -> None:
        self.city = city
        self.towns: dict[str, tuple[int, str]] = {}
        self.villages: dict[tuple[int, str], _Village] = {}
        self.branches: dict[tuple[int, str], _Branch] = {}
        self.grids: dict[tuple[int, int], _Grid] = {}  # (id(branch), number)
        self.grids_by_code: dict[str, _Grid] = {}
        self.grids_by_id: dict[int, _Grid] = {}
        self.codes: set[str] = set()
        self.names: dict[int, set[str]] = defaultdict(set)  # id(parent object) → names used below it
        self.new_branches: list[_Branch] = []
        self.new_grids: list[_Grid] = []
        rows = list(
            Area.objects.filter(path__startswith=city.path)
            .order_by("depth")
            .values_list("id", "level", "code", "name", "parent_id", "path", "number", "leader_id")
        )
        villages_by_id: dict[int, _Village] = {}
        branches_by_id: dict[int, _Branch] = {}
        for aid, level, code, name, parent_id, path, number, leader_id in rows:
            self.codes.add(code)
            if level == Level.TOWN:
                self.towns[name] = (aid, code)
            elif level == Level.VILLAGE:
                village = _Village(aid, code, path, name)
                villages_by_id[aid] = village
                self.villages[(parent_id, name)] = village
            elif level == Level.BRANCH and parent_id in villages_by_id:
                village = villages_by_id[parent_id]
                suffix = code[len(village.code) :]
                if code.startswith(village.code) and len(suffix) == 2 and suffix.isdigit():
                    village.branch_numbers.add(int(suffix))
                branch = _Branch(aid, code, path, name, village, number)
                branches_by_id[aid] = branch
                self.branches[(village.id, name)] = branch
            elif level == Level.GRID and parent_id in branches_by_id:
                branch = branches_by_id[parent_id]
                grid = _Grid(aid, code, path, name, branch, number)
                grid.leader_id = leader_id
                self.names[id(branch)].add(name)
                if number is not None:
                    self.grids.setdefault((id(branch), number), grid)
                self.grids_by_code[code] = grid
                self.grids_by_id[aid] = grid

    def branch_for(self, village: _Village, name: str) -> _Branch:
        branch = self.branches.get((village.id, name))
        if branch is not None:
            return branch
        # A new branch takes the next free two-digit number inside its village.
        number = next((n for n in range(1, 100) if n not in village.branch_numbers), None)
        code = f"{village.code}{number:02d}" if number else ""
        if number is None or code in self.codes:
            raise ValidationFailed(
                f"村(社区)「{village.name}」的党支部编号已用完，无法新建「{name}」",
                f"village '{village.name}' has no free branch number left for '{name}'",
                field="branch",
                code="branch_numbers_full",
            )
        village.branch_numbers.add(number)
        self.codes.add(code)
        branch = _Branch(None, code, village.path + code + "/", name, village, number)
        self.branches[(village.id, name)] = branch
        self.new_branches.append(branch)
        return branch

    def grid_for(self, branch: _Branch, raw: object) -> _Grid:
        number, code = _grid_number(raw)
        if code:
            grid = self.grids_by_code.get(code)
            if grid is None:
                raise ValidationFailed(
                    f"系统中没有编码为 {code} 的微网格", f"no micro-grid has the code {code}", code="unknown_grid"
                )
            if grid.branch is not branch:
                raise ValidationFailed(
                    f"微网格 {code} 不属于党支部「{branch.name}」",
                    f"micro-grid {code} does not belong to branch '{branch.name}'",
                    code="grid_elsewhere",
                )
            return grid
        assert number is not None
        grid = self.grids.get((id(branch), number))
        if grid is not None:
            return grid
        code = f"{branch.code}{number:03d}"
        if code in self.codes:
            raise ValidationFailed(
                f"网格编码 {code} 已被占用", f"the grid code {code} is already taken", code="grid_code_taken"
            )
        name = f"{branch.name}{number}号微网格"
        if name in self.names[id(branch)]:
            name = f"{name}({code})"
        self.codes.add(code)
        self.names[id(branch)].add(name)
        grid = _Grid(None, code, branch.path + code + "/", name, branch, number)
        self.grids[(id(branch), number)] = grid
        self.grids_by_code[code] = grid
        self.new_grids.append(grid)
        return grid


def _grid_number(raw: object) -> tuple[int | None, str]:
    """A grid number inside its branch (1-999), or a full grid code: (number, '') or (None, code)."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).strip()
    text = GRID_SUFFIX.sub("", text.removeprefix("第"))
    if text.isdigit() and text.isascii():
        if len(text) <= 3 and 1 <= int(text) <= 999:
            return int(text), ""
        if len(text) > 3:
            return None, text
    raise ValidationFailed(
        f"微网格编号应为 1 到 999 的整数或完整网格编码：{text}",
        f"the micro-grid number must be a whole number from 1 to 999 or a full grid code: {text}",
        code="bad_grid_number",
    )


# --- cleaning of single cells -----------------------------------------------------------


def _text(value: object) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _members(value: object) -> int:
    if value == "" or value is None:
        return 1
    n: int | None = None
    if isinstance(value, bool):
        n = None
    elif isinstance(value, int):
        n = value
    elif isinstance(value, float):
        n = int(value) if value.is_integer() else None
    else:
        text = str(value).strip().removesuffix("人").removesuffix("口")
        if text.isdigit() and text.isascii():
            n = int(text)
        else:
            try:
                f = float(text)
                n = int(f) if f.is_integer() else None
            except ValueError:
                n = None
    if n is None or not 1 <= n <= 50:
        raise ValidationFailed(
            f"家庭人口应为 1 到 50 之间的整数：{value}",
            f"members must be a whole number from 1 to 50: {value}",
            code="bad_members",
        )
    return n


def _tags(value: object) -> str:
    text = _text(value)
    if not text or text in NO_TAG:
        return ""
    tags = []
    for word in TAG_SPLIT.split(text):
        if not word or word in NO_TAG:
            continue
        tag = CARE_TAG_WORDS.get(word) or (word if word in TAG_CODES else None)
        if tag is None:
            allowed = "、".join(CARE_TAG_WORDS)
            raise ValidationFailed(
                f"未知的关爱标签「{word}」，可用：{allowed}",
                f"unknown care tag '{word}'; allowed: {', '.join(CARE_TAG_WORDS)}",
                code="unknown_tag",
            )
        tags.append(tag)
    return tags_to_column(tags)


def _id_number(value: object) -> str:
    # A number cell cannot hold 18 digits: Excel keeps 15 significant ones, so the ID is lost.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = float(value)
    return clean_id_number(value, field="head_id_number")


# --- the plan: every row checked, then sorted into create / update / unchanged ------------


# A checked row: (sheet index, excel row, grid, address, head, id text, id hash, phone, members, tags, key)
_Row = tuple[int, int, _Grid, str, str, str, str, str, int, str, str]


@dataclass
class _Plan:
    tree: _Tree
    rows: int = 0
    problems: list[tuple[int, int, int, FieldProblem]] = field(default_factory=list)  # sortable
    bad: set[tuple[int, int]] = field(default_factory=set)
    create: list[_Row] = field(default_factory=list)
    # row, household id, whether the ID changed, the key to store
    update: list[tuple[_Row, int, bool, str]] = field(default_factory=list)
    unchanged: int = 0
    fingerprint: tuple[Any, ...] = ()


class _Problems:
    """Collects problems with their place in the file (sheet, Excel row, column letter and header)."""

    def __init__(self, plan: _Plan, sheets: Sequence[Sheet]) -> None:
        self.plan = plan
        self.sheets = sheets
        self.headers: dict[int, dict[str, tuple[int, str]]] = {}

    def column(self, sheet: int, key: str) -> tuple[int, str]:
        index, header = self.headers[sheet].get(key, (-1, BY_KEY[key].header))
        return index, (f"{header}({column_letter(index)})" if index >= 0 else header)

    def add(self, sheet: int, row: int, key: str | None, error: ValidationFailed) -> None:
        index, col = self.column(sheet, key) if key else (-1, None)
        problem = FieldProblem(
            code=error.code, zh=error.zh, en=error.en, field=key, sheet=self.sheets[sheet].name, row=row, column=col
        )
        self.plan.problems.append((sheet, row, index, problem))
        self.plan.bad.add((sheet, row))


def _fingerprint(city: Area) -> tuple[Any, ...]:
    """Changes whenever anyone adds, removes or edits an area or household of the city."""
    # Sum of grid ids moves when a household moves (household_move updates without a timestamp).
    h = Household.objects.filter(area_path__startswith=city.path).aggregate(
        n=Count("id"), m=Max("id"), u=Max("updated_at"), g=Sum("grid_id")
    )
    a = Area.objects.filter(path__startswith=city.path).aggregate(n=Count("id"), m=Max("id"), u=Max("updated_at"))
    return (h["n"], h["m"], h["u"], h["g"], a["n"], a["m"], a["u"])


def _find_header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    for i, cells in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        found = match_header(cells)
        if len(found) >= 3:
            return i, found
    return None


def _plan(*, sheets: Sequence[Sheet], city: Area, progress: ProgressFn | None) -> _Plan:
    total = sum(len(s.rows) for s in sheets)
    if progress:
        progress("validate", 0, total)
    plan = _Plan(tree=_Tree(city))
    plan.fingerprint = _fingerprint(city)
    tree = plan.tree
    problems = _Problems(plan, sheets)
    found_any = False
    done = 0
    checked: list[_Row] = []
    seen: dict[str, tuple[int, int]] = {}
    areas: dict[tuple[object, object, object, object], _Grid | tuple[str, ValidationFailed]] = {}

    for s, sheet in enumerate(sheets):
        header = _find_header(sheet)
        if header is None:
            done += len(sheet.rows)
            continue
        found_any = True
        header_index, cols = header
        problems.headers[s] = {k: (i, _text(sheet.rows[header_index][i]) or BY_KEY[k].header) for k, i in cols.items()}
        missing = [k for k in REQUIRED if k not in cols]
        if missing:
            for key in missing:
                col = BY_KEY[key]
                problems.add(
                    s,
                    header_index + 1,
                    key,
                    ValidationFailed(
                        f"缺少必填列「{col.header}」",
                        f"the required column '{col.header}' ({col.en}) is missing",
                        code="missing_column",
                    ),
                )
            done += len(sheet.rows)
            continue
        # Missing optional columns read as -1, which (after the sentinel "" appended to each row)
        # is an empty cell: the hot loop needs no per-cell bounds checks.
        ix = {k: cols.get(k, -1) for k in BY_KEY}
        i_town, i_village, i_branch, i_grid = ix["town"], ix["village"], ix["branch"], ix["grid"]
        i_lname, i_lphone, i_addr, i_head = ix["leader_name"], ix["leader_phone"], ix["address"], ix["head_name"]
        i_id, i_phone, i_members, i_tags = ix["head_id"], ix["phone"], ix["members"], ix["tags"]
        width = max(cols.values()) + 1
        rows = sheet.rows
        for r in range(header_index + 1, len(rows)):
            cells = rows[r]
            cells = [*cells, *[""] * (width - len(cells))] if len(cells) < width else list(cells)
            cells.append("")
            excel_row = r + 1
            done += 1
            if progress and done % PROGRESS_EVERY == 0:
                progress("validate", done, total)
            if not any(cells) and all(c == "" or c is None for c in cells):
                continue  # blank rows between blocks are common and mean nothing
            plan.rows += 1
            bad = False

            # Areas: the same four cells repeat on every row of a grid, so resolve them once.
            area_cells = (cells[i_town], cells[i_village], cells[i_branch], cells[i_grid])
            resolved = areas.get(area_cells)
            if resolved is None:
                resolved = _resolve(tree, area_cells)
                areas[area_cells] = resolved
            grid: _Grid | None = None
            if isinstance(resolved, tuple):
                problems.add(s, excel_row, resolved[0], resolved[1])
                bad = True
            else:
                grid = resolved

            address = _text(cells[i_addr])
            head = _text(cells[i_head])
            if not address:
                problems.add(
                    s, excel_row, "address", ValidationFailed("户地址不能为空", "the address is empty", code="required")
                )
                bad = True
            if not head:
                problems.add(
                    s,
                    excel_row,
                    "head_name",
                    ValidationFailed("户主姓名不能为空", "the head's name is empty", code="required"),
                )
                bad = True
            id_text = id_hash = ""
            raw_id = cells[i_id]
            if raw_id != "" and raw_id is not None:
                try:
                    id_text = _id_number(raw_id)
                    id_hash = lookup_hash(id_text)
                except ValidationFailed as e:
                    problems.add(s, excel_row, "head_id", e)
                    bad = True
            try:
                phone = clean_phone(cells[i_phone])
            except ValidationFailed as e:
                problems.add(s, excel_row, "phone", e)
                phone = ""
                bad = True
            try:
                members = _members(cells[i_members])
            except ValidationFailed as e:
                problems.add(s, excel_row, "members", e)
                members = 1
                bad = True
            try:
                tags = _tags(cells[i_tags])
            except ValidationFailed as e:
                problems.add(s, excel_row, "tags", e)
                tags = ""
                bad = True

            if grid is not None:
                raw_leader = (cells[i_lname], cells[i_lphone])
                # Only a row whose leader cells differ from the grid's first one needs checking.
                if (grid.leader_raw is None or grid.leader_raw != raw_leader) and _leader(
                    problems, grid, raw_leader, s, excel_row
                ):
                    bad = True

            if address and head and (id_hash or raw_id in ("", None)):
                village_code = grid.branch.village.code if grid is not None else ""
                if grid is not None or id_hash:
                    key = household_key(village_code=village_code, address=address, head_name=head, id_hash=id_hash)
                    first = seen.get(key)
                    if first is not None:
                        dup_column = "head_id" if id_hash else "address"
                        fs, fr = first
                        where_zh = f"工作表「{sheets[fs].name}」第 {fr} 行" if fs != s else f"第 {fr} 行"
                        where_en = f"sheet '{sheets[fs].name}' row {fr}" if fs != s else f"row {fr}"
                        problems.add(
                            s,
                            excel_row,
                            dup_column,
                            ValidationFailed(
                                f"与{where_zh}是同一户（重复）",
                                f"the same household as {where_en} (duplicate)",
                                code="duplicate",
                            ),
                        )
                        bad = True
                    else:
                        seen[key] = (s, excel_row)
                    if not bad and grid is not None:
                        checked.append((s, excel_row, grid, address, head, id_text, id_hash, phone, members, tags, key))

    if not found_any:
        first_name = sheets[0].name if sheets else ""
        for key in REQUIRED:
            col = BY_KEY[key]
            problem = FieldProblem(
                code="missing_column",
                zh=f"缺少必填列「{col.header}」",
                en=f"the required column '{col.header}' ({col.en}) is missing",
                field=key,
                sheet=first_name,
                row=1,
                column=col.header,
            )
            plan.problems.append((0, 1, -1, problem))
    _classify(plan, checked, problems)
    plan.problems.sort(key=lambda p: (p[0], p[1], p[2]))
    if progress:
        progress("validate", total, total)
    return plan


def _resolve(tree: _Tree, cells: tuple[object, object, object, object]) -> _Grid | tuple[str, ValidationFailed]:
    town_name, village_name, branch_name = _text(cells[0]), _text(cells[1]), _text(cells[2])
    if not town_name:
        return "town", ValidationFailed("乡镇(街道)不能为空", "the town is empty", code="required")
    town = tree.towns.get(town_name)
    if town is None:
        return "town", ValidationFailed(
            f"系统中没有乡镇(街道)「{town_name}」", f"unknown town '{town_name}'", code="unknown_town"
        )
    if not village_name:
        return "village", ValidationFailed("村(社区)不能为空", "the village is empty", code="required")
    village = tree.villages.get((town[0], village_name))
    if village is None:
        return "village", ValidationFailed(
            f"乡镇(街道)「{town_name}」下没有村(社区)「{village_name}」",
            f"unknown village '{village_name}' in town '{town_name}'",
            code="unknown_village",
        )
    if not branch_name:
        return "branch", ValidationFailed("党支部(村民小组)不能为空", "the party branch is empty", code="required")
    try:
        branch = tree.branch_for(village, branch_name)
    except ValidationFailed as e:
        return "branch", e
    if cells[3] == "" or cells[3] is None:
        return "grid", ValidationFailed("微网格编号不能为空", "the micro-grid number is empty", code="required")
    try:
        return tree.grid_for(branch, cells[3])
    except ValidationFailed as e:
        return "grid", e


def _leader(problems: _Problems, grid: _Grid, raw: tuple[object, object], s: int, row: int) -> bool:
    """Record a grid's leader from its first row naming one; True when this row is bad."""
    name, raw_phone = _text(raw[0]), raw[1]
    try:
        phone = clean_phone(raw_phone)
    except ValidationFailed as e:
        problems.add(s, row, "leader_phone", e)
        return True
    if not name:
        if phone:
            problems.add(
                s,
                row,
                "leader_name",
                ValidationFailed(
                    "填写了网格长电话却没有姓名", "the grid leader's phone is given without a name", code="required"
                ),
            )
            return True
        return False  # this row says nothing about the leader
    if grid.leader is None:
        grid.leader, grid.leader_raw, grid.leader_row = (name, phone), raw, (problems.sheets[s].name, row)
        return False
    if grid.leader != (name, phone):
        _first_sheet, first_row = grid.leader_row or ("", 0)
        problems.add(
            s,
            row,
            "leader_name",
            ValidationFailed(
                f"同一微网格的网格长与第 {first_row} 行不一致（{grid.leader[0]}）",
                f"the grid leader differs from row {first_row} of the same micro-grid ({grid.leader[0]})",
                code="leader_conflict",
            ),
        )
        return True
    return False


def _existing(city: Area) -> tuple[dict[str, tuple[Any, ...]], dict[int, int]]:
    """Households of the city by key, and how many each grid holds now (one query)."""
    by_key: dict[str, tuple[Any, ...]] = {}
    per_grid: dict[int, int] = defaultdict(int)
    rows = Household.objects.filter(area_path__startswith=city.path).values_list(
        "key", "id", "grid_id", "address", "head_name", "phone", "members", "care_tags", "head_id_number_hash"
    )
    for row in rows.iterator(chunk_size=20000):
        by_key[row[0]] = row
        per_grid[row[2]] += 1
    return by_key, per_grid


def _elsewhere(city: Area, keys: Iterable[str]) -> set[str]:
    """Keys already used by households of other cities (checked only when other cities exist)."""
    others = Household.objects.exclude(area_path__startswith=city.path)
    if not others.exists():
        return set()
    keys = list(keys)
    taken: set[str] = set()
    for i in range(0, len(keys), 900):
        taken.update(others.filter(key__in=keys[i : i + 900]).values_list("key", flat=True))
    return taken


def _classify(plan: _Plan, checked: list[_Row], problems: _Problems) -> None:
    """Sort checked rows into create / update / unchanged and refuse rows beyond a grid's limit."""
    city = plan.tree.city
    existing, per_grid = _existing(city)
    limit = settings.GRID_HARD_MAX
    matched: dict[int, tuple[int, int]] = {}
    # action: (row, existing tuple or None)
    actions: list[tuple[_Row, tuple[Any, ...] | None]] = []
    new_keys = []
    any_by_address = any(k.startswith("ah:") for k in existing)
    by_address: dict[str, tuple[Any, ...]] | None = None
    keys: dict[tuple[int, int], str] = {}  # the key each matched row writes
    for row in checked:
        ex = existing.get(row[10])
        if ex is None and row[6] and any_by_address:
            # Imported once without the ID, now with it: the same household by village+address+head.
            ah = household_key(village_code=row[2].branch.village.code, address=row[3], head_name=row[4], id_hash="")
            ex = existing.get(ah)
            if ex is not None and ex[8] and ex[8] != row[6]:
                ex = None  # that household's head has another ID: a different family
        elif ex is None and not row[6] and existing:
            # Registered with the head's ID, now a file without it: find it by village+address+head
            # and keep its ID and key (the index is built only when a file lacks IDs).
            if by_address is None:
                by_address = _by_address(plan.tree, existing)
            ex = by_address.get(row[10])
            if ex is not None:
                keys[(row[0], row[1])] = ex[0]
        if ex is not None:
            first = matched.get(ex[1])
            if first is not None:
                problems.add(
                    row[0],
                    row[1],
                    "address",
                    ValidationFailed(
                        f"与第 {first[1]} 行指向系统中的同一户",
                        f"the same registered household as row {first[1]}",
                        code="duplicate",
                    ),
                )
                continue
            matched[ex[1]] = (row[0], row[1])
        else:
            new_keys.append(row[10])
        actions.append((row, ex))
    taken = _elsewhere(city, new_keys) if new_keys else set()

    # The 30-household limit: what stays, what leaves, then the file's arrivals in file order.
    refused: set[tuple[int, int]] = set()
    for _ in range(5):  # a refused move keeps its household at home, so settle in a few rounds
        leaving: dict[int, int] = defaultdict(int)
        arriving: dict[int, list[_Row]] = defaultdict(list)
        for row, ex in actions:
            if (row[0], row[1]) in refused or row[10] in taken:
                continue
            grid = row[2]
            if ex is None:
                arriving[id(grid)].append(row)
            elif ex[2] != grid.id:
                leaving[ex[2]] += 1
                arriving[id(grid)].append(row)
        newly: set[tuple[int, int]] = set()
        for rows in arriving.values():
            grid = rows[0][2]
            staying = (per_grid.get(grid.id, 0) - leaving.get(grid.id, 0)) if grid.id else 0
            room = limit - staying
            for n, row in enumerate(rows, start=1):
                if n > room and (row[0], row[1]) not in refused:
                    newly.add((row[0], row[1]))
        if not newly:
            break
        refused |= newly
    for row, ex in actions:
        grid = row[2]
        if row[10] in taken:
            problems.add(
                row[0],
                row[1],
                "head_id" if row[6] else "address",
                ValidationFailed(
                    "该户已在其他市登记", "this household is registered in another city", code="elsewhere"
                ),
            )
            continue
        if (row[0], row[1]) in refused:
            staying = per_grid.get(grid.id, 0) if grid.id else 0
            problems.add(
                row[0],
                row[1],
                "grid",
                ValidationFailed(
                    f"微网格「{grid.name}」最多 {limit} 户（现有 {staying} 户），本行超出上限",
                    f"micro-grid '{grid.name}' may hold at most {limit} households (it has {staying}); "
                    "this row is beyond the limit",
                    code="grid_full",
                ),
            )
            continue
        if ex is None:
            plan.create.append(row)
            continue
        old_key, _id, grid_id, address, head, phone, members, tags, id_hash = ex
        key = keys.get((row[0], row[1]), row[10])
        same = (
            grid_id == grid.id
            and address == row[3]
            and head == row[4]
            and phone == row[7]
            and members == row[8]
            and tags == row[9]
            and old_key == key
            and (id_hash == row[6] or not row[6])
        )
        if same:
            plan.unchanged += 1
        else:
            plan.update.append((row, ex[1], bool(row[6]) and id_hash != row[6], key))


def _by_address(tree: _Tree, existing: dict[str, tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    """Existing households by their village+address+head key, whatever key they are stored under."""
    out: dict[str, tuple[Any, ...]] = {}
    for ex in existing.values():
        grid = tree.grids_by_id.get(ex[2])
        if grid is not None:
            key = household_key(village_code=grid.branch.village.code, address=ex[3], head_name=ex[4], id_hash="")
            out.setdefault(key, ex)
    return out


# --- writing ------------------------------------------------------------------------------


def _columns(model: Any, names: Sequence[str]) -> list[str]:
    return [model._meta.get_field(n).column for n in names]


def _insert(model: Any, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows the fastest way the database takes them: COPY on PostgreSQL, else executemany."""
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in _columns(model, names))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(names))
            cursor.executemany(
                f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(rows) if not isinstance(rows, list) else rows
            )


def _insert_batches(model: Any, names: Sequence[str], batches: Iterator[list[tuple[Any, ...]]]) -> None:
    """Insert batches while the next one is being built (encrypted).

    On SQLite a second thread runs executemany on the same connection (Django opens it with
    check_same_thread=False) while this thread only builds rows and never touches the
    connection: sqlite3 releases the GIL inside each step, so the B-tree work and the Fernet
    encryption overlap on two cores. PostgreSQL's COPY already writes from a worker thread.
    """
    if connection.vendor == "postgresql":
        # One COPY for all batches: psycopg sends from its own thread while the rows are built.
        _insert(model, names, (row for batch in batches for row in batch))
        return
    if connection.vendor != "sqlite":
        for batch in batches:
            _insert(model, names, batch)
        return
    connection.ensure_connection()
    raw = connection.connection
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in _columns(model, names))
    sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['?'] * len(names))})"
    todo: queue.Queue[list[tuple[Any, ...]] | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def writer() -> None:
        while True:
            batch = todo.get()
            if batch is None:
                return
            if failed:
                continue  # drain, so the producer never blocks
            try:
                raw.executemany(sql, batch)
            except BaseException as exc:  # re-raised in the caller's thread below
                failed.append(exc)

    thread = threading.Thread(target=writer, name="import-writer", daemon=True)
    thread.start()
    try:
        for batch in batches:
            if failed:
                break
            todo.put(batch)
    finally:
        todo.put(None)
        thread.join()
    if failed:
        raise failed[0]


def _update(model: Any, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """UPDATE ... WHERE id = the last value of each row."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in _columns(model, names))
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE id = %s", rows)


def _ids_after(model: Any, last_id: int, key: str) -> dict[Any, int]:
    return {k: i for i, k in model.objects.filter(id__gt=last_id).values_list("id", key)}


def _max_id(model: Any) -> int:
    return model.objects.aggregate(m=Max("id"))["m"] or 0


def _write(plan: _Plan, progress: ProgressFn | None) -> tuple[int, int, int]:
    """Create areas, leaders and households of a checked plan; returns (branches, grids, leaders set)."""
    tree = plan.tree
    total = len(plan.create) + len(plan.update)
    if progress:
        progress("write", 0, total)
    now = clock.now()
    stamp = connection.ops.adapt_datetimefield_value(now) if connection.vendor != "postgresql" else now
    used = {id(r[2]) for r in plan.create} | {id(u[0][2]) for u in plan.update}
    grids = [g for g in tree.new_grids if id(g) in used]
    branches_used = {id(g.branch) for g in grids}
    branches = [b for b in tree.new_branches if id(b) in branches_used]

    # 1. Branches, then their ids (codes are unique).
    if branches:
        last = _max_id(Area)
        _insert(
            Area,
            [
                "level",
                "code",
                "name",
                "parent",
                "path",
                "depth",
                "number",
                "household_count",
                "created_at",
                "updated_at",
            ],
            [
                (
                    Level.BRANCH.value,
                    b.code,
                    b.name,
                    b.village.id,
                    b.path,
                    LEVEL_DEPTH[Level.BRANCH],
                    b.number,
                    0,
                    stamp,
                    stamp,
                )
                for b in branches
            ],
        )
        ids = _ids_after(Area, last, "code")
        for b in branches:
            b.id = ids[b.code]

    # 2. Leaders: people already known by name and phone are reused; the rest are created as
    # party members of the grid's branch.
    grids_with_leader = {id(r[2]): r[2] for r in plan.create} | {id(u[0][2]): u[0][2] for u in plan.update}
    # Grids whose rows are all unchanged may still get a new leader.
    for g in tree.grids_by_code.values():
        if g.leader is not None:
            grids_with_leader.setdefault(id(g), g)
    leader_grids = [
        g
        for g in grids_with_leader.values()
        if g.leader is not None and g.branch.id is not None and (g.id is not None or id(g) in used)
    ]
    people = _people(tree, leader_grids)
    wanted: dict[tuple[str, str, str], _Grid] = {}
    for g in leader_grids:
        assert g.leader is not None
        pkey = _person_key(g.leader, g.branch.path)
        if pkey not in people:
            wanted.setdefault(pkey, g)
    if wanted:
        last = _max_id(Person)
        _insert(
            Person,
            [
                "name",
                "phone",
                "id_number_enc",
                "id_number_hash",
                "is_party_member",
                "branch",
                "area_path",
                "created_at",
                "updated_at",
            ],
            [(k[0], k[1], "", "", True, g.branch.id, g.branch.path, stamp, stamp) for k, g in wanted.items()],
        )
        for pid, name, phone, path in Person.objects.filter(id__gt=last).values_list(
            "id", "name", "phone", "area_path"
        ):
            people.setdefault(_person_key((name, phone), path), pid)
    leaders = {id(g): people[_person_key(g.leader, g.branch.path)] for g in leader_grids if g.leader is not None}

    # 3. New grids carry their leader from the start; existing grids change leader through the service.
    if grids:
        last = _max_id(Area)
        _insert(
            Area,
            [
                "level",
                "code",
                "name",
                "parent",
                "path",
                "depth",
                "number",
                "leader",
                "household_count",
                "created_at",
                "updated_at",
            ],
            [
                (
                    Level.GRID.value,
                    g.code,
                    g.name,
                    g.branch.id,
                    g.path,
                    LEVEL_DEPTH[Level.GRID],
                    g.number,
                    leaders.get(id(g)),
                    0,
                    stamp,
                    stamp,
                )
                for g in grids
            ],
        )
        ids = _ids_after(Area, last, "code")
        for g in grids:
            g.id = ids[g.code]
            g.leader_id = leaders.get(id(g))
    leaders_set = sum(1 for g in grids if g.leader_id)
    for g in leader_grids:
        pid = leaders[id(g)]
        if g.id is not None and g.leader_id != pid:
            grid_set_leader(grid=Area(pk=g.id, level=Level.GRID), leader=Person(pk=pid))
            g.leader_id = pid
            leaders_set += 1

    # 4. Households: ID numbers are encrypted here, only for rows that are written.
    done = 0
    names = [
        "grid",
        "area_path",
        "key",
        "address",
        "head_name",
        "head_id_number_enc",
        "head_id_number_hash",
        "phone",
        "members",
        "care_tags",
        "created_at",
        "updated_at",
    ]

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        nonlocal done
        for i in range(0, len(plan.create), WRITE_BATCH):
            batch = plan.create[i : i + WRITE_BATCH]
            yield [
                (r[2].id, r[2].path, r[10], r[3], r[4], encrypt(r[5]), r[6], r[7], r[8], r[9], stamp, stamp)
                for r in batch
            ]
            done += len(batch)
            if progress:
                progress("write", done, total)

    _insert_batches(Household, names, batches())
    plain = ["grid", "area_path", "key", "address", "head_name", "phone", "members", "care_tags", "updated_at"]
    with_id = [*plain, "head_id_number_enc", "head_id_number_hash"]
    for i in range(0, len(plan.update), WRITE_BATCH):
        batch = plan.update[i : i + WRITE_BATCH]
        rows_plain, rows_id = [], []
        for r, hid, id_changed, key in batch:
            values = [r[2].id, r[2].path, key, r[3], r[4], r[7], r[8], r[9], stamp]
            if id_changed:
                rows_id.append((*values, encrypt(r[5]), r[6], hid))
            else:
                rows_plain.append((*values, hid))
        _update(Household, plain, rows_plain)
        _update(Household, with_id, rows_id)
        done += len(batch)
        if progress:
            progress("write", done, total)

    if progress:
        progress("count", 0, 1)
    registry_recount()
    if progress:
        progress("count", 1, 1)
    return len(branches), len(grids), leaders_set


def _person_key(leader: tuple[str, str], branch_path: str) -> tuple[str, str, str]:
    # With a phone, name + phone is one person city-wide; without one, only within a branch.
    name, phone = leader
    return (name, phone, "" if phone else branch_path)


def _people(tree: _Tree, grids: list[_Grid]) -> dict[tuple[str, str, str], int]:
    """Party members of the city and the current leaders of its grids, by name and phone (one query)."""
    leader_ids = [g.leader_id for g in grids if g.leader_id]
    q = Q(area_path__startswith=tree.city.path, is_party_member=True)
    rows = Person.objects.filter(q).values_list("id", "name", "phone", "area_path")
    people: dict[tuple[str, str, str], int] = {}
    current: dict[int, tuple[str, str, str]] = {}
    for pid, name, phone, path in rows.order_by("id"):
        people.setdefault(_person_key((name, phone), path), pid)
        current[pid] = (name, phone, path)
    # A current leader outside the city's people (created without a branch) still counts as known.
    missing = [i for i in set(leader_ids) if i not in current]
    for i in range(0, len(missing), 900):
        for pid, name, phone, path in Person.objects.filter(id__in=missing[i : i + 900]).values_list(
            "id", "name", "phone", "area_path"
        ):
            current[pid] = (name, phone, path)
    # Prefer a grid's current leader when it matches, so re-imports change nothing.
    for g in grids:
        if g.leader_id and g.leader_id in current and g.leader is not None:
            name, phone, _path = current[g.leader_id]
            if (name, phone) == g.leader:
                people[_person_key(g.leader, g.branch.path)] = g.leader_id
    return people


# --- the service ---------------------------------------------------------------------------


def registry_import(
    *,
    path: Path | str,
    city: Area,
    keep_good: bool = False,
    name: str | None = None,
    progress: ProgressFn | None = None,
) -> ImportResult:
    """Import households of one city from a spreadsheet: all rows valid or nothing written (unless keep_good).

    Towns and villages must exist under `city`; branches and grids are created on demand; a grid
    never exceeds GRID_HARD_MAX households; the same file imported twice changes nothing.
    """
    if city.level != Level.CITY:
        raise ValidationFailed("只能导入到市级区域", "an import belongs to a city", field="city")
    if progress:
        progress("read", 0, 1)
    sheets = read_sheets(path, name=name)
    if progress:
        progress("read", 1, 1)
    plan = _plan(sheets=sheets, city=city, progress=progress)
    result = _result(plan)
    if plan.problems and not keep_good:
        return result
    if not plan.create and not plan.update and not any(g.leader for g in plan.tree.grids_by_code.values()):
        return result
    if progress:
        # Said before the transaction opens, so that a page polling the job row sees it.
        progress("write", 0, len(plan.create) + len(plan.update))
    with transaction.atomic():
        # Imports of one city run one at a time (a row lock on PostgreSQL; SQLite has one writer).
        Area.objects.select_for_update().filter(pk=city.pk).first()
        if _fingerprint(city) != plan.fingerprint:
            plan = _plan(sheets=sheets, city=city, progress=progress)
            result = _result(plan)
            if plan.problems and not keep_good:
                return result
        branches, grids, leaders = _write(plan, progress)
    result.written = True
    result.branches_created, result.grids_created, result.leaders_set = branches, grids, leaders
    return result


def _result(plan: _Plan) -> ImportResult:
    return ImportResult(
        rows=plan.rows,
        created=len(plan.create),
        updated=len(plan.update),
        unchanged=plan.unchanged,
        errors=[p[3] for p in plan.problems],
        error_rows=len({(p[0], p[1]) for p in plan.problems}),
    )

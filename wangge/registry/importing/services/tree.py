"""The area tree of one city in plain objects, loaded with one query, and the four area cells of a row resolved
against it (new branches and grids are added in memory and written later by `write`)."""

from __future__ import annotations

import re
from collections import defaultdict

from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed
from wangge.registry.importing.services.cells import _text
from wangge.registry.models import Area, Level

GRID_SUFFIX = re.compile(r"(号?微?网格|号)$")


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
                _("village '%(village)s' has no free branch number left for '%(name)s'"),
                params={"village": village.name, "name": name},
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
                    _("no micro-grid has the code %(code)s"), params={"code": code}, code="unknown_grid"
                )
            if grid.branch is not branch:
                raise ValidationFailed(
                    _("micro-grid %(code)s does not belong to branch '%(name)s'"),
                    params={"code": code, "name": branch.name},
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
                _("the grid code %(code)s is already taken"), params={"code": code}, code="grid_code_taken"
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
        _("the micro-grid number must be a whole number from 1 to 999 or a full grid code: %(text)s"),
        params={"text": text},
        code="bad_grid_number",
    )


def _resolve(tree: _Tree, cells: tuple[object, object, object, object]) -> _Grid | tuple[str, ValidationFailed]:
    town_name, village_name, branch_name = _text(cells[0]), _text(cells[1]), _text(cells[2])
    if not town_name:
        return "town", ValidationFailed(_("the town is empty"), code="required")
    town = tree.towns.get(town_name)
    if town is None:
        return "town", ValidationFailed(
            _("unknown town '%(town_name)s'"), params={"town_name": town_name}, code="unknown_town"
        )
    if not village_name:
        return "village", ValidationFailed(_("the village is empty"), code="required")
    village = tree.villages.get((town[0], village_name))
    if village is None:
        return "village", ValidationFailed(
            _("unknown village '%(village_name)s' in town '%(town_name)s'"),
            params={"village_name": village_name, "town_name": town_name},
            code="unknown_village",
        )
    if not branch_name:
        return "branch", ValidationFailed(_("the party branch is empty"), code="required")
    try:
        branch = tree.branch_for(village, branch_name)
    except ValidationFailed as e:
        return "branch", e
    if cells[3] == "" or cells[3] is None:
        return "grid", ValidationFailed(_("the micro-grid number is empty"), code="required")
    try:
        return tree.grid_for(branch, cells[3])
    except ValidationFailed as e:
        return "grid", e

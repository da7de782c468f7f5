"""Writing a checked plan in one transaction, and `registry_import`, the service that reads, plans and writes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core.errors import FieldProblem, ValidationFailed
from wangge.core.masking import encrypt_many, mask_id_number, mask_phone
from wangge.registry.importing.reader import read_sheets
from wangge.registry.importing.services.bulk import _ids_after, _insert, _insert_batches, _max_id, _update
from wangge.registry.importing.services.plan import ProgressFn, _fingerprint, _Plan, _plan
from wangge.registry.importing.services.tree import _Grid, _Tree
from wangge.registry.models import LEVEL_DEPTH, Area, ChangeKind, Household, HouseholdChange, Level, Person
from wangge.registry.services import grid_set_leader, registry_recount

WRITE_BATCH = 5000


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


# --- writing ------------------------------------------------------------------------------


def _history(
    batch: Sequence[tuple[Any, ...]], grid_names: dict[int, str], actor: Any, stamp: Any
) -> list[HouseholdChange]:
    """A line of each updated household's history, as the register's own edits write them (masked)."""
    lines = []
    for r, hid, id_changed, _key, ex in batch:
        _k, _id, grid_id, address, head, phone, members, tags, _hash, version = ex
        fields = [
            {"field": name, "old": old, "new": new}
            for name, old, new in (
                ("grid", grid_names.get(grid_id, ""), r[2].name),
                ("address", address, r[3]),
                ("head_name", head, r[4]),
                ("phone", mask_phone(phone), mask_phone(r[7])),
                ("members", members, r[8]),
                ("care_tags", [t for t in tags.split(",") if t], [t for t in r[9].split(",") if t]),
            )
            if old != new
        ]
        if id_changed:
            fields.append({"field": "head_id_number", "old": "", "new": mask_id_number(r[5])})
        lines.append(
            HouseholdChange(
                household_id=hid,
                area_path=r[2].path,
                kind=ChangeKind.IMPORT,
                fields=fields,
                version=version + 1,
                changed_by=actor if getattr(actor, "pk", None) else None,
                changed_at=stamp,
            )
        )
    return lines


def _write(plan: _Plan, progress: ProgressFn | None, actor: Any = None) -> tuple[int, int, int]:
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
    # New areas are inserted with the households they will hold (every row that goes into a new grid is
    # written below), so that registry_recount has only the existing areas above them left to change:
    # 33,600 fewer rows to update for a city's first import. The recount still checks every count.
    arriving = Counter(id(r[2]) for r in plan.create)
    arriving.update(id(u[0][2]) for u in plan.update)
    grid_counts = {id(g): arriving[id(g)] for g in grids}
    branch_counts: Counter[int] = Counter()
    for g in grids:
        branch_counts[id(g.branch)] += grid_counts[id(g)]

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
                    branch_counts[id(b)],
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
                    grid_counts[id(g)],
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
            tokens = encrypt_many([r[5] for r in batch])
            yield [
                (r[2].id, r[2].path, r[10], r[3], r[4], token, r[6], r[7], r[8], r[9], stamp, stamp)
                for r, token in zip(batch, tokens, strict=True)
            ]
            done += len(batch)
            if progress:
                progress("write", done, total)

    _insert_batches(Household, names, batches())
    plain = ["grid", "area_path", "key", "address", "head_name", "phone", "members", "care_tags", "updated_at"]
    with_id = [*plain, "head_id_number_enc", "head_id_number_hash"]
    # An update is a change like a grid leader's edit: the version moves (an edit form opened before the
    # import gets a conflict, not a silent overwrite) and the history says who imported what.
    grid_names = {g.id: g.name for g in tree.grids_by_code.values() if g.id is not None}
    for i in range(0, len(plan.update), WRITE_BATCH):
        batch = plan.update[i : i + WRITE_BATCH]
        rows_plain, rows_id = [], []
        tokens = iter(encrypt_many([r[5] for r, _hid, id_changed, _key, _ex in batch if id_changed]))
        for r, hid, id_changed, key, _ex in batch:
            values = [r[2].id, r[2].path, key, r[3], r[4], r[7], r[8], r[9], stamp]
            if id_changed:
                rows_id.append((*values, next(tokens), r[6], hid))
            else:
                rows_plain.append((*values, hid))
        _update(Household, plain, rows_plain, also="version = version + 1")
        _update(Household, with_id, rows_id, also="version = version + 1")
        HouseholdChange.objects.bulk_create(_history(batch, grid_names, actor, now))
        done += len(batch)
        if progress:
            progress("write", done, total)

    if progress:
        progress("write", total, total)  # the COPY has ended here (the last batch was only handed to it)
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
    actor: Any = None,
) -> ImportResult:
    """Import households of one city from a spreadsheet: all rows valid or nothing written (unless keep_good).

    Towns and villages must exist under `city`; branches and grids are created on demand; a grid
    never exceeds GRID_HARD_MAX households; the same file imported twice changes nothing.
    """
    if city.level != Level.CITY:
        raise ValidationFailed(_("an import belongs to a city"), field="city")
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
        branches, grids, leaders = _write(plan, progress, actor)
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

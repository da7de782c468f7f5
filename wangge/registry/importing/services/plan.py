"""The plan: every row of the file checked, then sorted into create / update / unchanged.

Runs outside any write transaction (see the package docstring); `_fingerprint` lets the write
stage see whether anyone changed the city since the plan was made.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Sum
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import FieldProblem, ValidationFailed
from wangge.core.masking import lookup_hasher
from wangge.core.phones import MOBILE_RE, clean_phone
from wangge.registry.importing.columns import BY_KEY, REQUIRED, column_letter, match_header
from wangge.registry.importing.reader import Sheet
from wangge.registry.importing.services.cells import Memo, _id_number, _members, _tags, _text
from wangge.registry.importing.services.tree import _Grid, _resolve, _Tree
from wangge.registry.importing.template import HELP_SHEET
from wangge.registry.models import Area, Household
from wangge.registry.services import household_key

ProgressFn = Callable[[str, int, int], None]

HEADER_SCAN_ROWS = 10  # a title row or two above the header is common
PROGRESS_EVERY = 5000
_MOBILE = MOBILE_RE.fullmatch


# A checked row: (sheet index, excel row, grid, address, head, id text, id hash, phone, members, tags, key)
_Row = tuple[int, int, _Grid, str, str, str, str, str, int, str, str]


@dataclass
class _Plan:
    tree: _Tree
    rows: int = 0
    problems: list[tuple[int, int, int, FieldProblem]] = field(default_factory=list)  # sortable
    bad: set[tuple[int, int]] = field(default_factory=set)
    create: list[_Row] = field(default_factory=list)
    # row, household id, whether the ID changed, the key to store, the household as it was (`_existing`)
    update: list[tuple[_Row, int, bool, str, tuple[Any, ...]]] = field(default_factory=list)
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


def _no_header(sheet: str) -> FieldProblem:
    return FieldProblem.of(
        _("the sheet has data but no header row this import recognises; name its columns or delete the sheet"),
        code="no_header",
        sheet=sheet,
        row=1,
    )


def _headerless_columns(problems: _Problems, s: int, header_index: int) -> None:
    """A column with data under an empty header cell (a merged header, a forgotten title) is an error on
    each row that has data there: its values would otherwise be dropped without a word."""
    rows = problems.sheets[s].rows
    named = {i for i, cell in enumerate(rows[header_index]) if _text(cell)}
    if rows.width is not None and named.issuperset(range(rows.width)):
        return  # every column of the grid has a header: no pass over the rows needed
    for r, cells in rows.numbered(header_index + 1):
        for i, cell in enumerate(cells):
            if i not in named and _text(cell):
                problem = FieldProblem.of(
                    _("column %(column)s has data but no header; name the column or move its data"),
                    {"column": column_letter(i)},
                    code="no_column_header",
                    sheet=problems.sheets[s].name,
                    row=r + 1,
                    column=column_letter(i),
                )
                problems.plan.problems.append((s, r + 1, i, problem))
                problems.plan.bad.add((s, r + 1))


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
    members_of, tags_of = Memo(_members), Memo(_tags)
    members_seen, tags_seen = members_of.seen, tags_of.seen
    hash_id = lookup_hasher()

    for s, sheet in enumerate(sheets):
        header = _find_header(sheet)
        if header is None:
            # A sheet of data is never skipped in silence (the template's own instructions sheet excepted).
            if sheet.name != HELP_SHEET and any(_text(c) for row in sheet.rows for c in row):
                problems.plan.problems.append((s, 1, -1, _no_header(sheet.name)))
            done += len(sheet.rows)
            continue
        found_any = True
        header_index, cols = header
        _headerless_columns(problems, s, header_index)
        header_cells = sheet.rows[header_index]
        problems.headers[s] = {k: (i, _text(header_cells[i]) or BY_KEY[k].header) for k, i in cols.items()}
        missing = [k for k in REQUIRED if k not in cols]
        if missing:
            for key in missing:
                col = BY_KEY[key]
                problems.add(
                    s,
                    header_index + 1,
                    key,
                    ValidationFailed(
                        _("the required column '%(header)s' (%(name)s) is missing"),
                        params={"header": col.header, "name": col.en},
                        code="missing_column",
                    ),
                )
            done += len(sheet.rows)
            continue
        # Missing optional columns read as -1, the sentinel "" appended to each row (short rows padded to
        # the widest column the header names): the hot loop takes its twelve cells with one itemgetter.
        width = max(cols.values()) + 1
        take = itemgetter(*(cols.get(k, -1) for k in BY_KEY))
        pad, tail = [""] * (width + 1), [""]
        for r, row in sheet.rows.numbered(header_index + 1):
            cells = row + (pad[len(row) :] if len(row) < width else tail)
            excel_row = r + 1
            done += 1
            if progress and done % PROGRESS_EVERY == 0:
                progress("validate", done, total)
            if not any(cells) and all(c == "" or c is None for c in cells):
                continue  # blank rows between blocks are common and mean nothing
            plan.rows += 1
            bad = False
            c_town, c_village, c_branch, c_grid, c_lname, c_lphone, address, head, raw_id, c_phone, c_mem, c_tags = (
                take(cells)
            )

            # Areas: the same four cells repeat on every row of a grid, so resolve them once.
            area_cells = (c_town, c_village, c_branch, c_grid)
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

            address = address.strip() if type(address) is str else _text(address)
            head = head.strip() if type(head) is str else _text(head)
            if not address:
                problems.add(s, excel_row, "address", ValidationFailed(_("the address is empty"), code="required"))
                bad = True
            if not head:
                problems.add(
                    s,
                    excel_row,
                    "head_name",
                    ValidationFailed(_("the head's name is empty"), code="required"),
                )
                bad = True
            id_text = id_hash = ""
            if raw_id != "" and raw_id is not None:
                try:
                    id_text = _id_number(raw_id)
                    id_hash = hash_id(id_text)
                except ValidationFailed as e:
                    problems.add(s, excel_row, "head_id", e)
                    bad = True
            if type(c_phone) is str and len(c_phone) == 11 and _MOBILE(c_phone):
                phone = c_phone  # the usual cell, already what clean_phone returns
            else:
                try:
                    phone = clean_phone(c_phone)
                except ValidationFailed as e:
                    problems.add(s, excel_row, "phone", e)
                    phone = ""
                    bad = True
            # Memo lookups inline (a method call a cell cost more than the lookup itself).
            members = members_seen.get((type(c_mem), c_mem))
            if members is None:
                members = members_of(c_mem)
            if isinstance(members, ValidationFailed):
                problems.add(s, excel_row, "members", members)
                members, bad = 1, True
            tags = tags_seen.get((type(c_tags), c_tags))
            if tags is None:
                tags = tags_of(c_tags)
            if isinstance(tags, ValidationFailed):
                problems.add(s, excel_row, "tags", tags)
                tags, bad = "", True

            if grid is not None:
                raw_leader = (c_lname, c_lphone)
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
                        if fs != s:
                            message = _("the same household as sheet '%(sheet)s' row %(row)s (duplicate)")
                        else:
                            message = _("the same household as row %(row)s (duplicate)")
                        problems.add(
                            s,
                            excel_row,
                            dup_column,
                            ValidationFailed(message, params={"sheet": sheets[fs].name, "row": fr}, code="duplicate"),
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
            problem = FieldProblem.of(
                _("the required column '%(header)s' (%(name)s) is missing"),
                {"header": col.header, "name": col.en},
                code="missing_column",
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
                ValidationFailed(_("the grid leader's phone is given without a name"), code="required"),
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
                _("the grid leader differs from row %(first_row)s of the same micro-grid (%(leader)s)"),
                params={"first_row": first_row, "leader": grid.leader[0]},
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
        "key",
        "id",
        "grid_id",
        "address",
        "head_name",
        "phone",
        "members",
        "care_tags",
        "head_id_number_hash",
        "version",
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
                        _("the same registered household as row %(row)s"),
                        params={"row": first[1]},
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
    for _attempt in range(5):  # a refused move keeps its household at home, so settle in a few rounds
        leaving: dict[int, int] = defaultdict(int)
        arriving: dict[int, list[_Row]] = defaultdict(list)
        for row, ex in actions:
            if (refused and (row[0], row[1]) in refused) or (taken and row[10] in taken):
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
            if len(rows) <= room:
                continue  # the usual grid: every arrival fits
            for n, row in enumerate(rows, start=1):
                if n > room and (row[0], row[1]) not in refused:
                    newly.add((row[0], row[1]))
        if not newly:
            break
        refused |= newly
    for row, ex in actions:
        grid = row[2]
        if taken and row[10] in taken:
            problems.add(
                row[0],
                row[1],
                "head_id" if row[6] else "address",
                ValidationFailed(_("this household is registered in another city"), code="elsewhere"),
            )
            continue
        if refused and (row[0], row[1]) in refused:
            staying = per_grid.get(grid.id, 0) if grid.id else 0
            problems.add(
                row[0],
                row[1],
                "grid",
                ValidationFailed(
                    _(
                        "micro-grid '%(name)s' may hold at most %(limit)s households (it has %(staying)s); this row "
                        "is beyond the limit"
                    ),
                    params={"name": grid.name, "limit": limit, "staying": staying},
                    code="grid_full",
                ),
            )
            continue
        if ex is None:
            plan.create.append(row)
            continue
        old_key, _id, grid_id, address, head, phone, members, tags, id_hash, _version = ex
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
            plan.update.append((row, ex[1], bool(row[6]) and id_hash != row[6], key, ex))


def _by_address(tree: _Tree, existing: dict[str, tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    """Existing households by their village+address+head key, whatever key they are stored under."""
    out: dict[str, tuple[Any, ...]] = {}
    for ex in existing.values():
        grid = tree.grids_by_id.get(ex[2])
        if grid is not None:
            key = household_key(village_code=grid.branch.village.code, address=ex[3], head_name=ex[4], id_hash="")
            out.setdefault(key, ex)
    return out

"""The only writers of the registry: areas, departments, people and households.

Rules kept here: paths follow the tree; a grid holds at most GRID_HARD_MAX households (the
check is a conditional UPDATE on the grid's count, so two clerks adding the 30th and 31st at once
cannot both win); cumulative counts on every ancestor follow each add, move and removal.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.core.clock import now
from wangge.core.errors import ValidationFailed
from wangge.core.masking import encrypt, id_checksum_ok, lookup_hash
from wangge.core.phones import clean_phone
from wangge.registry.models import (
    LEVEL_DEPTH,
    LEVEL_ORDER,
    PARENT_LEVEL,
    Area,
    Department,
    Household,
    Level,
    Person,
    tags_to_column,
)


def _path_for(parent: Area | None, code: str) -> str:
    return (parent.path if parent else "") + code + "/"


@transaction.atomic
def area_create(
    *,
    level: str,
    code: str,
    name: str,
    parent: Area | None = None,
    number: int | None = None,
    boundary: dict | None = None,
    centre_lat: float | None = None,
    centre_lng: float | None = None,
) -> Area:
    """Create an area one level below its parent (city has none); the path follows the tree."""
    if level not in LEVEL_DEPTH:
        raise ValidationFailed(_("unknown level '%(level)s'"), params={"level": level}, field="level")
    expected_parent = PARENT_LEVEL[level]
    if expected_parent is None and parent is not None:
        raise ValidationFailed(_("a city has no parent"), field="parent")
    if expected_parent is not None and (parent is None or parent.level != expected_parent):
        raise ValidationFailed(
            _("the parent of a %(level)s must be a %(parent)s"),
            params={"level": Level(level).label, "parent": Level(expected_parent).label},
            field="parent",
        )
    if not code or "/" in code:
        raise ValidationFailed(_("code must be non-empty and contain no '/'"), field="code")
    if Area.objects.filter(code=code).exists():
        raise ValidationFailed(_("code %(code)s already exists"), params={"code": code}, field="code")
    return Area.objects.create(
        level=level,
        code=code,
        name=name,
        parent=parent,
        path=_path_for(parent, code),
        depth=LEVEL_DEPTH[level],
        number=number,
        boundary=boundary,
        centre_lat=centre_lat,
        centre_lng=centre_lng,
    )


@transaction.atomic
def area_move(*, area: Area, new_parent: Area) -> Area:
    """Move an area (and everything below it) under another parent of the right level.

    Paths below are rewritten with one UPDATE per table, and the household counts move from the
    old ancestors to the new ones.
    """
    area = Area.objects.select_for_update().get(pk=area.pk)
    expected = PARENT_LEVEL[area.level]
    if expected is None or new_parent.level != expected:
        raise ValidationFailed(
            _("a %(level)s can only move under a %(parent)s"),
            params={"level": Level(area.level).label, "parent": Level(expected).label if expected else ""},
            field="parent",
        )
    if new_parent.path.startswith(area.path):
        raise ValidationFailed(_("cannot move an area under itself"), field="parent")
    old_path = area.path
    new_path = _path_for(new_parent, area.code)
    if old_path == new_path:
        return area
    count = area.household_count
    old_ancestors = [p for p in area.ancestor_paths() if p != old_path]
    Area.objects.filter(path__in=old_ancestors).update(household_count=F("household_count") - count)
    new_ancestors = new_parent.ancestor_paths()
    Area.objects.filter(path__in=new_ancestors).update(household_count=F("household_count") + count)
    _rewrite_paths(old_path, new_path)
    area.refresh_from_db()
    Area.objects.filter(pk=area.pk).update(parent=new_parent)
    area.refresh_from_db()
    return area


def path_columns() -> list[tuple[type[Model], str]]:
    """Every (model, column) that stores an area path, as the models declare in `area_path_fields`.

    Found through the app registry, so the registry imports none of the apps above it; a model that
    copies a path must declare it, or `area_move` leaves it behind (tests/test_area_move.py checks).
    """
    from django.apps import apps

    return [(model, name) for model in apps.get_models() for name in getattr(model, "area_path_fields", ())]


def _rewrite_paths(old: str, new: str) -> None:
    """Replace the prefix `old` by `new` in every declared path column (one UPDATE per column)."""
    from django.db.models import Value
    from django.db.models.functions import Concat, Substr

    cut = len(old) + 1
    for model, name in path_columns():
        model._base_manager.filter(**{f"{name}__startswith": old}).update(
            **{name: Concat(Value(new), Substr(name, cut))}
        )


@transaction.atomic
def department_create(*, code: str, name: str, city: Area, phone: str = "") -> Department:
    """A department belongs to a city; it is seen by its own staff and by the city."""
    if city.level != Level.CITY:
        raise ValidationFailed(_("a department belongs to a city"), field="area")
    return Department.objects.create(code=code, name=name, area=city, area_path=city.path, phone=phone)


def clean_id_number(raw: object, *, field: str = "id_number") -> str:
    """An 18-digit ID as text; a float (Excel's 4.30181199001011e+17) has lost digits and is refused."""
    if raw is None or raw == "":
        return ""
    if isinstance(raw, float):
        raise ValidationFailed(
            _(
                "the ID number was stored by Excel as a number and has lost its last digits; format the "
                "column as text and enter it again"
            ),
            field=field,
            code="id_number_float",
        )
    text = str(raw).strip().upper()
    if "E+" in text or ("." in text and text.replace(".", "", 1).isdigit()):
        raise ValidationFailed(
            _("the ID number was turned into a number (scientific notation) and has lost digits"),
            field=field,
            code="id_number_float",
        )
    if not id_checksum_ok(text):
        raise ValidationFailed(
            _("not a valid 18-digit ID number: %(prefix)s…"), params={"prefix": text[:6]}, field=field, code="bad_id"
        )
    return text


@transaction.atomic
def person_create(
    *,
    name: str,
    phone: str = "",
    id_number: str = "",
    is_party_member: bool = False,
    branch: Area | None = None,
    user: Any = None,
) -> Person:
    """A person, with the ID number encrypted and its lookup hash kept."""
    if not name.strip():
        raise ValidationFailed(_("name is required"), field="name")
    phone = clean_phone(phone)
    id_number = clean_id_number(id_number)
    return Person.objects.create(
        name=name.strip(),
        phone=phone,
        id_number_enc=encrypt(id_number),
        id_number_hash=lookup_hash(id_number),
        is_party_member=is_party_member,
        branch=branch,
        area_path=branch.path if branch else "",
        user=user,
    )


@transaction.atomic
def grid_set_leader(*, grid: Area, leader: Person) -> Area:
    """A micro-grid has exactly one leader, a person (usually a party member)."""
    if grid.level != Level.GRID:
        raise ValidationFailed(_("only a micro-grid has a grid leader"), field="grid")
    Area.objects.filter(pk=grid.pk).update(leader=leader)
    grid.leader = leader
    return grid


def household_key(*, village_code: str, address: str, head_name: str, id_hash: str) -> str:
    """Stable identity across re-imports: the head's ID when known, else village + address + head."""
    if id_hash:
        return "id:" + id_hash[:60]
    raw = f"{village_code}|{address.strip()}|{head_name.strip()}"
    return "ah:" + hashlib.sha256(raw.encode()).hexdigest()[:60]


def _village_code(grid: Area) -> str:
    parts = grid.path.rstrip("/").split("/")
    return parts[LEVEL_DEPTH[Level.VILLAGE]] if len(parts) > LEVEL_DEPTH[Level.VILLAGE] else ""


def _take_place(grid: Area) -> None:
    """Reserve a place in a grid, refusing the 31st household (race-safe conditional UPDATE)."""
    limit = settings.GRID_HARD_MAX
    took = Area.objects.filter(pk=grid.pk, household_count__lt=limit).update(household_count=F("household_count") + 1)
    if not took:
        raise ValidationFailed(
            _("micro-grid '%(name)s' already holds %(limit)s households; no more may join"),
            params={"name": grid.name, "limit": limit},
            field="grid",
            code="grid_full",
        )
    ancestors = [p for p in grid.ancestor_paths() if p != grid.path]
    Area.objects.filter(path__in=ancestors).update(household_count=F("household_count") + 1)


def _give_place(grid: Area) -> None:
    Area.objects.filter(path__in=grid.ancestor_paths()).update(household_count=F("household_count") - 1)


@transaction.atomic
def household_create(
    *,
    grid: Area,
    address: str,
    head_name: str,
    phone: object = "",
    id_number: object = "",
    members: int = 1,
    care_tags: list[str] | None = None,
) -> Household:
    """Add a household to a micro-grid; the 31st is refused and nothing is written."""
    if grid.level != Level.GRID:
        raise ValidationFailed(_("a household belongs to a micro-grid"), field="grid")
    if not address.strip():
        raise ValidationFailed(_("address is required"), field="address")
    if not head_name.strip():
        raise ValidationFailed(_("head of household is required"), field="head_name")
    if members < 1 or members > 50:
        raise ValidationFailed(_("members must be between 1 and 50"), field="members")
    phone_s = clean_phone(phone)
    id_s = clean_id_number(id_number, field="head_id_number")
    id_hash = lookup_hash(id_s)
    key = household_key(village_code=_village_code(grid), address=address, head_name=head_name, id_hash=id_hash)
    if Household.objects.filter(key=key).exists():
        raise ValidationFailed(_("this household is already registered"), field="address", code="duplicate")
    _take_place(grid)
    return Household.objects.create(
        grid=grid,
        area_path=grid.path,
        key=key,
        address=address.strip(),
        head_name=head_name.strip(),
        head_id_number_enc=encrypt(id_s),
        head_id_number_hash=id_hash,
        phone=phone_s,
        members=members,
        care_tags=tags_to_column(care_tags or []),
    )


@transaction.atomic
def household_move(*, household: Household, grid: Area) -> Household:
    """Move a household to another micro-grid; the target's 30-household limit holds."""
    if grid.level != Level.GRID:
        raise ValidationFailed(_("a household belongs to a micro-grid"), field="grid")
    household = Household.objects.select_for_update().select_related("grid").get(pk=household.pk)
    if household.grid_id == grid.pk:
        return household
    old = household.grid
    _take_place(grid)
    _give_place(old)
    Household.objects.filter(pk=household.pk).update(grid=grid, area_path=grid.path)
    household.refresh_from_db()
    return household


@transaction.atomic
def household_delete(*, household: Household) -> None:
    """Remove a household and give its place back."""
    grid = household.grid
    household.delete()
    _give_place(grid)


@transaction.atomic
def registry_recount() -> int:
    """Recompute every area's cumulative household count from the rows (after bulk imports).

    Returns the number of areas whose count changed.
    """
    per_grid = dict(Household.objects.values_list("grid_id").annotate(n=Count("id")).values_list("grid_id", "n"))
    # Plain tuples and one executemany: at 32,000 grids, model instances and bulk_update's
    # CASE WHEN statements took seconds; this takes a fraction of one.
    areas = list(Area.objects.values_list("id", "path", "level", "household_count"))
    totals: dict[str, int] = defaultdict(int)
    for area_id, path, level, _count in areas:
        if level == Level.GRID:
            n = per_grid.get(area_id, 0)
            if n:
                prefix = ""
                for code in path.split("/")[:-1]:
                    prefix += code + "/"
                    totals[prefix] += n
    changed = [(totals.get(path, 0), area_id) for area_id, path, _level, count in areas if count != totals.get(path, 0)]
    if changed:
        table = connection.ops.quote_name(Area._meta.db_table)
        column = connection.ops.quote_name(Area._meta.get_field("household_count").column)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # One statement: 34,000 single-row UPDATEs took seconds of round trips and planning.
                cursor.execute(
                    f"UPDATE {table} AS a SET {column} = v.n FROM unnest(%s::integer[], %s::bigint[]) AS v(n, id) "
                    "WHERE a.id = v.id",
                    [[n for n, _id in changed], [i for _n, i in changed]],
                )
            else:
                cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE id = %s", changed)
    return len(changed)


_UNSET: Any = object()


@transaction.atomic
def area_update(
    *,
    area: Area,
    name: str | None = None,
    number: Any = _UNSET,
    boundary: Any = _UNSET,
    centre_lat: Any = _UNSET,
    centre_lng: Any = _UNSET,
) -> Area:
    """Rename an area or change its number or shape; its place in the tree changes only by `area_move`."""
    changes: dict[str, Any] = {}
    if name is not None:
        if not name.strip():
            raise ValidationFailed(pgettext_lazy("registry", "name is required"), field="name")
        if Area.objects.filter(parent_id=area.parent_id, name=name.strip()).exclude(pk=area.pk).exists():
            raise ValidationFailed(_("a sibling area already has this name"), field="name")
        changes["name"] = name.strip()
    if (
        boundary is not _UNSET
        and boundary is not None
        and (not isinstance(boundary, dict) or boundary.get("type") not in ("Polygon", "MultiPolygon", "Feature"))
    ):
        raise ValidationFailed(_("boundary must be a GeoJSON Polygon or MultiPolygon"), field="boundary")
    fields = {"number": number, "boundary": boundary, "centre_lat": centre_lat, "centre_lng": centre_lng}
    for key, value in fields.items():
        if value is not _UNSET:
            changes[key] = value
    if changes:
        changes["updated_at"] = now()
        Area.objects.filter(pk=area.pk).update(**changes)
        area.refresh_from_db()
    return area


@transaction.atomic
def department_update(
    *, department: Department, name: str | None = None, phone: str | None = None, is_active: bool | None = None
) -> Department:
    """Rename, re-phone or (de)activate a department; an inactive one receives no new dispatches."""
    changes: dict[str, Any] = {}
    if name is not None:
        if not name.strip():
            raise ValidationFailed(pgettext_lazy("registry", "name is required"), field="name")
        changes["name"] = name.strip()
    if phone is not None:
        changes["phone"] = clean_phone(phone) if phone else ""
    if is_active is not None:
        changes["is_active"] = is_active
    if changes:
        Department.objects.filter(pk=department.pk).update(**changes)
        department.refresh_from_db()
    return department


@transaction.atomic
def person_update(
    *,
    person: Person,
    name: str | None = None,
    phone: str | None = None,
    is_party_member: bool | None = None,
    party_joined_on: Any = _UNSET,
    branch: Any = _UNSET,
    user: Any = _UNSET,
) -> Person:
    """Change a person's details; moving to another branch keeps their area path with it."""
    changes: dict[str, Any] = {}
    if name is not None:
        if not name.strip():
            raise ValidationFailed(_("name is required"), field="name")
        changes["name"] = name.strip()
    if phone is not None:
        changes["phone"] = clean_phone(phone)
    if is_party_member is not None:
        changes["is_party_member"] = is_party_member
    if party_joined_on is not _UNSET:
        changes["party_joined_on"] = party_joined_on
    if branch is not _UNSET:
        if branch is not None and branch.level != Level.BRANCH:
            raise ValidationFailed(_("branch must be a party branch"), field="branch")
        changes["branch"] = branch
        changes["area_path"] = branch.path if branch else ""
    if user is not _UNSET:
        changes["user"] = user
    if changes:
        changes["updated_at"] = now()
        Person.objects.filter(pk=person.pk).update(**changes)
        person.refresh_from_db()
    return person


__all__ = [
    "LEVEL_ORDER",
    "area_create",
    "area_move",
    "area_update",
    "clean_id_number",
    "department_create",
    "department_update",
    "grid_set_leader",
    "household_create",
    "household_delete",
    "household_key",
    "household_move",
    "path_columns",
    "person_create",
    "person_update",
    "registry_recount",
]

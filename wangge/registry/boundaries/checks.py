"""What an uploaded boundary file would do, checked before anything is written: the plan and its problems.

Each feature is matched to an area under the chosen root by its code, converted into the datum the
boundaries are kept in (settings.WANGGE_BOUNDARY_DATUM) and checked. Problems block the import and
name the feature: no or unknown or repeated code, a geometry that is not a polygon, an invalid or
self-intersecting polygon, two areas of one level overlapping by more than the tolerance
(settings.BOUNDARY_OVERLAP_TOLERANCE_M2), an area reaching outside its nearest ancestor that has a
boundary (a grid outside its village) by more than the tolerance. Gaps (the part of a village no grid
of the file covers) are reported as warnings: real villages have fields and hills nobody lives on.
Areas are measured in square metres on a local equirectangular scale, exact enough at grid size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from shapely.geometry import shape
from shapely.validation import explain_validity

from wangge.core import geodesy
from wangge.core.errors import FieldProblem
from wangge.registry.boundaries.readers import Feature, Source
from wangge.registry.models import LEVEL_DEPTH, Area, Level

_M_PER_DEGREE = 111_320.0


@dataclass
class Planned:
    area_id: int
    code: str
    name: str
    level: str
    path: str
    number: int
    geometry: dict[str, Any]  # GeoJSON in the target datum
    centre: tuple[float, float]  # lat, lng of a point inside


@dataclass
class Plan:
    """The result of reading and checking a file: what would be written, and what stops it."""

    format: str
    source_datum: str
    datum: str
    features: int
    planned: list[Planned] = field(default_factory=list)
    problems: list[FieldProblem] = field(default_factory=list)
    warnings: list[FieldProblem] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)  # areas of the file's levels whose old boundary goes
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def by_level(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for p in self.planned:
            counts[p.level] = counts.get(p.level, 0) + 1
        return [(level, counts[level]) for level in sorted(counts, key=lambda lv: LEVEL_DEPTH[lv])]


def _problem(message: Any, params: dict[str, Any], code: str, column: str | None = None) -> FieldProblem:
    return FieldProblem.of(message, params, code=code, column=column)


def _m2(area_deg2: float, lat: float) -> float:
    return area_deg2 * _M_PER_DEGREE * _M_PER_DEGREE * math.cos(math.radians(lat))


def _convert(coords: Any, source: str, target: str) -> Any:
    if coords and isinstance(coords[0], (int, float)):
        lng, lat = float(coords[0]), float(coords[1])
        if source != target:
            lat, lng = geodesy.convert(lat, lng, source, target)
        return [round(lng, 7), round(lat, 7)]
    return [_convert(c, source, target) for c in coords]


def _geometry_of(boundary: Any) -> dict[str, Any] | None:
    if not isinstance(boundary, dict):
        return None
    return boundary.get("geometry") if boundary.get("type") == "Feature" else boundary


def plan_boundaries(source: Source, *, root: Area, code_field: str = "code") -> Plan:
    """Match, convert and check every feature of `source` against the areas under `root` (nothing written)."""
    target = settings.WANGGE_BOUNDARY_DATUM
    tolerance = float(settings.BOUNDARY_OVERLAP_TOLERANCE_M2)
    plan = Plan(format=source.format, source_datum=source.datum, datum=target, features=len(source.features))
    under = Area.objects.filter(path__startswith=root.path)
    # Stored shapes are read only where a containment check may need them (cities, towns, villages):
    # decoding 32,000 grid boundaries only to replace them cost more than all the checks.
    containers = dict(
        under.filter(level__in=[Level.CITY, Level.TOWN, Level.VILLAGE], boundary__isnull=False).values_list(
            "code", "boundary"
        )
    )
    has_boundary = set(under.filter(boundary__isnull=False).values_list("pk", flat=True))
    rows = {
        code: (pk, name, level, path, containers.get(code), datum)
        for pk, code, name, level, path, datum in under.values_list(
            "pk", "code", "name", "level", "path", "boundary_datum"
        )
    }
    seen: dict[str, int] = {}
    geoms: list[Any] = []
    for feature in source.features:
        planned_geom = _check_feature(feature, rows, seen, plan, code_field, source.datum, target)
        if planned_geom is not None:
            geoms.append(planned_geom)
    if geoms:
        _check_overlaps(plan, geoms, tolerance)
        _check_containers(plan, geoms, rows, tolerance, target)
    levels = {p.level for p in plan.planned}
    in_file = {p.area_id for p in plan.planned}
    plan.cleared = [
        pk
        for pk, _name, level, _path, _boundary, _d in rows.values()
        if level in levels and pk in has_boundary and pk not in in_file
    ]
    return plan


def _check_feature(
    feature: Feature,
    rows: dict[str, tuple[Any, ...]],
    seen: dict[str, int],
    plan: Plan,
    code_field: str,
    source_datum: str,
    target: str,
) -> Any:
    params: dict[str, Any] = {"number": feature.number, "code": feature.code, "field": code_field}
    if not feature.code:
        plan.problems.append(
            _problem(_("feature %(number)s has no value in '%(field)s'"), params, "missing_code", code_field)
        )
        return None
    row = rows.get(feature.code)
    if row is None:
        plan.problems.append(
            _problem(
                _("feature %(number)s: no area under this city has the code %(code)s"),
                params,
                "unknown_code",
                code_field,
            )
        )
        return None
    if feature.code in seen:
        params["first"] = seen[feature.code]
        plan.problems.append(
            _problem(
                _("feature %(number)s: the code %(code)s was already given by feature %(first)s"),
                params,
                "duplicate_code",
                code_field,
            )
        )
        return None
    seen[feature.code] = feature.number
    geometry = feature.geometry
    if not geometry or geometry.get("type") not in ("Polygon", "MultiPolygon") or not geometry.get("coordinates"):
        params["type"] = (geometry or {}).get("type") or "-"
        plan.problems.append(
            _problem(_("feature %(number)s (%(code)s) is a %(type)s, not a polygon"), params, "not_polygon", code_field)
        )
        return None
    try:
        converted = {"type": geometry["type"], "coordinates": _convert(geometry["coordinates"], source_datum, target)}
        geom = shape(converted)
    except (TypeError, ValueError, IndexError, AttributeError) as exc:
        params["reason"] = str(exc)[:80]
        plan.problems.append(
            _problem(
                _("feature %(number)s (%(code)s) has broken coordinates: %(reason)s"),
                params,
                "broken_geometry",
                code_field,
            )
        )
        return None
    if geom.is_empty or not geom.is_valid:
        reason = explain_validity(geom) if not geom.is_empty else "empty"
        params["reason"] = reason
        if "Self-intersection" in reason or "Ring Self-intersection" in reason:
            message = _("feature %(number)s (%(code)s) is a self-intersecting polygon (%(reason)s)")
            code = "self_intersecting"
        else:
            message = _("feature %(number)s (%(code)s) is not a valid polygon (%(reason)s)")
            code = "invalid_polygon"
        plan.problems.append(_problem(message, params, code, code_field))
        return None
    pk, name, level, path, _boundary, _datum = row
    inside = geom.representative_point()
    plan.planned.append(
        Planned(
            area_id=pk,
            code=feature.code,
            name=name,
            level=level,
            path=path,
            number=feature.number,
            geometry=converted,
            centre=(round(inside.y, 7), round(inside.x, 7)),
        )
    )
    return geom


def _check_overlaps(plan: Plan, geoms: list[Any], tolerance: float) -> None:
    """Areas of one level that share more than `tolerance` square metres (touching borders share none)."""
    array = np.array(geoms, dtype=object)
    tree = shapely.STRtree(array)
    left, right = tree.query(array, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    levels = np.array([p.level for p in plan.planned], dtype=object)
    same = levels[left] == levels[right]
    left, right = left[same], right[same]
    # Neighbours that only touch share a border, not an interior: sorted out by one cheap relate first.
    inner = shapely.relate_pattern(array[left], array[right], "T********")
    left, right = left[inner], right[inner]
    if not len(left):
        return
    shared = shapely.area(shapely.intersection(array[left], array[right]))
    for i, j, deg2 in zip(left.tolist(), right.tolist(), shared.tolist(), strict=True):
        a, b = plan.planned[i], plan.planned[j]
        m2 = _m2(deg2, a.centre[0])
        if m2 > tolerance:
            plan.problems.append(
                _problem(
                    _("feature %(number)s (%(code)s) overlaps feature %(other)s (%(other_code)s) by about %(m2)s m²"),
                    {"number": b.number, "code": b.code, "other": a.number, "other_code": a.code, "m2": round(m2)},
                    "overlap",
                )
            )


def _check_containers(
    plan: Plan, geoms: list[Any], rows: dict[str, tuple[Any, ...]], tolerance: float, target: str
) -> None:
    """Each area inside its nearest ancestor with a boundary (the file's, else the stored one); gaps reported."""
    by_code = {p.code: g for p, g in zip(plan.planned, geoms, strict=True)}
    stored: dict[str, Any] = {}

    def container(path: str) -> tuple[str, Any] | None:
        codes = path.rstrip("/").split("/")[:-1]
        for code in reversed(codes):
            row = rows.get(code)
            if row is None or row[2] == Level.BRANCH:  # a party branch is not a territory to check against
                continue
            if code in by_code:
                return code, by_code[code]
            if code not in stored:
                geometry = _geometry_of(row[4])
                if geometry:
                    try:
                        stored[code] = shape(
                            {"type": geometry["type"], "coordinates": _convert(geometry["coordinates"], row[5], target)}
                        )
                    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
                        stored[code] = None
                else:
                    stored[code] = None
            if stored[code] is not None:
                return code, stored[code]
        return None

    children: list[int] = []
    parents: list[Any] = []
    parent_codes: list[str] = []
    for i, planned in enumerate(plan.planned):
        found = container(planned.path)
        if found is not None:
            children.append(i)
            parent_codes.append(found[0])
            parents.append(found[1])
    if not children:
        return
    child_geoms = np.array([geoms[i] for i in children], dtype=object)
    parent_geoms = np.array(parents, dtype=object)
    outside = shapely.area(shapely.difference(child_geoms, parent_geoms))
    for i, code, deg2 in zip(children, parent_codes, outside.tolist(), strict=True):
        planned = plan.planned[i]
        m2 = _m2(deg2, planned.centre[0])
        if m2 > tolerance:
            row = rows[code]
            plan.problems.append(
                _problem(
                    _("feature %(number)s (%(code)s) reaches outside %(parent)s (%(parent_code)s) by about %(m2)s m²"),
                    {
                        "number": planned.number,
                        "code": planned.code,
                        "parent": row[1],
                        "parent_code": code,
                        "m2": round(m2),
                    },
                    "outside_parent",
                )
            )
    # Gaps: per container, the part no child of the file covers.
    groups: dict[str, list[Any]] = {}
    containers: dict[str, Any] = {}
    for i, code, parent in zip(children, parent_codes, parents, strict=True):
        groups.setdefault(code, []).append(geoms[i])
        containers[code] = parent
    for code, members in groups.items():
        uncovered = containers[code].difference(shapely.union_all(members))
        m2 = _m2(uncovered.area, containers[code].centroid.y)
        if m2 > tolerance:
            plan.warnings.append(
                _problem(
                    _("%(parent)s (%(parent_code)s): about %(m2)s m² are covered by none of its areas in the file"),
                    {"parent": rows[code][1], "parent_code": code, "m2": round(m2)},
                    "gap",
                )
            )

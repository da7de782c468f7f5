"""Boundaries in bulk: GeoJSON, KML and zipped shapefiles read, checked and written (docs/boundaries.md)."""

from wangge.registry.boundaries.checks import Plan, Planned, plan_boundaries
from wangge.registry.boundaries.readers import AUTO, ENCODINGS, Feature, Source, read_boundaries
from wangge.registry.boundaries.services import boundary_import, boundary_plan_write

__all__ = [
    "AUTO",
    "ENCODINGS",
    "Feature",
    "Plan",
    "Planned",
    "Source",
    "boundary_import",
    "boundary_plan_write",
    "plan_boundaries",
    "read_boundaries",
]

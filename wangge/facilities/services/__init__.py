"""The only writers of facilities: types, facilities, directors, inspections and missed-inspection flags.

Each function is keyword-only and atomic; refusals are bilingual `WanggeError`s naming the field, and
nothing is half-written. `directors` sets up types, facilities and who answers for them; `inspections`
records a check (a failed item files or comments on a demand); `sweep` flags and tells about missed
inspections.
"""

from __future__ import annotations

from wangge.facilities.services.directors import director_assign, facility_create, facility_type_create
from wangge.facilities.services.inspections import MAX_NOTE, MAX_PHOTOS_PER_ITEM, ItemResult, inspection_record
from wangge.facilities.services.sweep import MissedReport, facilities_sweep, inspection_flag_missed

__all__ = [
    "MAX_NOTE",
    "MAX_PHOTOS_PER_ITEM",
    "ItemResult",
    "MissedReport",
    "director_assign",
    "facilities_sweep",
    "facility_create",
    "facility_type_create",
    "inspection_flag_missed",
    "inspection_record",
]

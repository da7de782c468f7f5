"""Factories for facilities tests (and the scope walk): plain `make_<thing>(**overrides)` over the services."""

from __future__ import annotations

import io
import itertools
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from wangge.accounts.models import Role
from wangge.facilities import services
from wangge.facilities.models import (
    DirectorLevel,
    Facility,
    FacilityDirector,
    FacilityType,
    Inspection,
    RulePeriod,
)
from wangge.registry.models import Area, Level
from wangge.registry.testing import make_user

_seq = itertools.count(1)

# The 安吉 rule: bureau leaders twice a month, sanitation staff twice a week, cleaners daily.
DEFAULT_RULES = {
    DirectorLevel.BUREAU_LEADER: (2, RulePeriod.MONTH),
    DirectorLevel.SANITATION_STAFF: (2, RulePeriod.WEEK),
    DirectorLevel.CLEANER: (1, RulePeriod.DAY),
}


def toilet_type() -> FacilityType:
    """The default 公厕 type loaded by the data migration."""
    return FacilityType.objects.get(code="toilet")


def make_facility(*, area: Area, **overrides: Any) -> Facility:
    n = next(_seq)
    data: dict[str, Any] = {
        "facility_type": overrides.pop("facility_type", None) or toilet_type(),
        "name": f"测试公厕{n}",
        "code": f"GC-T{n:04d}",
        "address": f"{area.name}{n}号旁",
        "open_hours": "06:00-22:00",
    }
    data.update(overrides)
    return services.facility_create(area=area, **data)


def make_director(
    *, facility: Facility, level: str = DirectorLevel.SANITATION_STAFF, user: Any = None, **overrides: Any
) -> FacilityDirector:
    count, period = DEFAULT_RULES.get(level, (1, RulePeriod.DAY))  # type: ignore[call-overload]
    data: dict[str, Any] = {"rule_count": count, "rule_period": period}
    if user is None and "name" not in overrides:
        data["name"] = f"所长{next(_seq)}"
    data.update(overrides)
    return services.director_assign(facility=facility, level=level, user=user, **data)


def make_director_user(*, facility: Facility, level: str = DirectorLevel.SANITATION_STAFF, **overrides: Any) -> Any:
    """A director with an account: town staff of the facility's town-level scope by default (环卫所)."""
    town = Area.objects.get(path__in=facility.area.ancestor_paths(), level=Level.TOWN)
    user = overrides.pop("user", None) or make_user(role=Role.TOWN, areas=[town])
    return make_director(facility=facility, level=level, user=user, **overrides)


def all_pass(facility: Facility, **notes: str) -> list[dict[str, Any]]:
    return [
        {"code": c.code, "passed": True, "note": notes.get(c.code, "")}
        for c in facility.facility_type.checklist.filter(is_active=True)
    ]


def results_with(
    facility: Facility, *, failed: dict[str, str] | None = None, photos: dict[str, list[Any]] | None = None
) -> list[dict[str, Any]]:
    """Every item passed except those in `failed` (code → note)."""
    failed = failed or {}
    photos = photos or {}
    return [
        {
            "code": c.code,
            "passed": c.code not in failed,
            "note": failed.get(c.code, ""),
            "photos": photos.get(c.code, []),
        }
        for c in facility.facility_type.checklist.filter(is_active=True)
    ]


def make_inspection(
    *, director: FacilityDirector, actor: Any = None, failed: dict[str, str] | None = None, **kw: Any
) -> Inspection:
    facility = director.facility
    return services.inspection_record(
        facility=facility,
        actor=actor or director.user,
        director=director,
        results=results_with(facility, failed=failed),
        **kw,
    )


def jpeg(color: str = "red", size: tuple[int, int] = (16, 16), exif_gps: bool = False) -> SimpleUploadedFile:
    """A small JPEG upload (with EXIF GPS when asked)."""
    from PIL import Image

    buf = io.BytesIO()
    image = Image.new("RGB", size, color)
    if exif_gps:
        exif = Image.Exif()
        gps = {1: "N", 2: (28.0, 9.0, 0.0), 3: "E", 4: (113.0, 38.0, 0.0)}
        exif[0x8825] = gps
        image.save(buf, format="JPEG", exif=exif)
    else:
        image.save(buf, format="JPEG")
    return SimpleUploadedFile("photo.jpg", buf.getvalue(), content_type="image/jpeg")


def make_walk_world(*, area: Area, department: Any, name: str) -> dict[str, Any]:
    """For the scope walk: a facility named `name` with a director and one passed inspection with a photo."""
    facility = make_facility(area=area, name=name, address=name + "旁", department=department)
    director = make_director_user(facility=facility, level=DirectorLevel.SANITATION_STAFF, name=name + "所长")
    inspection = make_inspection(director=director, photos=[jpeg()])
    return {
        "facility": facility,
        "facility_inspection": inspection,
        "facility_photo": inspection.photos.get(),
    }

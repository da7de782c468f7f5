"""Factories for import tests (and the scope walk): plain `make_<thing>(**overrides)` functions."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile

from wangge.core import clock
from wangge.registry.models import Area, ImportJob


def make_import_job(*, grid: Area | None = None, city: Area | None = None, **overrides: Any) -> ImportJob:
    """A finished job of the city above `grid` (or of `city`), with one reported problem."""
    if city is None:
        assert grid is not None
        city = Area.objects.get(path=grid.ancestor_paths()[0])
    data: dict[str, Any] = {
        "city": city,
        "area_path": city.path,
        "original_name": "户籍.csv",
        "status": ImportJob.Status.REFUSED,
        "rows": 1,
        "error_count": 1,
        "errors": [
            {
                "code": "bad_phone",
                "message": "电话号码格式不正确：12",
                "message_en": "The phone number 12 is not valid",
                "field": "phone",
                "sheet": "户籍",
                "row": 2,
                "column": "联系电话(J)",
            }
        ],
        "created_at": clock.now(),
    }
    data.update(overrides)
    job = ImportJob(**data)
    job.file.save("test.csv", ContentFile("乡镇(街道)\n".encode()), save=False)
    job.save()
    return job

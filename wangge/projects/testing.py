"""Factories for project tests (and the scope walk): plain `make_<thing>(**overrides)` functions."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from wangge.accounts.models import Role
from wangge.projects import services
from wangge.projects.models import LivelihoodProject, ProgressReport
from wangge.registry.models import Area, Department
from wangge.registry.testing import make_user

_seq = itertools.count(1)


def city_of(area: Area) -> Area:
    return Area.objects.get(path=area.ancestor_paths()[0])


def make_city_admin(area: Area) -> Any:
    return make_user(role=Role.CITY_ADMIN, areas=[city_of(area)])


def make_project(*, area: Area, department: Department, user: Any = None, **overrides: Any) -> LivelihoodProject:
    n = next(_seq)
    data: dict[str, Any] = {
        "code": f"TP{n:04d}",
        "name": f"民生项目{n}",
        "year": 2026,
        "domain": "school_places",
        "target": 4000,
        "unit": "学位",
        "budget_fen": 100_000_000,
        "deadline": dt.date(2026, 12, 31),
        "people": [{"name": "周建华", "role": "分管副局长"}],
    }
    data.update(overrides)
    return services.project_create(user=user or make_city_admin(area), area=area, department=department, **data)


def jpeg(color: str = "green") -> SimpleUploadedFile:
    buf = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (8, 8), color).save(buf, format="JPEG")
    return SimpleUploadedFile("p.jpg", buf.getvalue(), content_type="image/jpeg")


def make_report(
    *, project: LivelihoodProject, user: Any = None, achieved_to_date: int = 100, **overrides: Any
) -> ProgressReport:
    """A submitted report by a staff member of the project's department (made when not given)."""
    data: dict[str, Any] = {"period": dt.date(2026, 1, 1), "narrative": "按计划推进"}
    data.update(overrides)
    user = user or make_user(role=Role.DEPARTMENT, departments=[project.department])
    return services.report_submit(user=user, project=project, achieved_to_date=achieved_to_date, **data)


def make_walk_world(*, town: Area, department: Department, mark: str) -> dict[str, Any]:
    """A town's project of `department` whose people and report carry `mark` (for tests/test_scope_walk.py).

    The marker goes only where personal data lives (responsible people, the report's narrative),
    so the public page, which shows neither, never carries it.
    """
    project = make_project(
        area=town, department=department, name="走查项目", people=[{"name": mark + "负责人", "role": "局长"}]
    )
    report = make_report(project=project, narrative=mark + "进展", photos=[jpeg()])
    return {"project": project, "project_report": report, "project_photo": report.photos.get()}

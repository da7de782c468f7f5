"""Factories for tests in any app: plain `make_<thing>(**overrides)` functions over the real services."""

from __future__ import annotations

from typing import Any

from wangge.dashboards.models import ExportJob
from wangge.dashboards.services import export_job_create


def make_export_job(*, user: Any, kind: str = "demands", **filters: Any) -> ExportJob:
    """A queued export of `user` with the given console filters (q="…", state="…")."""
    return export_job_create(user=user, kind=kind, filters=filters)

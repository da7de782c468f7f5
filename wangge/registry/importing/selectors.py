"""Reads of import jobs: only city administrators (and superusers) see them, each within their city."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.core.errors import NotFound, PermissionDenied
from wangge.registry.models import Area, ImportJob, Level


def can_import(user: Any) -> bool:
    """Importing rewrites a whole city's registry: city administrators and superusers only."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or user.role == Role.CITY_ADMIN)


def _require(user: Any) -> None:
    if not can_import(user):
        raise PermissionDenied(_("only city administrators may import the registry"))


def import_cities(*, user: Any) -> QuerySet[Area]:
    """The cities a user may import into: those their scope covers."""
    _require(user)
    return Area.objects.filter(scope_for(user).area_q("path"), level=Level.CITY).order_by("path")


def import_job_list(*, user: Any) -> QuerySet[ImportJob]:
    """Import jobs of the user's cities, newest first."""
    _require(user)
    return ImportJob.objects.filter(scope_for(user).area_q("area_path")).select_related("city", "created_by")


def import_job_get(*, user: Any, pk: int) -> ImportJob:
    """One import job of the user's city, or NotFound (a job of another city does not exist for them)."""
    _require(user)
    job = ImportJob.objects.select_related("city", "created_by").filter(pk=pk).first()
    if job is None or not scope_for(user).covers_path(job.area_path):
        raise NotFound(_("import job not found"))
    return job

"""Reads of import jobs: each kind has its roles (`IMPORT_ROLES`), and a job is seen only within its city.

Registry and boundary imports rewrite a whole city: city administrators only. Hotline orders are
uploaded by the 12345 centre's call-back clerks too. Superusers may do all of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.core.errors import NotFound, PermissionDenied
from wangge.registry.models import Area, ImportJob, Level

Kind = ImportJob.Kind

IMPORT_ROLES: dict[str, tuple[str, ...]] = {
    Kind.REGISTRY: (Role.CITY_ADMIN,),
    Kind.BOUNDARIES: (Role.CITY_ADMIN,),
    Kind.HOTLINE: (Role.CITY_ADMIN, Role.CALL_BACK_CLERK),
}


def can_import(user: Any, kind: str = Kind.REGISTRY) -> bool:
    """Whether the user's role may import files of this kind (their scope decides which cities)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or user.role in IMPORT_ROLES.get(kind, ()))


def import_denied(kind: str) -> PermissionDenied:
    """The refusal for a user whose role may not import this kind."""
    if kind == Kind.HOTLINE:
        return PermissionDenied(_("only city administrators and call-back clerks may import hotline orders"))
    return PermissionDenied(_("only city administrators may import the registry"))


def _require(user: Any, kind: str) -> None:
    if not can_import(user, kind):
        raise import_denied(kind)


def import_cities(*, user: Any, kind: str = Kind.REGISTRY) -> QuerySet[Area]:
    """The cities a user may import into: those their scope covers."""
    _require(user, kind)
    return Area.objects.filter(scope_for(user).area_q("path"), level=Level.CITY).order_by("path")


def import_job_list(*, user: Any, kind: str = Kind.REGISTRY) -> QuerySet[ImportJob]:
    """Import jobs of one kind in the user's cities, newest first."""
    _require(user, kind)
    return ImportJob.objects.filter(scope_for(user).area_q("area_path"), kind=kind).select_related("city", "created_by")


def import_job_get(*, user: Any, pk: int, kinds: Iterable[str] = (Kind.REGISTRY, Kind.BOUNDARIES)) -> ImportJob:
    """One import job of the given kinds in the user's city, or NotFound (another city's job does not exist
    for them); PermissionDenied when their role may not import the job's kind."""
    kinds = list(kinds)
    if not any(can_import(user, kind) for kind in kinds):
        raise import_denied(kinds[0])
    job = ImportJob.objects.select_related("city", "created_by").filter(pk=pk, kind__in=kinds).first()
    if job is None:
        raise NotFound(_("import job not found"))
    _require(user, job.kind)
    if not scope_for(user).covers_path(job.area_path):
        raise NotFound(_("import job not found"))
    return job

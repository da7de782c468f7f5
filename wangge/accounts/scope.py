"""The one place that says what a user may see: area paths and departments.

Every selector in every app builds its filter from `scope_for(user)`; nothing else decides
visibility. Area paths are materialised (`430181/430181102/…/`, each ending in "/"), so "this area
and everything below it" is one prefix filter that an index serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from wangge.accounts.models import Role


@dataclass(frozen=True)
class Scope:
    """What one user may see. Empty scope sees nothing (never everything)."""

    area_paths: tuple[str, ...]
    department_ids: tuple[int, ...]
    is_global: bool = False
    read_only: bool = False
    role: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.is_global and not self.area_paths and not self.department_ids

    def area_q(self, field: str = "area_path") -> Q:
        """Rows whose area path lies under one of the scope's areas."""
        if self.is_global:
            return Q()
        if not self.area_paths:
            return Q(pk__in=[])
        q = Q()
        for path in self.area_paths:
            q |= Q(**{f"{field}__startswith": path})
        return q

    def department_q(self, field: str = "department_id") -> Q:
        if self.is_global:
            return Q()
        if not self.department_ids:
            return Q(pk__in=[])
        return Q(**{f"{field}__in": list(self.department_ids)})

    def covers_path(self, path: str) -> bool:
        """True when an area (by its path) is inside this scope."""
        if self.is_global:
            return True
        return any(path.startswith(p) for p in self.area_paths)

    def sees_ancestor_path(self, path: str) -> bool:
        """True when `path` is an ancestor of (or equal to) one of the scope's areas.

        Staff may see the names of the areas above them (their town, their city) so that a
        breadcrumb makes sense, never the households there.
        """
        if self.is_global:
            return True
        return any(p.startswith(path) for p in self.area_paths)

    def covers_department(self, department_id: int | None) -> bool:
        if self.is_global:
            return True
        return department_id is not None and department_id in self.department_ids


_EMPTY = Scope(area_paths=(), department_ids=())


def scope_for(user: Any) -> Scope:
    """The scope of a user, computed once per request (cached on the user object)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return _EMPTY
    cached = getattr(user, "_wangge_scope", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    if user.role == Role.INTEGRATION:
        scope = _key_scope(user)
    elif user.is_superuser:
        scope = Scope(area_paths=(), department_ids=(), is_global=True, role="superuser")
    else:
        paths: list[str] = []
        departments: list[int] = []
        # Two columns, no model instances: every staff request reads this, and an area row carries its boundary.
        for path, department_id in user.scopes.values_list("area__path", "department_id"):
            if path is not None:
                paths.append(path)
            if department_id is not None:
                departments.append(department_id)
        # An area inside another of the same user's areas adds nothing: keep the outer one.
        paths = sorted(set(paths))
        outer = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
        scope = Scope(
            area_paths=tuple(outer),
            department_ids=tuple(sorted(set(departments))),
            read_only=user.role == Role.AUDITOR,
            role=user.role,
        )
    user._wangge_scope = scope
    return scope


def _key_scope(account: Any) -> Scope:
    """An API key's service account sees the key's areas and departments; a revoked key sees nothing."""
    from wangge.accounts.models import ApiKey, KeyPermission

    key = getattr(account, "acting_key", None) or ApiKey.objects.filter(account=account).first()
    if key is None or key.revoked_at is not None:
        return _EMPTY
    paths = sorted({a.path for a in key.areas.all()})
    outer = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    writes = {KeyPermission.DEMANDS_CREATE, KeyPermission.OPEN311}
    return Scope(
        area_paths=tuple(outer),
        department_ids=tuple(sorted(d.pk for d in key.departments.all())),
        read_only=not writes.intersection(key.permissions or []),
        role=Role.INTEGRATION,
    )


def forget_scope(user: Any) -> None:
    """Drop the cached scope after the user's scope rows change."""
    if hasattr(user, "_wangge_scope"):
        del user._wangge_scope

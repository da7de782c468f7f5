"""Checks shared by the moves: who may act, problems in both languages, and the guarded state move."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import F, Model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.core.errors import Conflict, FieldProblem, PermissionDenied, ValidationFailed, render_both
from wangge.core.text import Listed, Said
from wangge.onestop.models import ApplicationTask
from wangge.registry.models import Area

# Roles that staff a service window: the town centre, the village point, the city hall.
WINDOW_ROLES = (Role.TOWN, Role.VILLAGE, Role.CITY_ADMIN)


def _check_window(user: Any, point: Area) -> None:
    scope = scope_for(user)
    if scope.read_only or not (scope.is_global or user.role in WINDOW_ROLES):
        raise PermissionDenied(_("only window staff may take applications"), field="point")
    if not scope.covers_path(point.path):
        raise PermissionDenied(_("this service point is outside your scope"), field="point")


def _check_department(user: Any, task: ApplicationTask) -> None:
    scope = scope_for(user)
    if scope.read_only or not scope.covers_department(task.department_id):
        raise PermissionDenied(_("only staff of the item's department may handle it"), field="department")


def _problem(code: str, message: Any, field: str, **params: Any) -> FieldProblem:
    """A problem whose two languages come from the catalogue, like the errors'."""
    zh, en = render_both(message, params)
    return FieldProblem(code, zh, en, field)


def _raise(problems: list[FieldProblem]) -> None:
    if not problems:
        return
    if len(problems) == 1:
        p = problems[0]
        raise ValidationFailed(p.zh, p.en, field=p.field, code=p.code, problems=problems)
    said = Listed([Said(p.zh, p.en) for p in problems], separator=pgettext_lazy("list separator", "; "))
    raise ValidationFailed(
        _("%(count)s things to correct: %(problems)s"),
        params={"count": len(problems), "problems": said},
        field=problems[0].field,
        problems=problems,
    )


def _move(obj: Model, states: Iterable[str], **changes: Any) -> None:
    """Apply a move only if nobody moved the row since it was read (state and version unchanged)."""
    model = type(obj)
    updated = model.objects.filter(pk=obj.pk, state__in=list(states), version=obj.version).update(  # type: ignore[attr-defined]
        version=F("version") + 1, **changes
    )
    if updated != 1:
        raise Conflict(_("someone else acted on this first or its state changed; reload and try again"), field="state")
    obj.refresh_from_db()

"""The console's batch dispatch: one `demand_dispatch` per demand, each in its own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from wangge.core.errors import NotFound, ValidationFailed, WanggeError
from wangge.registry.models import Department

# --- console: batch dispatch ----------------------------------------------------------------


@dataclass
class BatchResult:
    """The outcome for one demand of a batch."""

    demand_id: int
    code: str
    ok: bool
    message: str = ""


def demands_batch_dispatch(
    *, actor: Any, items: list[tuple[int, int | None]], department: Department | None, note: str = ""
) -> list[BatchResult]:
    """Dispatch several demands to one department: one `demand_dispatch` each, in its own transaction.

    Not atomic as a whole on purpose: a demand someone else moved meanwhile is reported as a
    conflict while the others are dispatched. Demands outside the actor's scope are "not found".
    """
    from wangge.demands import selectors as demand_selectors
    from wangge.demands import services as demand_services

    if not items:
        raise ValidationFailed(_("select at least one demand"), field="demands")
    if department is None:
        raise ValidationFailed(_("choose a department"), field="department")
    if len(items) > 200:
        raise ValidationFailed(_("at most 200 demands at once"), field="demands")
    ids = [pk for pk, _v in items]
    found = {d.pk: d for d in demand_selectors.demand_list(user=actor).filter(pk__in=ids)}
    results = []
    for pk, version in items:
        demand = found.get(pk)
        if demand is None:
            results.append(BatchResult(pk, "", False, str(NotFound(_("demand not found")))))
            continue
        try:
            demand_services.demand_dispatch(
                demand=demand, actor=actor, department=department, note=note, version=version
            )
        except WanggeError as exc:
            results.append(BatchResult(pk, demand.code, False, f"{exc.zh} / {exc.en}"))
        else:
            results.append(BatchResult(pk, demand.code, True))
    return results

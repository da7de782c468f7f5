"""协办 (co-handling): the holder adds assisting departments, each with its own task; each replies once.

The holder leads (a department holding the demand, or an area level that may dispatch: the table's
ASSIST row); assisting departments see the demand (`permissions.visible_q`) and never hold it. The
demand resolves only when every assistant has replied: the table refuses RESOLVE while a task is
open, and `require_assists_replied` names the departments that keep it from resolving.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.accounts.models import User
from wangge.core import clock
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.core.text import Listed, clean_text
from wangge.demands.models import Demand, DemandAssist
from wangge.demands.permissions import can_reply_assist
from wangge.demands.services._common import _reload, in_chinese
from wangge.demands.services.moves import _apply, _require_holder
from wangge.demands.services.notify import _holder_recipients, _staff_ids, _tell_staff
from wangge.demands.transitions import Move
from wangge.registry.models import Department

MAX_ASSIST_TEXT = 2000
TASK_LABEL = pgettext_lazy("demand field", "co-handling task")
REPLY_LABEL = pgettext_lazy("demand field", "co-handling reply")


def _replied(assist: DemandAssist) -> Conflict:
    return Conflict(
        _("%(department)s has already replied to this co-handling task"),
        params={"department": assist.department.name},
    )


def _department_recipients(department: Department) -> list[str]:
    ids = _staff_ids(department_id=department.pk)
    return [f"user:{i}" for i in ids] or [f"department:{department.code}"]


def require_assists_replied(demand: Demand) -> None:
    """Conflict naming the assisting departments that have not replied yet (the demand cannot resolve)."""
    names = list(
        DemandAssist.objects.filter(demand_id=demand.pk, replied_at__isnull=True)
        .order_by("assigned_at", "id")
        .values_list("department__name", flat=True)
    )
    if names:
        raise Conflict(
            _("Not every co-handling department has replied yet (waiting for %(departments)s)."),
            params={"departments": Listed(names)},
            code="assists_open",
        )


@transaction.atomic
def demand_assist_add(
    *, demand: Demand, actor: User, department: Department, task: str, version: int | None = None
) -> DemandAssist:
    """The holder adds an assisting department (协办单位) with its own task; its staff are pushed a message."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    if department is None or not isinstance(department, Department):
        raise ValidationFailed(_("choose a department"), field="department")
    if not department.is_active:
        raise ValidationFailed(_("this department is inactive"), field="department")
    if not demand.area_path.startswith(department.area_path):
        raise ValidationFailed(_("choose a department of this city"), field="department")
    if department.pk == demand.holder_department_id:
        raise ValidationFailed(_("the department leading this demand cannot also assist it"), field="department")
    if DemandAssist.objects.filter(demand=demand, department=department).exists():
        raise ValidationFailed(_("this department already assists this demand"), field="department")
    task = clean_text(task, field="task", label=TASK_LABEL, limit=MAX_ASSIST_TEXT, required=True)
    now = clock.now()
    demand, event = _apply(
        demand=demand,
        move=Move.ASSIST,
        actor=actor,
        version=version,
        note=in_chinese(_("%(department)s: %(task)s"), {"department": department.name, "task": task}),
        is_public=False,
    )
    try:
        with transaction.atomic():  # a savepoint: the unique (demand, department) backs the check above
            assist = DemandAssist.objects.create(
                demand=demand, department=department, task=task, assigned_by=actor, assigned_at=now
            )
    except IntegrityError:
        raise Conflict(_("this department already assists this demand")) from None
    _tell_staff(
        demand,
        _department_recipients(department),
        subject=in_chinese(_("Co-handling task %(code)s"), {"code": demand.code}),
        body=in_chinese(
            _("%(lead)s asks your department to help with “%(title)s” (%(code)s): %(task)s. Please reply on its page."),
            {"lead": demand.holder_label, "title": demand.title, "code": demand.code, "task": task[:80]},
        ),
        kind="assist",
        key=f"assist:{event.pk}",
    )
    return assist


@transaction.atomic
def demand_assist_reply(*, assist: DemandAssist, actor: User, reply: str) -> DemandAssist:
    """Staff of the assisting department reply once; the lead holder is told."""
    try:
        assist = DemandAssist.objects.select_related("department").get(pk=assist.pk)
    except DemandAssist.DoesNotExist:
        raise NotFound(_("co-handling task not found")) from None
    if not can_reply_assist(assist=assist, user=actor):
        raise PermissionDenied(
            _("only staff of %(department)s may reply to this co-handling task"),
            params={"department": assist.department.name},
            code="not_assistant",
        )
    if assist.replied_at is not None:
        raise _replied(assist)
    reply = clean_text(reply, field="reply", label=REPLY_LABEL, limit=MAX_ASSIST_TEXT, required=True)
    demand = _reload(assist.demand_id)
    now = clock.now()
    demand, event = _apply(
        demand=demand,
        move=Move.ASSIST_REPLY,
        actor=actor,
        note=in_chinese(_("%(department)s: %(task)s"), {"department": assist.department.name, "task": reply}),
        is_public=False,
        bump=False,
    )
    # Conditional: two colleagues replying at once give one reply and one Conflict (and no second event).
    updated = DemandAssist.objects.filter(pk=assist.pk, replied_at__isnull=True).update(
        reply=reply, replied_by=actor, replied_at=now
    )
    if not updated:
        raise _replied(assist)
    _tell_staff(
        demand,
        _holder_recipients(demand),
        subject=in_chinese(_("Co-handling reply %(code)s"), {"code": demand.code}),
        body=in_chinese(
            _("%(department)s replied on “%(title)s” (%(code)s): %(reply)s"),
            {"department": assist.department.name, "title": demand.title, "code": demand.code, "reply": reply[:80]},
        ),
        kind="assist_reply",
        key=f"assist_reply:{event.pk}",
    )
    assist.refresh_from_db()
    return assist

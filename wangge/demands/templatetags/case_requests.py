"""The 延期 / 挂起 panel of the staff demand page: the pending request, the forms the user may use now."""

from __future__ import annotations

from typing import Any

from django import template

from wangge.demands.forms.requests import DecideForm, ExtensionForm, ResumeForm, SuspensionForm
from wangge.demands.services.requests import current_suspension, pending_request, request_moves

register = template.Library()


@register.inclusion_tag("demands/partials/_case_requests.html", takes_context=True)
def case_requests_panel(context: Any) -> dict[str, Any]:
    demand = context["demand"]
    user = context["request"].user
    bound = context.get("case_forms") or {}
    can = request_moves(demand=demand, user=user)
    pending = pending_request(demand)

    def form(cls: Any) -> Any:
        return bound.get(cls.move) or cls(demand=demand)

    return {
        "demand": demand,
        "csrf_token": context.get("csrf_token"),
        "can": can,
        "pending": pending,
        "suspension": current_suspension(demand),
        "extend_form": form(ExtensionForm) if "extend" in can else None,
        "suspend_form": form(SuspensionForm) if "suspend" in can else None,
        "resume_form": form(ResumeForm) if "resume" in can else None,
        "decide_form": (bound.get("decide") or DecideForm()) if can & {"extend_approve", "suspend_approve"} else None,
        "past": list(demand.requests.exclude(state="pending").select_related("decided_by", "requested_by")[:10]),
    }

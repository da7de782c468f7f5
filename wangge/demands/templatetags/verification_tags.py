"""The verification panel (核查) of a demand's page and the link to the verifier's queue on landing pages."""

from __future__ import annotations

from typing import Any

from django import template

from wangge.demands import forms as f
from wangge.demands.models import Demand, State
from wangge.demands.permissions import can_verify
from wangge.demands.verify_queue import verifies, verify_queue

register = template.Library()


@register.inclusion_tag("demands/partials/_verification_panel.html", takes_context=True)
def verification_panel(context: Any) -> dict[str, Any]:
    """On a demand waiting for verification: the holder's result and photos, and the verifier's two forms."""
    demand: Demand = context["demand"]
    if demand.state != State.VERIFYING:
        return {"show": False}
    user = context["request"].user
    answer = demand.events.filter(action="resolve").order_by("-at", "-id").prefetch_related("attachments").first()
    forms: dict[str, Any] = {}
    if can_verify(demand=demand, user=user):
        bound = context.get("bound")
        for move, form_class in f.VERIFY_FORMS.items():
            forms[move] = bound if bound is not None and bound.move == move else form_class(demand=demand, user=user)
    return {
        "show": True,
        "demand": demand,
        "answer": answer,
        "answer_photos": list(answer.attachments.all()) if answer else [],
        "verify_form": forms.get("verify"),
        "back_form": forms.get("verify_back"),
        "bound_move": context.get("bound_move", ""),
        "csrf_token": context.get("csrf_token"),
        "max_photos": f.MAX_PHOTOS,
    }


@register.inclusion_tag("demands/partials/_verify_queue_link.html", takes_context=True)
def verify_queue_link(context: Any) -> dict[str, Any]:
    """ "待核查 (n)" for grid leaders and supervisors; nothing for the roles that never verify."""
    user = context["request"].user
    if not verifies(user):
        return {"show": False}
    return {"show": True, "count": verify_queue(user=user).count()}

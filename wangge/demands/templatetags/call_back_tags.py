"""The call-back desk's link on landing pages: "待回访 (n)", resolved demands of its areas nobody reached yet."""

from __future__ import annotations

from typing import Any

from django import template

from wangge.demands.permissions import calls_back
from wangge.demands.selectors import DemandFilter, demand_list

register = template.Library()


@register.inclusion_tag("demands/partials/_call_back_link.html", takes_context=True)
def call_back_link(context: Any) -> dict[str, Any]:
    """For call-back clerks and city administrators: the count and the list filtered to "to call back"."""
    user = context["request"].user
    if not calls_back(user):
        return {"show": False}
    return {"show": True, "count": demand_list(user=user, filters=DemandFilter(call_back=True)).count()}

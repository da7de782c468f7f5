"""The 督办/协办 panel of the staff demand page: `{% cohandling_panel demand %}` (one line in detail.html).

It reads what it shows itself (the user from the request), so the detail view needs no change: who
may urge (`permissions.can_urge`), when the user's level may urge again, the co-handling tasks, the
add form for a holder the table lets lead co-handling, a reply form for each task of the user's
departments, and why the holder cannot resolve yet.
"""

from __future__ import annotations

from typing import Any, cast

from django import template

from wangge.accounts.models import User
from wangge.demands import assist_selectors, permissions, services
from wangge.demands.forms.cohandling import AssistAddForm, AssistReplyForm, UrgeForm
from wangge.demands.models import OPEN_STATES, Demand
from wangge.demands.services.urging import urge_next_allowed

register = template.Library()


@register.inclusion_tag("demands/partials/_cohandling.html", takes_context=True)
def cohandling_panel(context: Any, demand: Demand) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    is_open = demand.state in OPEN_STATES
    can_urge = is_open and permissions.can_urge(demand=demand, user=user)
    assists = list(assist_selectors.demand_assists(demand=demand))
    holds = permissions.can_hold(demand=demand, user=user)
    can_add = holds and "assist" in services.demand_can(demand=demand, user=user)
    rows = [
        {
            "assist": a,
            "reply_form": AssistReplyForm()
            if a.replied_at is None and is_open and permissions.can_reply_assist(assist=a, user=user)
            else None,
        }
        for a in assists
    ]
    waiting = [a.department.name for a in assists if a.replied_at is None]
    return {
        "demand": demand,
        "csrf_token": context.get("csrf_token"),
        "can_urge": can_urge,
        "urge_form": UrgeForm() if can_urge else None,
        "urge_again_at": urge_next_allowed(demand=demand, actor=cast(User, user)) if can_urge else None,
        "rows": rows,
        "add_form": AssistAddForm(demand=demand) if can_add else None,
        "resolve_waits_for": waiting if holds and is_open else [],
    }

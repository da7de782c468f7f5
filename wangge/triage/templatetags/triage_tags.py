"""`{% hot_issues_panel %}`: the week's hot issues of the signed-in user, for any page (the dashboard)."""

from __future__ import annotations

from typing import Any

from django import template

from wangge.triage.selectors import hot_issues_for

register = template.Library()


@register.inclusion_tag("triage/partials/_hot_issues.html", takes_context=True)
def hot_issues_panel(context: template.Context, days: int = 7, top: int = 10) -> dict[str, Any]:
    """Scoped like the hot issues page: the request's user sees only their own areas."""
    request = context.get("request")
    user = getattr(request, "user", None)
    issues = hot_issues_for(user=user, days=days, top=top) if user is not None and user.is_authenticated else []
    return {"hot_issues": issues, "days": days}

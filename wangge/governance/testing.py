"""Factories for governance tests (and the scope walk): plain `make_<thing>(**overrides)` functions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from wangge.core import clock
from wangge.governance import services
from wangge.governance.models import GovernanceTopic
from wangge.registry.models import Area, Department


def make_topic(
    *,
    area: Area,
    department: Department,
    user: Any,
    demands: list[Any] = (),
    **overrides: Any,  # type: ignore[assignment]
) -> GovernanceTopic:
    data: dict[str, Any] = {
        "title": "公厕卫生治理",
        "due_on": clock.today_local() + dt.timedelta(days=30),
        "keywords": ["公厕"],
        "plan": "环卫所每日巡查两次，损坏设施一周内修复",
    }
    data.update(overrides)
    return services.topic_create_from_hot_issue(
        user=user, area=area, department=department, demand_ids=[d.pk for d in demands], **data
    )


def make_walk_world(*, town: Area, department: Department, user: Any, mark: str) -> dict[str, Any]:
    """A town's proposed topic (never public) whose staff-only progress note carries `mark`."""
    topic = make_topic(area=town, department=department, user=user, title="走查治理事项")
    services.topic_progress_add(user=user, topic=topic, note=mark + "内部进展", is_public=False)
    return {"topic": topic}

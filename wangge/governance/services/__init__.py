"""The only writers of governance topics (每月一题) and proactive tasks (未诉先办).

- `topics`: made from a hot issue, updated and activated, progress, closed, linked and unlinked
  demands, turned into a livelihood project (through the projects service);
- `proactive`: a topic's proactive tasks per grid, a repeatedly failing facility's task;
- `autolink`: the worker's pass linking new matching demands to active topics and telling their reporters.

Who may see and act is `wangge.governance.selectors` (`can_create`, `can_manage`, `topic_visible_q`).
"""

from __future__ import annotations

from dataclasses import dataclass

from wangge.governance.services.autolink import LinkReport, topic_autolink_pass, topic_tell_reporter
from wangge.governance.services.proactive import (
    Opened,
    facility_open_proactive_task,
    facility_proactive_pass,
    topic_open_proactive_tasks,
)
from wangge.governance.services.topics import (
    topic_close,
    topic_create_from_hot_issue,
    topic_link_demand,
    topic_progress_add,
    topic_to_project,
    topic_unlink_demand,
    topic_update,
)


@dataclass(frozen=True)
class PassReport:
    links: LinkReport
    facility_tasks: int

    def __str__(self) -> str:
        return f"{self.links}; facility proactive tasks {self.facility_tasks}"


def governance_pass() -> PassReport:
    """The worker's hook: link new demands to active topics, then open tasks for repeatedly failing facilities."""
    return PassReport(links=topic_autolink_pass(), facility_tasks=facility_proactive_pass())


__all__ = [
    "LinkReport",
    "Opened",
    "PassReport",
    "facility_open_proactive_task",
    "facility_proactive_pass",
    "governance_pass",
    "topic_autolink_pass",
    "topic_close",
    "topic_create_from_hot_issue",
    "topic_link_demand",
    "topic_open_proactive_tasks",
    "topic_progress_add",
    "topic_tell_reporter",
    "topic_to_project",
    "topic_unlink_demand",
    "topic_update",
]

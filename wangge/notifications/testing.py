"""Factories for tests in any app: plain `make_<thing>(**overrides)` functions."""

from __future__ import annotations

from typing import Any

from wangge.notifications.models import OutboxMessage
from wangge.notifications.services import outbox_enqueue


def make_message(**overrides: Any) -> OutboxMessage:
    """An enqueued message (through the real service) with sensible defaults."""
    data: dict[str, Any] = {
        "channel": "log",
        "recipient": "user:1",
        "subject": "诉求已受理",
        "body": "您反映的樟树枯死问题已由网格长受理。",
        "kind": "demand.accepted",
        "area_path": "430181/",
    }
    data.update(overrides)
    message = outbox_enqueue(**data)
    assert message is not None, "make_message: dedupe_key already used"
    return message

"""What the governance writers share: Chinese rendering of what is sent or filed, the permission checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from wangge.core.errors import PermissionDenied, render_both
from wangge.governance import selectors
from wangge.governance.models import GovernanceTopic


def told(message: Any, params: Mapping[str, Any] | None = None) -> str:
    """`message` in Chinese: demands filed and messages sent are written in Chinese."""
    return render_both(message, params or {})[0]


def require_manage(user: Any, topic: GovernanceTopic) -> None:
    if not selectors.can_manage(user, topic):
        raise PermissionDenied(
            _("only city or town staff over the topic's area, or its lead department, may change a topic")
        )

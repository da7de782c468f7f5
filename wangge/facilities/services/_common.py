"""How facility texts are worded: messages sent to people are in Chinese, inspectors named by level."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from wangge.core.errors import render_both
from wangge.core.text import Said
from wangge.facilities.models import DirectorLevel, FacilityDirector


def _told(message: Any, params: Mapping[str, Any]) -> str:
    """`message` in Chinese: demands filed, comments, notes and notifications are written in Chinese."""
    return render_both(message, params)[0]


def _inspector(director: FacilityDirector) -> Any:
    """The director's level and name ("保洁员李梅"), rendered in the language of the message around it."""
    params = {"level": DirectorLevel(director.level).label, "name": director.name}
    return Said(*render_both(_("%(level)s %(name)s"), params))

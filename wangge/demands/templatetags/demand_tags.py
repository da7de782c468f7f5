"""Labels and badges for demands on the pages (moves and states in the reader's language)."""

from __future__ import annotations

import re

from django import template

from wangge.demands.transitions import move_label as _move_label
from wangge.demands.transitions import move_verb

register = template.Library()

STATE_CLASSES = {
    "submitted": "warn",
    "escalated": "warn",
    "reopened": "bad",
    "in_progress": "",
    "resolved": "ok",
    "closed": "ok",
    "rejected": "bad",
    "merged": "",
    "verifying": "warn",  # resolved, waiting for the verifier (核查)
}


@register.filter
def move_label(action: str) -> str:
    return str(_move_label(action))


@register.filter
def move_action(move: str) -> str:
    return str(move_verb(move))


@register.filter
def state_class(state: str) -> str:
    return STATE_CLASSES.get(state, "")


@register.filter
def warning_class(warning: str) -> str:
    return {"yellow": "warn", "red": "bad"}.get(warning, "")


_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


@register.filter
def hide_phones(text: str) -> str:
    """Mask mobile numbers that a staff note may carry before it is shown on a public page."""
    return _PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text or "")

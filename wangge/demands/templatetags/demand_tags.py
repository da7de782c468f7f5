"""Labels and badges for demands on the pages (moves and states in the reader's language)."""

from __future__ import annotations

import re

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

MOVE_LABELS = {
    "submit": _("Submitted"),
    "accept": _("Accepted"),
    "resolve": _("Resolved"),
    "escalate": _("Escalated"),
    "auto_escalate": _("Escalated automatically (time limit passed)"),
    "dispatch": _("Dispatched to a department"),
    "return_": _("Returned to a lower level"),
    "reassign": _("Reassigned"),
    "reject": _("Rejected"),
    "merge": _("Merged into another demand"),
    "reopen": _("Reopened"),
    "rate": _("Rated"),
    "comment": _("Comment"),
    "add_info": _("Information added"),
    "close": _("Closed"),
    "warn": _("Time-limit warning"),
    "follow": _("Followed by a resident with the same problem"),
    "recategorise": _("Category decided"),
}

# Button captions on the staff detail page, one per move form.
MOVE_ACTIONS = {
    "accept": _("Accept"),
    "resolve": _("Resolve"),
    "escalate": _("Escalate one level up"),
    "dispatch": _("Dispatch to a department"),
    "return_": _("Return to a lower level"),
    "reassign": _("Reassign to a colleague"),
    "reject": _("Reject"),
    "merge": _("Merge into another demand"),
    "comment": _("Add a comment"),
}

STATE_CLASSES = {
    "submitted": "warn",
    "escalated": "warn",
    "reopened": "bad",
    "in_progress": "",
    "resolved": "ok",
    "closed": "ok",
    "rejected": "bad",
    "merged": "",
}


@register.filter
def move_label(action: str) -> str:
    return str(MOVE_LABELS.get(action, action))


@register.filter
def move_action(move: str) -> str:
    return str(MOVE_ACTIONS.get(move, move))


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

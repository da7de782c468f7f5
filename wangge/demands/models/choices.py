"""The closed sets of a demand's life: kinds, channels, states and their groups, ratings, requests."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """Kinds of demand as on the national 12345 hotline (Tianjin adds praise)."""

    CONSULTATION = "consultation", _("Consultation")
    HELP = "help", _("Request for help")
    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Report")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")


class Channel(models.TextChoices):
    """How a demand came in; every channel goes through the one intake service."""

    RESIDENT_WEB = "resident_web", _("Resident page")
    WECHAT_GROUP = "wechat_group", _("WeChat group")
    WECHAT = "wechat", _("WeChat official account")
    VISIT = "visit", _("Household visit")
    HOTLINE = "hotline", _("Hotline")
    INSPECTION = "inspection", _("Inspection")
    API = "api", _("API")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class State(models.TextChoices):
    """The closed set of states (docs/glossary.md); moves between them live in transitions.py."""

    SUBMITTED = "submitted", _("Submitted")
    IN_PROGRESS = "in_progress", _("In progress")
    ESCALATED = "escalated", _("Escalated")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    MERGED = "merged", _("Merged")
    REOPENED = "reopened", _("Reopened")
    # The clock stops: waiting on something outside anyone's control (挂起), approved by the level above.
    SUSPENDED = "suspended", _("Suspended")
    # Resolved in a category that needs verification (核查): waits for a verifier to confirm on site.
    VERIFYING = "verifying", _("Awaiting verification")


# Open: someone must still act (accept or resolve). The sweep indexes cover exactly these.
OPEN_STATES: tuple[str, ...] = (State.SUBMITTED, State.IN_PROGRESS, State.ESCALATED, State.REOPENED)
# Waiting for the current holder to accept (the limit to accept runs).
WAITING_STATES: tuple[str, ...] = (State.SUBMITTED, State.ESCALATED, State.REOPENED)
FINAL_STATES: tuple[str, ...] = (State.CLOSED, State.REJECTED, State.MERGED)
# Not finished, but no holder's clock runs: suspended (挂起) or waiting for the verifier (核查).
PAUSED_STATES: tuple[str, ...] = (State.SUSPENDED, State.VERIFYING)
# Every state someone must still act on: queues and "not finished" counts use this, the sweep OPEN_STATES.
UNFINISHED_STATES: tuple[str, ...] = OPEN_STATES + PAUSED_STATES


class WarningLevel(models.TextChoices):
    NONE = "none", _("None")
    YELLOW = "yellow", _("Yellow: near the limit")
    RED = "red", _("Red: past the limit")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class ResolveUnit(models.TextChoices):
    HOURS = "hours", _("Hours")
    WORKING_DAYS = "working_days", _("Working days")


class ActorKind(models.TextChoices):
    STAFF = "staff", _("Staff")
    RESIDENT = "resident", _("Resident")
    SYSTEM = "system", _("System")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    STAFF = "staff", _("Staff only")


# Channels whose residents did not file on the resident page: they may never open the tracking link to
# rate, so a resolved demand of theirs is called back (回访) by phone.
CALL_BACK_CHANNELS: tuple[str, ...] = tuple(c for c in Channel.values if c != Channel.RESIDENT_WEB)


class RequestKind(models.TextChoices):
    EXTENSION = "extension", _("Extension")
    SUSPENSION = "suspension", _("Suspension")


class RequestState(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")

"""The one table of moves: which move is allowed in which state for which holder, and where it leads.

No database access here (tested on its own with a hypothesis state machine). Services ask
`allowed_moves` before acting and `next_state` for the target, then apply the move with a
conditional UPDATE on state and version.

Holder kinds: the level of the holding area ("grid", "branch", "village", "town", "city") or
"department" when a department holds the demand (dispatched by an area level that it can
return the demand to).
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Move(StrEnum):
    SUBMIT = "submit"
    ACCEPT = "accept"
    RESOLVE = "resolve"
    ESCALATE = "escalate"
    DISPATCH = "dispatch"
    RETURN = "return_"
    REASSIGN = "reassign"
    REJECT = "reject"
    MERGE = "merge"
    REOPEN = "reopen"
    RATE = "rate"
    COMMENT = "comment"
    ADD_INFO = "add_info"
    CLOSE = "close"
    AUTO_ESCALATE = "auto_escalate"
    WARN = "warn"
    # The rulebook of a service centre: extension (延期) and suspension (挂起) asked by the holder and
    # decided by the level above, urging (督办/催办) from any level above, co-handling (协办) by
    # assisting departments, and verification (核查) before a resolved demand counts as resolved.
    EXTEND = "extend"
    EXTEND_APPROVE = "extend_approve"
    EXTEND_REFUSE = "extend_refuse"
    SUSPEND = "suspend"
    SUSPEND_APPROVE = "suspend_approve"
    SUSPEND_REFUSE = "suspend_refuse"
    RESUME = "resume"
    URGE = "urge"
    ASSIST = "assist"
    ASSIST_REPLY = "assist_reply"
    VERIFY = "verify"
    VERIFY_BACK = "verify_back"


# What the timeline calls each event, by `DemandEvent.action` (moves, and the notes that move nothing).
MOVE_LABELS: dict[str, Promise] = {
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
    "calendar_gap": _("Time limits counted without a holiday calendar"),
    "call_back": _("Called back"),
    "extend": _("Extension requested"),
    "extend_approve": _("Extension approved"),
    "extend_refuse": _("Extension refused"),
    "suspend": _("Suspension requested"),
    "suspend_approve": _("Suspended (clock stopped)"),
    "suspend_refuse": _("Suspension refused"),
    "resume": _("Resumed (clock running again)"),
    "urge": _("Urged by a higher level"),
    "assist": _("Co-handling department added"),
    "assist_reply": _("Co-handling department replied"),
    "verify": _("Verified on site"),
    "verify_back": _("Sent back by the verifier"),
    "publish": _("Public text approved"),
    "unpublish": _("Not published"),
    "verify_overdue": _("Verification overdue: the verifiers were reminded"),
}

# Each move as a verb: the buttons on the staff page, and "cannot <verb> now" in errors.
MOVE_VERBS: dict[str, Promise] = {
    "submit": _("Submit"),
    "accept": _("Accept"),
    "resolve": _("Resolve"),
    "escalate": _("Escalate one level up"),
    "dispatch": _("Dispatch to a department"),
    "return_": _("Return to a lower level"),
    "reassign": _("Reassign to a colleague"),
    "reject": _("Reject"),
    "merge": _("Merge into another demand"),
    "reopen": _("Reopen"),
    "rate": _("Rate"),
    "comment": _("Add a comment"),
    "add_info": _("Add information"),
    "close": _("Close"),
    "auto_escalate": _("Escalate automatically"),
    "warn": _("Raise a time-limit warning"),
    "call_back": _("Record a call back"),
    "extend": _("Ask for an extension"),
    "extend_approve": _("Approve the extension"),
    "extend_refuse": _("Refuse the extension"),
    "suspend": _("Ask to suspend"),
    "suspend_approve": _("Approve the suspension"),
    "suspend_refuse": _("Refuse the suspension"),
    "resume": _("Resume"),
    "urge": _("Urge"),
    "assist": _("Add a co-handling department"),
    "assist_reply": _("Reply as co-handling department"),
    "verify": _("Confirm on site"),
    "verify_back": _("Send back to the holder"),
}


def move_label(action: str) -> str | Promise:
    """The timeline's name of an event action (the action itself when it has none)."""
    return MOVE_LABELS.get(action, action)


def move_verb(move: str) -> str | Promise:
    """A move as a verb (the move's value when it has none)."""
    return MOVE_VERBS.get(str(move), str(move))


class IllegalMove(ValueError):
    """A move that the table does not allow in this state for this holder."""


SUBMITTED, IN_PROGRESS, ESCALATED, RESOLVED = "submitted", "in_progress", "escalated", "resolved"
CLOSED, REJECTED, MERGED, REOPENED = "closed", "rejected", "merged", "reopened"
SUSPENDED, VERIFYING = "suspended", "verifying"
STATES: frozenset[str] = frozenset(
    {SUBMITTED, IN_PROGRESS, ESCALATED, RESOLVED, CLOSED, REJECTED, MERGED, REOPENED, SUSPENDED, VERIFYING}
)
WAITING: frozenset[str] = frozenset({SUBMITTED, ESCALATED, REOPENED})  # the holder has not accepted yet
OPEN: frozenset[str] = WAITING | {IN_PROGRESS}
FINAL: frozenset[str] = frozenset({CLOSED, REJECTED, MERGED})

LEVELS: tuple[str, ...] = ("grid", "branch", "village", "town", "city")  # bottom to top
DEPARTMENT = "department"
HOLDER_KINDS: tuple[str, ...] = (*LEVELS, DEPARTMENT)
# Levels that may still climb one step, that may dispatch, and that have a lower level to return to.
CAN_ESCALATE: frozenset[str] = frozenset({"grid", "branch", "village", "town"})
CAN_DISPATCH: frozenset[str] = frozenset({"branch", "village", "town", "city"})
CAN_RETURN: frozenset[str] = frozenset({"branch", "village", "town", "city", DEPARTMENT})
AREA_ONLY: frozenset[str] = frozenset(LEVELS)

# Moves made by a staff member holding the demand (the rest are the resident's, the system's, or made by
# staff who do not hold it: the approver above, an urging level, an assisting department, the verifier).
STAFF_MOVES: frozenset[Move] = frozenset(
    {
        Move.ACCEPT,
        Move.RESOLVE,
        Move.ESCALATE,
        Move.DISPATCH,
        Move.RETURN,
        Move.REASSIGN,
        Move.REJECT,
        Move.MERGE,
        Move.EXTEND,
        Move.SUSPEND,
        Move.RESUME,
        Move.ASSIST,
    }
)
# Moves made by staff who do not hold the demand; `demands.permissions` says who may make each.
OTHER_STAFF_MOVES: frozenset[Move] = frozenset(
    {
        Move.EXTEND_APPROVE,
        Move.EXTEND_REFUSE,
        Move.SUSPEND_APPROVE,
        Move.SUSPEND_REFUSE,
        Move.URGE,
        Move.ASSIST_REPLY,
        Move.VERIFY,
        Move.VERIFY_BACK,
    }
)
# Moves that change neither state nor holder, so they do not bump the version (no false conflicts).
NOTE_MOVES: frozenset[Move] = frozenset({Move.COMMENT, Move.ADD_INFO, Move.URGE, Move.ASSIST_REPLY})
# Moves that leave the state as it is (requests, decisions that refuse, notes).
KEEP_STATE: frozenset[Move] = frozenset(
    {
        Move.COMMENT,
        Move.ADD_INFO,
        Move.WARN,
        Move.REASSIGN,
        Move.EXTEND,
        Move.EXTEND_APPROVE,
        Move.EXTEND_REFUSE,
        Move.SUSPEND,
        Move.SUSPEND_REFUSE,
        Move.URGE,
        Move.ASSIST,
        Move.ASSIST_REPLY,
    }
)


def allowed_moves(
    state: str, holder_kind: str, *, grid_dispatch: bool = False, assists_open: bool = False
) -> set[Move]:
    """Every move the table allows now (who may make it is the services' business).

    Facts: `grid_dispatch` (the category lets a grid leader dispatch straight to a department, 网格直派),
    `assists_open` (an assisting department has not replied yet: the demand cannot be resolved, 协办).
    """
    if state not in STATES:
        raise IllegalMove(f"unknown state {state!r}")
    if holder_kind not in HOLDER_KINDS:
        raise IllegalMove(f"unknown holder kind {holder_kind!r}")
    moves: set[Move] = {Move.COMMENT}
    if state in OPEN:
        moves |= {Move.RESOLVE, Move.REASSIGN, Move.REJECT, Move.ADD_INFO, Move.WARN, Move.URGE, Move.ASSIST_REPLY}
        if assists_open:
            moves.discard(Move.RESOLVE)
        if state in WAITING:
            moves.add(Move.ACCEPT)
        if state == IN_PROGRESS:
            # Asked of, and decided by, the level above; only an accepted demand has a holder's clock to move.
            moves |= {Move.EXTEND, Move.EXTEND_APPROVE, Move.EXTEND_REFUSE}
            moves |= {Move.SUSPEND, Move.SUSPEND_APPROVE, Move.SUSPEND_REFUSE}
        if holder_kind in CAN_ESCALATE:
            moves.add(Move.ESCALATE)
            if state in WAITING:
                moves.add(Move.AUTO_ESCALATE)
        if holder_kind in CAN_DISPATCH or (holder_kind == "grid" and grid_dispatch):
            moves.add(Move.DISPATCH)
        if holder_kind in CAN_DISPATCH or holder_kind == DEPARTMENT:
            moves.add(Move.ASSIST)
        if holder_kind in CAN_RETURN:
            moves.add(Move.RETURN)
        if holder_kind in AREA_ONLY:
            moves.add(Move.MERGE)
    elif state == SUSPENDED:
        moves |= {Move.RESUME, Move.ADD_INFO}
    elif state == VERIFYING:
        moves |= {Move.VERIFY, Move.VERIFY_BACK, Move.ADD_INFO}
    elif state == RESOLVED:
        moves |= {Move.RATE, Move.REOPEN, Move.CLOSE, Move.ADD_INFO}
    return moves


def next_state(
    state: str,
    move: Move | str,
    *,
    holder_kind: str = "grid",
    satisfied: bool | None = None,
    needs_verification: bool = False,
    grid_dispatch: bool = False,
    assists_open: bool = False,
) -> str:
    """The state a move leads to; `IllegalMove` when the table does not allow it.

    Facts: `holder_kind` (a department's reject sends the demand back to its dispatcher instead of
    ending it), `satisfied` for a rating (unsatisfied reopens it with the same holder),
    `needs_verification` (the category's resolved demands wait for a verifier, 核查), and the facts of
    `allowed_moves`.
    """
    move = Move(move)
    if move == Move.SUBMIT:
        if state != "":
            raise IllegalMove("a demand is submitted once")
        return SUBMITTED
    if move not in allowed_moves(state, holder_kind, grid_dispatch=grid_dispatch, assists_open=assists_open):
        raise IllegalMove(f"{move.value} is not allowed in {state} for a {holder_kind} holder")
    if move in KEEP_STATE:
        return state
    if move == Move.ACCEPT:
        return IN_PROGRESS
    if move == Move.RESOLVE:
        return VERIFYING if needs_verification else RESOLVED
    if move == Move.SUSPEND_APPROVE:
        return SUSPENDED
    if move in (Move.RESUME, Move.VERIFY_BACK):
        return IN_PROGRESS  # the same holder works on again (with the verifier's reason, after a send-back)
    if move == Move.VERIFY:
        return RESOLVED
    if move in (Move.ESCALATE, Move.AUTO_ESCALATE, Move.DISPATCH):
        return ESCALATED  # a new holder must accept it
    if move == Move.RETURN:
        return IN_PROGRESS  # the lower level works on it with the instructions given
    if move == Move.REJECT:
        # A department that refuses a dispatched demand sends it back; an area level ends it.
        return ESCALATED if holder_kind == DEPARTMENT else REJECTED
    if move == Move.MERGE:
        return MERGED
    if move == Move.REOPEN:
        return REOPENED
    if move == Move.RATE:
        if satisfied is None:
            raise IllegalMove("a rating needs the fact 'satisfied'")
        return CLOSED if satisfied else REOPENED
    if move == Move.CLOSE:
        return CLOSED
    raise IllegalMove(f"no rule for {move.value}")  # pragma: no cover - every Move is handled above

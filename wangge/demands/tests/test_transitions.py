"""The table of moves on its own (no database): a hypothesis state machine plays random lives."""

from __future__ import annotations

import pytest
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from wangge.demands import transitions as t
from wangge.demands.transitions import IllegalMove, Move, allowed_moves, next_state

ALL_MOVES = [m for m in Move if m != Move.SUBMIT]


class DemandLife(RuleBasedStateMachine):
    """A model of one demand: state and holder kind, moved only through the table."""

    def __init__(self) -> None:
        super().__init__()
        self.state = next_state("", Move.SUBMIT)
        self.holder = "grid"
        self.dispatcher: str | None = None
        self.history: list[str] = [self.state]

    @rule(
        move=st.sampled_from(ALL_MOVES),
        satisfied=st.booleans(),
        verify=st.booleans(),
        grid_dispatch=st.booleans(),
        assists_open=st.booleans(),
    )
    def try_move(self, move: Move, satisfied: bool, verify: bool, grid_dispatch: bool, assists_open: bool) -> None:
        table_facts = {"grid_dispatch": grid_dispatch, "assists_open": assists_open}
        allowed = allowed_moves(self.state, self.holder, **table_facts)
        facts: dict[str, bool] = {**table_facts, "needs_verification": verify}
        if move == Move.RATE:
            facts["satisfied"] = satisfied
        if move == Move.RESOLVE:
            assert (move in allowed) == (self.state in t.OPEN and not assists_open)
        if move not in allowed:
            with pytest.raises(IllegalMove):
                next_state(self.state, move, holder_kind=self.holder, **facts)
            return
        new = next_state(self.state, move, holder_kind=self.holder, **facts)
        assert new in t.STATES
        if move == Move.RESOLVE:
            assert new == (t.VERIFYING if verify else t.RESOLVED)
        # Mirror what the services do with the holder, so the model explores real paths.
        if move in (Move.ESCALATE, Move.AUTO_ESCALATE):
            self.holder = t.LEVELS[t.LEVELS.index(self.holder) + 1]
        elif move == Move.DISPATCH:
            self.dispatcher, self.holder = self.holder, t.DEPARTMENT
        elif move == Move.RETURN:
            if self.holder == t.DEPARTMENT:
                self.holder = self.dispatcher or "village"
            else:
                self.holder = t.LEVELS[t.LEVELS.index(self.holder) - 1]
        elif move == Move.REJECT and self.holder == t.DEPARTMENT:
            self.holder = self.dispatcher or "village"
        self.state = new
        self.history.append(new)

    @precondition(lambda self: self.state == t.RESOLVED)
    @rule()
    def unsatisfied_reopens_to_same_holder(self) -> None:
        holder = self.holder
        self.state = next_state(self.state, Move.RATE, holder_kind=holder, satisfied=False)
        assert self.state == t.REOPENED and self.holder == holder

    @invariant()
    def final_states_take_only_comments(self) -> None:
        if self.state in t.FINAL:
            assert allowed_moves(self.state, self.holder) == {Move.COMMENT}

    @invariant()
    def paused_states_cannot_be_resolved_or_moved_on(self) -> None:
        if self.state in (t.SUSPENDED, t.VERIFYING):
            moves = allowed_moves(self.state, self.holder, grid_dispatch=True)
            assert not moves & {Move.RESOLVE, Move.ESCALATE, Move.DISPATCH, Move.AUTO_ESCALATE, Move.ACCEPT}

    @invariant()
    def requests_only_on_an_accepted_demand(self) -> None:
        moves = allowed_moves(self.state, self.holder)
        assert (Move.EXTEND in moves) == (Move.SUSPEND in moves) == (self.state == t.IN_PROGRESS)

    @invariant()
    def holder_is_known(self) -> None:
        assert self.holder in t.HOLDER_KINDS

    @invariant()
    def only_waiting_can_be_accepted(self) -> None:
        assert (Move.ACCEPT in allowed_moves(self.state, self.holder)) == (self.state in t.WAITING)

    @invariant()
    def the_top_never_escalates(self) -> None:
        if self.holder in ("city", t.DEPARTMENT):
            assert Move.ESCALATE not in allowed_moves(self.state, self.holder)
            assert Move.AUTO_ESCALATE not in allowed_moves(self.state, self.holder)

    @invariant()
    def a_grid_neither_dispatches_nor_returns(self) -> None:
        if self.holder == "grid":
            moves = allowed_moves(self.state, self.holder)
            assert Move.DISPATCH not in moves and Move.RETURN not in moves
            # 网格直派: only a category that allows it lets the grid dispatch (never return).
            direct = allowed_moves(self.state, self.holder, grid_dispatch=True)
            assert (Move.DISPATCH in direct) == (self.state in t.OPEN) and Move.RETURN not in direct


TestDemandLife = DemandLife.TestCase
TestDemandLife.settings = hsettings(max_examples=150, stateful_step_count=30, deadline=None)


def test_reference_story_is_allowed() -> None:
    s = next_state("", Move.SUBMIT)
    s = next_state(s, Move.ACCEPT, holder_kind="grid")
    s = next_state(s, Move.ESCALATE, holder_kind="grid")
    assert s == t.ESCALATED
    s = next_state(s, Move.ACCEPT, holder_kind="branch")
    s = next_state(s, Move.ESCALATE, holder_kind="branch")
    s = next_state(s, Move.DISPATCH, holder_kind="village")
    s = next_state(s, Move.ACCEPT, holder_kind="department")
    s = next_state(s, Move.RESOLVE, holder_kind="department")
    assert next_state(s, Move.RATE, holder_kind="department", satisfied=True) == t.CLOSED


def test_department_reject_sends_back_but_area_reject_ends() -> None:
    assert next_state(t.IN_PROGRESS, Move.REJECT, holder_kind="department") == t.ESCALATED
    assert next_state(t.IN_PROGRESS, Move.REJECT, holder_kind="village") == t.REJECTED


def test_rating_needs_the_fact_and_a_resolved_demand() -> None:
    with pytest.raises(IllegalMove):
        next_state(t.RESOLVED, Move.RATE)
    with pytest.raises(IllegalMove):
        next_state(t.IN_PROGRESS, Move.RATE, satisfied=True)
    with pytest.raises(IllegalMove):
        next_state(t.SUBMITTED, Move.SUBMIT)


def test_unknown_state_or_holder_is_refused() -> None:
    with pytest.raises(IllegalMove):
        allowed_moves("lost", "grid")
    with pytest.raises(IllegalMove):
        allowed_moves(t.SUBMITTED, "province")


def test_case_rules_story() -> None:
    """延期, 挂起 and 核查 as a service centre plays them: none of them skips the holder's work."""
    s = t.IN_PROGRESS
    assert next_state(s, Move.EXTEND, holder_kind="department") == t.IN_PROGRESS
    assert next_state(s, Move.EXTEND_APPROVE, holder_kind="department") == t.IN_PROGRESS
    s = next_state(s, Move.SUSPEND_APPROVE, holder_kind="department")
    assert s == t.SUSPENDED
    with pytest.raises(IllegalMove):
        next_state(s, Move.RESOLVE, holder_kind="department")
    s = next_state(s, Move.RESUME, holder_kind="department")
    assert s == t.IN_PROGRESS
    with pytest.raises(IllegalMove):
        next_state(s, Move.RESOLVE, holder_kind="department", assists_open=True)
    s = next_state(s, Move.RESOLVE, holder_kind="department", needs_verification=True)
    assert s == t.VERIFYING
    s = next_state(s, Move.VERIFY_BACK, holder_kind="department")
    assert s == t.IN_PROGRESS
    s = next_state(s, Move.RESOLVE, holder_kind="department", needs_verification=True)
    assert next_state(s, Move.VERIFY, holder_kind="department") == t.RESOLVED

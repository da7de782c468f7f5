"""What each measure of the dashboards means, written once as data (docs/measures.md).

`MEASURES` is read by the cards' `?` tooltips, the reports and `manage.py measures_doc`, which
writes docs/measures.md from it (a test fails when the file is not what the command writes). The
counters themselves are computed one demand at a time by `measures.demand_facts`; this module
only says, in Chinese and English, what they count.

The practice followed (12345 hotlines and 数字城管 case evaluation): 办结 is the holder's answer
(resolving, also into verification 核查, which is the closing check and not the holder's time);
the case's deadline (总办结时限, `Demand.case_due_at`) is set at intake and moved only by approved
extensions (延期) and suspensions (挂起), never by a hand-over; 解决率 and 满意率 take the first
answer of the resident (the rating) or of a reached call back (回访); times are working time
(opening hours of working days on the county's calendar).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Measure:
    """One figure: a rate (numerator ÷ denominator), a count (a counter or a sum) or a time (a histogram)."""

    key: str
    zh: str  # the Chinese name as the city says it (the page shows `name`, translated)
    name: Promise
    kind: str  # "rate", "count" or "time"
    numerator: str  # the counter (or sum, or histogram) read
    denominator: str  # the counter divided by (rates only)
    which: Promise  # which demands are counted
    formula: Promise  # numerator and denominator in words
    higher_is_better: bool = True
    card: bool = True  # shown as a card of its own (the rated share is shown on the satisfaction card)


MEASURES: tuple[Measure, ...] = (
    Measure(
        "received",
        "受理数",
        _("Received"),
        "count",
        "received",
        "",
        _("Demands received in the period (by the day they were filed), whatever became of them."),
        _("Count of demands received."),
    ),
    Measure(
        "resolved",
        "办结数",
        _("Resolved"),
        "count",
        "answered",
        "",
        _("Demands received in the period whose holder has resolved them (also those awaiting verification)."),
        _("Count of demands resolved by the holder, now resolved, awaiting verification or closed."),
    ),
    Measure(
        "response_rate",
        "响应率",
        _("Response rate"),
        "rate",
        "responded_on_time",
        "response_due",
        _("Demands accepted, or whose limit to accept has passed while they waited."),
        _("Accepted in time for the first time (never escalated automatically before) ÷ demands due to be accepted."),
    ),
    Measure(
        "ontime_rate",
        "按期办结率",
        _("On-time resolution"),
        "rate",
        "resolved_on_time",
        "ontime_due",
        _(
            "Demands resolved by the holder, and demands still being handled past their case deadline; "
            "a suspended demand is not late while suspended."
        ),
        _(
            "Resolved by the case deadline set at intake (moved only by approved extensions and suspensions, "
            "never by a hand-over) ÷ demands resolved or late."
        ),
    ),
    Measure(
        "resolution_rate",
        "解决率",
        _("Resolution rate"),
        "rate",
        "solved",
        "asked_solved",
        _("Demands on which someone answered 'is it solved?': the resident with the rating, or a reached call back."),
        _("The first such answer is 'solved' ÷ demands with an answer."),
    ),
    Measure(
        "satisfaction_rate",
        "满意率",
        _("Satisfaction"),
        "rate",
        "satisfied",
        "rated",
        _("Demands rated by the resident or called back (reached), the first answer of each."),
        _("First answer satisfied or basically satisfied ÷ demands with an answer."),
    ),
    Measure(
        "rated_share",
        "参评率",
        _("Rated share"),
        "rate",
        "rated",
        "resolved_ever",
        _("Demands resolved at least once (also those reopened since)."),
        _("Demands rated or called back ÷ demands resolved at least once."),
        card=False,
    ),
    Measure(
        "reopen_rate",
        "返工率",
        _("Rework rate"),
        "rate",
        "reworked",
        "resolved_ever",
        _("Demands resolved at least once (also those reopened since)."),
        _(
            "Reopened (an unsatisfied or unsolved answer) or sent back by the verifier at least once "
            "÷ resolved at least once."
        ),
        higher_is_better=False,
    ),
    Measure(
        "return_rate",
        "回退率",
        _("Return rate"),
        "rate",
        "returned",
        "handed_on",
        _("Demands escalated or dispatched at least once."),
        _("Sent back down at least once (a return, or a department's refusal) ÷ handed on at least once."),
        higher_is_better=False,
    ),
    Measure(
        "local_rate",
        "就地解决率",
        _("Local resolution"),
        "rate",
        "local",
        "resolved",
        _("Demands resolved or closed (after verification, when their category needs it)."),
        _(
            "Resolved without leaving the level where they were filed (never escalated above it, never dispatched) "
            "÷ resolved."
        ),
    ),
    Measure(
        "extension_rate",
        "延期率",
        _("Extension rate"),
        "rate",
        "extended",
        "handled",
        _("Demands taken up for handling: every demand received except those rejected or merged."),
        _("With at least one approved extension ÷ demands handled."),
        higher_is_better=False,
    ),
    Measure(
        "urges",
        "督办数",
        _("Urges"),
        "count",
        "urges",
        "",
        _("Demands received in the period; each urge (督办) by a level above counts once."),
        _("Sum of the urges on these demands."),
        higher_is_better=False,
    ),
    Measure(
        "accept_time",
        "响应时长",
        _("Time to accept"),
        "time",
        "accept_hist",
        "",
        _("Demands accepted at least once."),
        _("Working time from filing to the first acceptance: median and 90th percentile."),
        higher_is_better=False,
    ),
    Measure(
        "resolve_time",
        "办结时长",
        _("Time to resolve"),
        "time",
        "resolve_hist",
        "",
        _("Demands resolved by the holder (as counted in 'Resolved')."),
        _("Working time from filing to the holder's resolution: median and 90th percentile."),
        higher_is_better=False,
    ),
)
BY_KEY: dict[str, Measure] = {m.key: m for m in MEASURES}
# (name, numerator, denominator) of each rate, in the order of MEASURES.
RATES: tuple[tuple[str, str, str], ...] = tuple(
    (m.key, m.numerator, m.denominator) for m in MEASURES if m.kind == "rate"
)
HIGHER_IS_BETTER: dict[str, bool] = {m.key: m.higher_is_better for m in MEASURES}

"""Write docs/measures.md from `wangge.dashboards.definitions.MEASURES` (or check that it is current)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from wangge.dashboards.definitions import MEASURES, Measure

HEAD = """# What the city measures (measures.md)

<!-- Written by `manage.py measures_doc` from wangge/dashboards/definitions.py: edit the definitions,
then run the command; a test fails when this file is not what the command writes. -->

Every figure is about the demands **received** in the period (by the local day they were filed), in
an area (its own demands and those of every area below it) or dispatched to a department, **as they
stand now**. Each demand adds 0 or 1 to each counter (its urges and working seconds to the sums), so
figures add up exactly over days, areas and categories; a rate is one counter divided by another,
"—" when nothing is to divide. The cards of the dashboard show the same text behind their `?`.

The practice followed is that of the 12345 hotlines and of 数字城管 case evaluation:

- 办结 (resolved) is the holder's answer: resolving counts, also into verification (核查), which is
  the closing check and not the holder's time. `resolved` (the counter of 就地解决率) counts only the
  demands resolved or closed after verification; `answered` counts those awaiting it too.
- The case deadline (总办结时限, `Demand.case_due_at`) is set at intake as the first limit to resolve
  and is moved only by approved extensions (延期) and suspensions (挂起); a hand-over restarts the
  holder's own limit (`resolve_due_at`, which 超时 overdue follows) but never the case deadline.
  Old demands without one are measured against `resolve_due_at`.
- 解决率 and 满意率 take the **first** answer: the resident's (with the first rating) or a reached
  call back's (回访), whichever came first; a later answer never replaces it.
- 延期率 divides by the demands handled (received, not rejected or merged), as 数字城管 divides
  extended cases by the cases dispatched.
- Times are working time: the opening hours (DEMAND_WORKDAY_START–END) of working days on the
  county's holiday calendar, from filing to the first acceptance and to the holder's resolution;
  the median and 90th percentile are read from histograms (each within 7.5 % of the true value).

"""

TAIL = """
## Rollups and their rebuild

The worker keeps one rollup row per day, area (or department) and category with every counter
(`DemandRollup`, written by `services.rollups`). Each demand's counters are kept in its
`DemandFacts` row; a refresh recomputes the facts of the demands that changed (a new event, or a
limit passed by time alone) and regroups only the rollup rows those demands fall in, before and
after the change, with one `INSERT … SELECT … GROUP BY … ON CONFLICT` per level and cut. A micro-grid
keeps no rollup rows: it has a demand on few days, so its rows would be about one a demand, and its
figures are grouped from its facts when read (`selectors.tallies.fact_rows`). Today,
and a day without rollup rows, is computed live by the same code (`selectors.tallies`): from the
stored facts of the demands unchanged since the last refresh, and computed now for the others (a
newer event, a limit passed since, not refreshed yet), so the figures are exact, and a fresh
database, or one whose rollups were just emptied, shows the right figures before the worker's
first pass. When the definitions change, a migration resets the worker's state (as
`dashboards/0005_demand_facts_for_incremental_rollups` does): the worker's next pass rebuilds every
demand's facts and every row. `manage.py rollup_rebuild` does the same at once.
"""


def _row(m: Measure, lang: str) -> str:
    with translation.override(lang):
        name, which, formula = str(m.name), str(m.which), str(m.formula)
    if m.kind == "rate":
        counters = f"`{m.numerator}` ÷ `{m.denominator}`"
    elif m.kind == "count":
        counters = f"`{m.numerator}`"
    else:
        counters = f"`{m.numerator}` (median, P90)"
    label = f"{m.zh} {name}" if lang != "zh-hans" else m.zh
    return f"| {label} | {counters} | {formula} | {which} |"


def render() -> str:
    """The whole of docs/measures.md."""
    lines = [HEAD.rstrip("\n"), "", "## The measures", ""]
    lines += ["| measure | counters | formula | which demands |", "|---|---|---|---|"]
    lines += [_row(m, "en") for m in MEASURES]
    lines += ["", "## 指标定义（中文）", "", "| 指标 | 计数项 | 公式 | 统计范围 |", "|---|---|---|---|"]
    lines += [_row(m, "zh-hans") for m in MEASURES]
    return "\n".join(lines) + "\n" + TAIL


def doc_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "measures.md"


class Command(BaseCommand):
    help = "Write docs/measures.md from the measure definitions (--check: fail when it is not current)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true", help="only check that the file is current")

    def handle(self, *args: Any, **options: Any) -> None:
        text, path = render(), doc_path()
        if options["check"]:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                raise CommandError(f"{path} is not current: run manage.py measures_doc")
            self.stdout.write(f"{path} is current")
            return
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {path}")

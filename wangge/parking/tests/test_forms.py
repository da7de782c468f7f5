"""The what-if form's own checks speak both languages, from the catalogue."""

from __future__ import annotations

from wangge.parking.forms import WhatIfForm


def _errors(start: str, end: str) -> list[str]:
    form = WhatIfForm(data={"start": start, "end": end, "elasticity": "-0.3"})
    form.is_valid()
    return list(form.errors.get("end", []))


def test_an_end_before_the_start_is_refused_in_both_languages() -> None:
    assert _errors("2026-06-10", "2026-06-01") == ["结束日期早于开始日期 / the end is before the start"]


def test_a_replay_longer_than_92_days_is_refused_in_both_languages() -> None:
    assert _errors("2026-01-01", "2026-06-01") == ["一次最多重算 92 天 / replay at most 92 days at a time"]
    assert _errors("2026-01-01", "2026-01-31") == []

"""Training a model and keeping it: one path for `triage_train`, the worker's retraining and the demo.

`train_model` fits the classifier twice: once on 80 % of the rows to score it on the other 20 % and
choose there the confidence above which its answer may be applied without a person (precision ≥
`evaluation.AUTO_APPLY_PRECISION`), then on every row for the model that is saved. The held-out
figures and the threshold go into the saved model's metrics; nothing is activated here.

`retrain_pass` is a worker hook (settings.WANGGE_WORKER_HOOKS) that starts `retrain_all` in a process of
its own (`manage.py triage_retrain`) and returns, so the pass is not held for the minutes a fit takes. At
most once every
`TRIAGE_RETRAIN_CHECK_SECONDS` (one worker at a time: the check claims the settings row with a
conditional UPDATE, and the claim's time is the next check's start), for each target (category,
department) it counts the county's labelled history (COUNT queries, `selectors.count_for`, then the
rows themselves only when worth it: `selectors.rows_for`); when at least
`TRIAGE_RETRAIN_MIN_NEW_LABELS` rows arrived since the latest model of that target was trained, it
trains a candidate on a training slice and scores it and the active model on the same held-out slice.
The candidate is kept (saved as a new version, shown in the back office) only if its macro-F1 there
beats the active model's; a person activates it, as for any model.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.db.models import Q

from wangge.core import clock
from wangge.triage import selectors, services
from wangge.triage.ml import Params, TriageClassifier, join_text
from wangge.triage.models import Target, TriageModel, TriageSettings

AUTO_NAME = {Target.CATEGORY: "county-category", Target.DEPARTMENT: "county-department"}


def train_model(
    texts: list[str],
    labels: list[str],
    *,
    name: str,
    target: str,
    source: str,
    params: Params | None = None,
    actor: Any = None,
    metrics: dict[str, Any] | None = None,
    held_out: dict[str, Any] | None = None,
) -> TriageModel:
    """Fit on every row and save a new version with its held-out figures and auto-apply threshold.

    `held_out`: figures already computed on a held-out slice (the worker's); else they are computed here.
    """
    from wangge.triage.evaluation import held_out_check

    params = params or Params()
    metrics = dict(metrics or {})
    metrics.setdefault("label_counts", dict(Counter(labels)))
    if held_out is None:
        start = time.perf_counter()
        _, held_out, _ = held_out_check(texts, labels, params=params, seed=params.seed)
        held_out["fit_seconds"] = round(time.perf_counter() - start, 2)
    metrics["held_out"] = held_out
    metrics["auto_apply"] = held_out.get("auto_apply") or {}
    start = time.perf_counter()
    clf = TriageClassifier(params).fit(texts, labels)
    metrics["fit_seconds"] = round(time.perf_counter() - start, 2)
    return services.triage_model_create(
        name=name,
        classifier=clf,
        trained_on=source,
        trained_rows=len(texts),
        metrics=metrics,
        actor=actor,
        target=target,
    )


def _claim() -> bool:
    """Take the retraining check (a conditional UPDATE on the settings row): False if another worker took
    it within TRIAGE_RETRAIN_CHECK_SECONDS (which also covers a worker that died mid-training)."""
    now = clock.now()
    if not TriageSettings.objects.exists():
        TriageSettings.objects.create(
            auto_apply_confidence=float(getattr(settings, "TRIAGE_AUTO_APPLY_CONFIDENCE", 0.85)),
            duplicate_threshold=float(getattr(settings, "TRIAGE_DUPLICATE_THRESHOLD", 0.45)),
            duplicate_window_days=int(getattr(settings, "TRIAGE_DUPLICATE_WINDOW_DAYS", 14)),
        )
    stale = now - dt.timedelta(seconds=float(getattr(settings, "TRIAGE_RETRAIN_CHECK_SECONDS", 3600)))
    return bool(
        TriageSettings.objects.filter(Q(retrain_claimed_at__isnull=True) | Q(retrain_claimed_at__lte=stale)).update(
            retrain_claimed_at=now
        )
    )


def _release() -> None:
    """Let the next pass check again at once (tests, and an administrator who wants a retraining now)."""
    TriageSettings.objects.update(retrain_claimed_at=None)


def retrain_target(target: str, *, min_new: int | None = None) -> dict[str, Any]:
    """One target's retraining decision (see the module docstring): what was done, as a small dict."""
    from wangge.triage.evaluation import held_out_check, score_rows

    need = int(getattr(settings, "TRIAGE_RETRAIN_MIN_NEW_LABELS", 200) if min_new is None else min_new)
    latest = TriageModel.objects.filter(target=target, trained_on="db").order_by("-created_at", "-id").first()
    # The labels counted when the latest model was trained (its rows, for a model from before the cap).
    before = int((latest.metrics or {}).get("labels_total", latest.trained_rows)) if latest else 0
    total = selectors.count_for(target)  # cheap: COUNT queries, no text read
    new = total - before
    if new < need:
        return {"action": "wait", "new": new, "need": need}
    # The newest labels only: a county's years of history (millions of demands) would not fit a
    # worker's memory or its interval, and this year's wording and departments are what to learn.
    rows = selectors.rows_for(target, limit=int(getattr(settings, "TRIAGE_RETRAIN_MAX_ROWS", 20_000)))
    texts = [join_text(t, d) for t, d, _ in rows]
    labels = [c for _, _, c in rows]
    if len(set(labels)) < 2:
        return {"action": "wait", "rows": len(rows), "new": new, "need": need, "why": "one label"}
    params = Params()
    start = time.perf_counter()
    _, figures, test = held_out_check(texts, labels, params=params)
    figures["fit_seconds"] = round(time.perf_counter() - start, 2)
    active = selectors.active_model(target=target)
    if active is not None:
        current = score_rows(selectors.model_load(model=active), [texts[i] for i in test], [labels[i] for i in test])
        figures["active"] = {"model": str(active), "macro_f1": current["macro_f1"], "accuracy": current["accuracy"]}
        if figures["macro_f1"] <= current["macro_f1"]:
            return {"action": "discarded", "rows": len(rows), "candidate": figures["macro_f1"], **figures["active"]}
    model = train_model(
        texts,
        labels,
        name=AUTO_NAME[Target(target)],
        target=target,
        source="db",
        held_out=figures,
        metrics={"labels_total": total},
    )
    return {"action": "kept", "model": str(model), "rows": len(rows), "macro_f1": figures["macro_f1"]}


def retrain_all() -> dict[str, Any]:
    """Retrain each target from the county's history when enough new labels arrived (`triage_retrain`)."""
    return {target: retrain_target(target) for target in Target.values}


# The retraining this process started and has not yet seen end.
_child: subprocess.Popen[bytes] | None = None


def retrain_pass() -> dict[str, Any]:
    """Worker hook: when the check is due, start `retrain_all` in a process of its own and return at once.

    A retraining fits for minutes (20,000 labels, twice); inside the worker's pass it held the outbox,
    the time limits and every other hook for that long (over 20 minutes on the 5 M benchmark). The
    process is settings.TRIAGE_RETRAIN_COMMAND (`manage.py triage_retrain`); with that setting empty
    the retraining runs in this pass instead (the tests, whose database another process cannot see).
    """
    global _child
    if _child is not None:
        if _child.poll() is None:
            return {"action": "running", "pid": _child.pid}
        _child = None  # ended: reaped
    if not _claim():
        return {"action": "not due"}
    command = list(getattr(settings, "TRIAGE_RETRAIN_COMMAND", None) or [])
    if not command:
        return retrain_all()
    _child = subprocess.Popen(command, cwd=settings.BASE_DIR, start_new_session=True)
    return {"action": "started", "pid": _child.pid}

"""Scoring a classifier: accuracy, macro-F1, per-label precision/recall, latency; k-fold CV; and the
confidence above which a suggestion may be applied without a person (chosen on held-out rows)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, train_test_split

from wangge.triage.ml import Params, TriageClassifier


def scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the true labels and per-label precision, recall, F1 and support."""
    labels = sorted(set(truth))
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)), 4),
        "per_label": {
            lab: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(s[i]),
            }
            for i, lab in enumerate(labels)
        },
    }


# A category is applied without a person only where held-out rows showed at least this precision.
AUTO_APPLY_PRECISION = 0.97
# Fewer held-out rows above a threshold than this say nothing about its precision.
AUTO_APPLY_MIN_ROWS = 20


def safe_threshold(
    confidences: Sequence[float],
    correct: Sequence[bool],
    *,
    precision: float = AUTO_APPLY_PRECISION,
    min_rows: int = AUTO_APPLY_MIN_ROWS,
) -> dict[str, Any]:
    """The lowest confidence t such that the rows at or above t are right at least `precision` of the time.

    Rows are taken from the most confident down; t is the last point where the running precision
    still meets the target (with at least `min_rows` rows above it). None when no such point exists:
    then nothing is applied without a person.
    """
    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    order = np.argsort(-conf, kind="stable")
    hits = np.cumsum(ok[order])
    seen = np.arange(1, len(order) + 1)
    running = hits / np.maximum(seen, 1)
    best = -1
    for i in range(len(order)):
        # Ties: a threshold can only sit between different confidences.
        if i + 1 < len(order) and conf[order[i + 1]] == conf[order[i]]:
            continue
        if seen[i] >= min_rows and running[i] >= precision:
            best = i
    if best < 0:
        return {"threshold": None, "precision": None, "coverage": 0.0, "rows": len(order), "target": precision}
    return {
        "threshold": round(float(conf[order[best]]), 4),
        "precision": round(float(running[best]), 4),
        "coverage": round(float(seen[best] / len(order)), 4),
        "rows": len(order),
        "target": precision,
    }


def at_threshold(confidences: Sequence[float], correct: Sequence[bool], threshold: float | None) -> dict[str, Any]:
    """Precision and coverage of the rows at or above a threshold (None: nothing is applied)."""
    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    if threshold is None or len(conf) == 0:
        return {"threshold": threshold, "precision": None, "coverage": 0.0}
    above = conf >= threshold
    n = int(above.sum())
    return {
        "threshold": threshold,
        "precision": round(float(ok[above].mean()), 4) if n else None,
        "coverage": round(n / len(conf), 4),
    }


def held_out_split(labels: Sequence[str], *, share: float = 0.2, seed: int = 0) -> tuple[list[int], list[int]]:
    """Row indices (train, held out): stratified when every label has two rows, else plain shuffled."""
    idx = np.arange(len(labels))
    counts = np.unique(np.asarray(labels), return_counts=True)[1]
    n_test = max(1, round(len(labels) * share))
    stratify = labels if counts.min() >= 2 and n_test >= len(counts) else None
    train, test = train_test_split(idx, test_size=n_test, random_state=seed, shuffle=True, stratify=stratify)
    return sorted(int(i) for i in train), sorted(int(i) for i in test)


def held_out_check(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    params: Params | None = None,
    share: float = 0.2,
    seed: int = 0,
) -> tuple[TriageClassifier, dict[str, Any], list[int]]:
    """Fit on (1 - share) of the rows, score the rest, choose the auto-apply threshold on them.

    Returns the model fitted on the training part, its figures on the held-out part (accuracy,
    macro-F1, the threshold with its precision and coverage) and the held-out row indices.
    """
    train, test = held_out_split(labels, share=share, seed=seed)
    model = TriageClassifier(params).fit([texts[i] for i in train], [labels[i] for i in train])
    figures = score_rows(model, [texts[i] for i in test], [labels[i] for i in test])
    figures["auto_apply"] = safe_threshold(figures.pop("_confidences"), figures.pop("_correct"))
    figures["train_rows"] = len(train)
    return model, figures, test


def score_rows(model: TriageClassifier, texts: Sequence[str], truth: Sequence[str]) -> dict[str, Any]:
    """Accuracy and macro-F1 of a model on rows, with each row's confidence and correctness (private keys)."""
    proba = model.predict_proba(texts)
    best = proba.argmax(axis=1)
    predicted = [model.labels[i] for i in best]
    result = scores(truth, predicted)
    result["_confidences"] = proba[np.arange(len(best)), best].tolist()
    result["_correct"] = [p == t for p, t in zip(predicted, truth, strict=True)]
    result["rows"] = len(truth)
    return result


def evaluate(
    model: TriageClassifier,
    texts: Sequence[str],
    truth: Sequence[str],
    *,
    latency_sample: int = 200,
    threshold: float | None = None,
) -> dict[str, Any]:
    """Scores on the given rows, precision and coverage at the auto-apply threshold, and milliseconds
    per message when predicted one at a time (as at intake)."""
    result = score_rows(model, texts, truth)
    result["auto_apply"] = at_threshold(result.pop("_confidences"), result.pop("_correct"), threshold)
    sample = list(texts[:latency_sample])
    model.predict_one(sample[0])  # warm-up: first call builds lazy caches
    start = time.perf_counter()
    for t in sample:
        model.predict_one(t)
    result["ms_per_message"] = round((time.perf_counter() - start) * 1000 / max(len(sample), 1), 3)
    result["rows"] = len(truth)
    return result


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    params: Params | None = None,
    folds: int = 5,
    seed: int = 0,
    keep_predictions: bool = False,
) -> dict[str, Any]:
    """Stratified k-fold CV: each fold's model sees only its training part; pooled and per-fold figures."""
    y = np.asarray(labels)
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    pooled = np.empty(len(y), dtype=object)
    per_fold: list[float] = []
    seconds: list[float] = []
    for train_idx, test_idx in skf.split(np.zeros(len(y)), y):
        start = time.perf_counter()
        model = TriageClassifier(params).fit([texts[i] for i in train_idx], y[train_idx].tolist())
        seconds.append(time.perf_counter() - start)
        pred = model.predict([texts[i] for i in test_idx])
        pooled[test_idx] = pred
        per_fold.append(float(f1_score(y[test_idx], pred, average="macro")))
    result = scores(y.tolist(), pooled.tolist())
    result.update(
        {
            "folds": folds,
            "seed": seed,
            "fold_macro_f1": [round(v, 4) for v in per_fold],
            "macro_f1_mean": round(float(np.mean(per_fold)), 4),
            "macro_f1_std": round(float(np.std(per_fold)), 4),
            "fit_seconds_mean": round(float(np.mean(seconds)), 2),
            "rows": len(y),
        }
    )
    if keep_predictions:
        result["pooled_predictions"] = pooled.tolist()
    return result


def retrieval_recall(
    queries: Sequence[str], targets: Sequence[str], *, k: int = 5, halves_seed: int | None = None
) -> dict[str, Any]:
    """Each query looks for its own target among all targets (`matching.TextIndex`): recall@1, recall@k.

    A hit is a target whose text is the query's own target text: when two rows carry the same text
    (a message posted twice), finding either is finding it. Time: building the index apart, then ms per query.
    With `halves_seed`, the rows are also split in two halves at random (that seed) and each half's
    recall given under "halves" (the settings were tuned on the first, "tuning"; the second is "held_out").
    """
    from wangge.triage.matching import TextIndex

    if len(queries) != len(targets) or not targets:
        raise ValueError("one target per query, at least one")
    same = [" ".join(t.split()) for t in targets]
    started = time.perf_counter()
    index = TextIndex(targets)
    built = time.perf_counter() - started
    first = np.zeros(len(queries), dtype=bool)
    any_k = np.zeros(len(queries), dtype=bool)
    started = time.perf_counter()
    for i, query in enumerate(queries):
        found = [j for j, _ in index.search(query, k)]
        first[i] = bool(found) and same[found[0]] == same[i]
        any_k[i] = any(same[j] == same[i] for j in found)
    spent = time.perf_counter() - started
    n = len(queries)
    result: dict[str, Any] = {
        "recall_at_1": round(float(first.mean()), 4),
        f"recall_at_{k}": round(float(any_k.mean()), 4),
        "ms_per_query": round(spent * 1000 / n, 3),
        "index_seconds": round(built, 2),
        "rows": n,
    }
    if halves_seed is not None:
        tuning = np.zeros(n, dtype=bool)
        tuning[np.random.RandomState(halves_seed).permutation(n)[: n // 2]] = True
        result["halves"] = {
            name: {
                "rows": int(part.sum()),
                "recall_at_1": round(float(first[part].mean()), 4),
                f"recall_at_{k}": round(float(any_k[part].mean()), 4),
            }
            for name, part in (("tuning", tuning), ("held_out", ~tuning))
        }
    return result

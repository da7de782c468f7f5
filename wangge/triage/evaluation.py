"""Scoring a classifier: accuracy, macro-F1, per-label precision/recall, latency; and k-fold CV."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

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


def evaluate(
    model: TriageClassifier, texts: Sequence[str], truth: Sequence[str], *, latency_sample: int = 200
) -> dict[str, Any]:
    """Scores on the given rows plus milliseconds per message when predicted one at a time (as at intake)."""
    predicted = model.predict(texts)
    result = scores(truth, predicted)
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


def retrieval_recall(queries: Sequence[str], targets: Sequence[str], *, k: int = 5) -> dict[str, Any]:
    """Each query looks for its own target among all targets (`matching.TextIndex`): recall@1, recall@k.

    A hit is a target whose text is the query's own target text: when two rows carry the same text
    (a message posted twice), finding either is finding it. Time: building the index apart, then ms per query.
    """
    from wangge.triage.matching import TextIndex

    if len(queries) != len(targets) or not targets:
        raise ValueError("one target per query, at least one")
    same = [" ".join(t.split()) for t in targets]
    started = time.perf_counter()
    index = TextIndex(targets)
    built = time.perf_counter() - started
    at_1 = at_k = 0
    started = time.perf_counter()
    for i, query in enumerate(queries):
        found = [j for j, _ in index.search(query, k)]
        at_1 += bool(found) and same[found[0]] == same[i]
        at_k += any(same[j] == same[i] for j in found)
    spent = time.perf_counter() - started
    n = len(queries)
    return {
        "recall_at_1": round(at_1 / n, 4),
        f"recall_at_{k}": round(at_k / n, 4),
        "ms_per_query": round(spent * 1000 / n, 3),
        "index_seconds": round(built, 2),
        "rows": n,
    }

"""What intake needs in memory: the active model, the rules, the label map, the thresholds.

Loading a model takes tens of milliseconds and intake has 5, so each process keeps one snapshot and
re-reads it only when it may be stale: at once in the process that changed something (services
call `invalidate()` after commit), and within TRIAGE_CACHE_SECONDS in every other process, which
checks a cheap fingerprint (active model id, rule and mapping counts and latest changes).
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Max

from wangge.triage.ml import TriageClassifier

_SPLIT_RE = re.compile(r"[\s、,，+＋;；/]+")


@dataclass(frozen=True)
class CompiledRule:
    id: int
    kind: str
    words: tuple[str, ...]
    regex: re.Pattern[str] | None
    category_code: str
    department_code: str
    priority: int

    def match(self, text: str) -> list[str] | None:
        """The words or the text that matched, or None."""
        if self.regex is not None:
            m = self.regex.search(text)
            return [m.group(0)] if m else None
        if self.words and all(w in text for w in self.words):
            return list(self.words)
        return None


def split_words(pattern: str) -> tuple[str, ...]:
    return tuple(w for w in (normalise_for_rules(p) for p in _SPLIT_RE.split(pattern or "")) if w)


def normalise_for_rules(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower().strip()


@dataclass
class Snapshot:
    fingerprint: tuple[Any, ...]
    checked_at: float
    rules: list[CompiledRule]
    mapping: dict[str, tuple[str, str]]  # label → (category code, department code)
    category_departments: dict[str, str]  # active category code → default department code
    auto_apply_confidence: float
    rules_auto_apply: bool
    duplicate_threshold: float
    duplicate_window_days: int
    model_id: int | None
    model_name: str = ""
    classifier: TriageClassifier | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_lock = threading.Lock()
_snapshot: Snapshot | None = None
_classifiers: dict[int, TriageClassifier] = {}


def invalidate() -> None:
    """Forget the snapshot (called after a commit that changed models, rules, mapping or settings)."""
    global _snapshot
    with _lock:
        _snapshot = None


def _fingerprint() -> tuple[Any, ...]:
    from wangge.triage.models import KeywordRule, LabelMapping, TriageModel, TriageSettings

    active = TriageModel.objects.filter(is_active=True).values_list("id", flat=True).first()
    rules = KeywordRule.objects.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
    maps = LabelMapping.objects.aggregate(n=Count("id"), top=Max("id"))
    conf = TriageSettings.objects.values_list("updated_at", flat=True).first()
    return (active, rules["n"], rules["last"], rules["top"], maps["n"], maps["top"], conf)


def _load(fingerprint: tuple[Any, ...]) -> Snapshot:
    from wangge.demands.models import Category
    from wangge.triage.models import KeywordRule, LabelMapping, TriageModel, TriageSettings

    rules = []
    for r in KeywordRule.objects.filter(enabled=True).order_by("-priority", "id"):
        regex = None
        words: tuple[str, ...] = ()
        if r.kind == "regex":
            try:
                regex = re.compile(r.pattern, re.IGNORECASE)
            except re.error:
                continue  # the service refuses bad patterns; an old bad row must not stop intake
        else:
            words = split_words(r.pattern)
            if not words:
                continue
        rules.append(CompiledRule(r.id, r.kind, words, regex, r.category_code, r.department_code, r.priority))

    mapping = {m.label: (m.category_code, m.department_code) for m in LabelMapping.objects.all()}
    departments: dict[str, str] = {}
    cats = list(
        Category.objects.filter(is_active=True).select_related("default_department", "parent__default_department")
    )
    for c in cats:
        dept = c.default_department or (c.parent.default_department if c.parent_id and c.parent else None)
        departments[c.code] = dept.code if dept else ""

    conf = TriageSettings.objects.first()
    model_id = fingerprint[0]
    classifier = None
    name = ""
    if model_id is not None:
        classifier = _classifiers.get(model_id)
        row = TriageModel.objects.filter(pk=model_id).only("id", "name", "version").first()
        name = str(row) if row else ""
        if classifier is None and row is not None:
            data = TriageModel.objects.filter(pk=model_id).values_list("file", flat=True).first()
            classifier = TriageClassifier.loads(bytes(data)) if data else None
            if classifier is not None:
                classifier.predict_one("预热")  # build the per-model lookups now, not on a resident's request
                _classifiers.clear()  # keep one model in memory, not every one ever activated
                _classifiers[model_id] = classifier
    return Snapshot(
        fingerprint=fingerprint,
        checked_at=time.monotonic(),
        rules=rules,
        mapping=mapping,
        category_departments=departments,
        auto_apply_confidence=conf.auto_apply_confidence
        if conf
        else float(getattr(settings, "TRIAGE_AUTO_APPLY_CONFIDENCE", 0.85)),
        rules_auto_apply=conf.rules_auto_apply if conf else True,
        duplicate_threshold=conf.duplicate_threshold
        if conf
        else float(getattr(settings, "TRIAGE_DUPLICATE_THRESHOLD", 0.45)),
        duplicate_window_days=conf.duplicate_window_days
        if conf
        else int(getattr(settings, "TRIAGE_DUPLICATE_WINDOW_DAYS", 14)),
        model_id=model_id,
        model_name=name,
        classifier=classifier,
    )


def snapshot() -> Snapshot:
    """The current snapshot, reloaded when invalidated or when another process may have changed it."""
    global _snapshot
    ttl = float(getattr(settings, "TRIAGE_CACHE_SECONDS", 30))
    snap = _snapshot
    now = time.monotonic()
    if snap is not None and now - snap.checked_at < ttl:
        return snap
    fingerprint = _fingerprint()
    if snap is not None and snap.fingerprint == fingerprint:
        snap.checked_at = now
        return snap
    fresh = _load(fingerprint)
    with _lock:
        _snapshot = fresh
    return fresh

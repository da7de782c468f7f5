"""What intake needs in memory: the active models (category, department), the rules, the label map,
the thresholds.

Loading a model takes from tens of milliseconds to many seconds and intake has 5, so each process
keeps one snapshot. Two ways to keep it fresh:

- A web process calls `preload()` when it starts (config/wsgi.py and config/asgi.py through
  settings.WANGGE_STARTUP_HOOKS, so `make run`, `make serve` and any gunicorn worker do, while
  migrate, makemigrations and tests do not). It loads the snapshot before the first request and
  starts a daemon thread that checks the fingerprint every TRIAGE_CACHE_SECONDS (at once after
  `invalidate()`), loads a newly activated model beside the old one and swaps it in. Requests in
  such a process only read the snapshot: a model never loads inside a request.
- Any other process (commands, the worker, tests) loads on first use and re-reads when it may be
  stale: at once in the process that changed something (services call `invalidate()` after
  commit), and within TRIAGE_CACHE_SECONDS otherwise, by a cheap fingerprint (active model ids,
  rule and mapping counts and latest changes).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Max

from wangge.triage.ml import TriageClassifier

log = logging.getLogger("wangge.triage")

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
    auto_apply: bool = True

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
    auto_apply_confidence: float  # the county's floor (TriageSettings)
    rules_auto_apply: bool
    duplicate_threshold: float
    duplicate_window_days: int
    model_id: int | None
    model_name: str = ""
    classifier: TriageClassifier | None = None
    # The confidence above which the category model's answer is applied without a person, chosen on
    # held-out rows for AUTO_APPLY_PRECISION (triage_train stores it); None: the model only suggests.
    model_threshold: float | None = None
    department_model_id: int | None = None
    department_model_name: str = ""
    department_classifier: TriageClassifier | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def auto_apply_threshold(self) -> float | None:
        """The model's held-out threshold, never below the county's own setting."""
        if self.model_threshold is None:
            return None
        return max(self.model_threshold, self.auto_apply_confidence)


_lock = threading.Lock()
_snapshot: Snapshot | None = None
_classifiers: dict[int, TriageClassifier] = {}
_hashes: dict[int, str] = {}
# Set by preload(): this process serves requests and a thread keeps the snapshot fresh.
_preloaded = threading.Event()
_wake = threading.Event()
_refresher: threading.Thread | None = None


def invalidate() -> None:
    """Forget the snapshot (called after a commit that changed models, rules, mapping or settings).

    In a preloaded web process the old snapshot keeps serving until the refresher has loaded the
    new one, so the request that made the change never waits for a model to load."""
    global _snapshot
    if _preloaded.is_set():
        _wake.set()
        return
    with _lock:
        _snapshot = None


def _fingerprint() -> tuple[Any, ...]:
    from wangge.triage.models import KeywordRule, LabelMapping, TriageModel, TriageSettings

    active = dict(TriageModel.objects.filter(is_active=True).values_list("target", "id"))
    rules = KeywordRule.objects.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
    maps = LabelMapping.objects.aggregate(n=Count("id"), top=Max("id"))
    conf = TriageSettings.objects.values_list("updated_at", flat=True).first()
    return (
        active.get("category"),
        rules["n"],
        rules["last"],
        rules["top"],
        maps["n"],
        maps["top"],
        conf,
        active.get("department"),
    )


def _classifier(model_id: int | None) -> tuple[TriageClassifier | None, str, dict[str, Any]]:
    """The classifier of a stored model (kept in memory while active), its name and its metrics."""
    from wangge.triage.models import TriageModel

    if model_id is None:
        return None, "", {}
    row = TriageModel.objects.filter(pk=model_id).only("id", "name", "version", "metrics", "sha256").first()
    if row is None:
        return None, "", {}
    # Keyed by id and content: a test database hands the same id to another model after a rollback.
    classifier = _classifiers.get(model_id)
    if classifier is not None and _hashes.get(model_id) != row.sha256:
        classifier = None
    if classifier is None:
        data = TriageModel.objects.filter(pk=model_id).values_list("file", flat=True).first()
        classifier = TriageClassifier.loads(bytes(data)) if data else None
        if classifier is not None:
            classifier.predict_one("预热")  # build the per-model lookups now, not on a resident's request
            _classifiers[model_id] = classifier
            _hashes[model_id] = row.sha256
    return classifier, str(row), dict(row.metrics or {})


def model_threshold(metrics: dict[str, Any]) -> float | None:
    """The auto-apply threshold a model was saved with (None: it only suggests)."""
    value = ((metrics or {}).get("auto_apply") or {}).get("threshold")
    return float(value) if value is not None else None


def _load(fingerprint: tuple[Any, ...]) -> Snapshot:
    from wangge.demands.models import Category
    from wangge.triage.models import KeywordRule, LabelMapping, TriageSettings

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
        rules.append(
            CompiledRule(r.id, r.kind, words, regex, r.category_code, r.department_code, r.priority, r.auto_apply)
        )

    mapping = {m.label: (m.category_code, m.department_code) for m in LabelMapping.objects.all()}
    departments: dict[str, str] = {}
    cats = list(
        Category.objects.filter(is_active=True).select_related("default_department", "parent__default_department")
    )
    for c in cats:
        dept = c.default_department or (c.parent.default_department if c.parent_id and c.parent else None)
        departments[c.code] = dept.code if dept else ""

    conf = TriageSettings.objects.first()
    model_id, department_model_id = fingerprint[0], fingerprint[-1]
    classifier, name, metrics = _classifier(model_id)
    department_classifier, department_name, _ = _classifier(department_model_id)
    # Keep the active models in memory, not every one ever activated.
    for stale in set(_classifiers) - {model_id, department_model_id}:
        _classifiers.pop(stale, None)
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
        model_threshold=model_threshold(metrics),
        department_model_id=department_model_id,
        department_model_name=department_name,
        department_classifier=department_classifier,
    )


def snapshot() -> Snapshot:
    """The current snapshot, reloaded when invalidated or when another process may have changed it.

    In a preloaded web process this only reads memory: the refresher thread does the reloading."""
    global _snapshot
    if _preloaded.is_set() and _snapshot is not None:
        return _snapshot
    ttl = float(getattr(settings, "TRIAGE_CACHE_SECONDS", 30))
    snap = _snapshot
    now = time.monotonic()
    if snap is not None and now - snap.checked_at < ttl:
        return snap
    return _refresh(snap)


def _refresh(snap: Snapshot | None) -> Snapshot:
    global _snapshot
    fingerprint = _fingerprint()
    if snap is not None and snap.fingerprint == fingerprint:
        snap.checked_at = time.monotonic()
        return snap
    fresh = _load(fingerprint)
    with _lock:
        _snapshot = fresh
    return fresh


def preload(*, refresh_thread: bool = True) -> Snapshot | None:
    """Load the snapshot (and its models) now, before this process serves a request.

    Called once when a web process starts (settings.WANGGE_STARTUP_HOOKS, run from config/wsgi.py and
    config/asgi.py). From then on requests only read memory, and a daemon thread reloads the
    snapshot when the fingerprint changes. A database that is not ready yet (before migrate) is
    logged, and the process falls back to loading on first use.
    """
    global _refresher
    # The connection this opens is the process's own: Django closes or reuses it at each request start.
    try:
        snap = _refresh(None)
    except Exception:
        log.exception("triage preload failed; suggestions load on first use instead")
        return None
    _preloaded.set()
    if refresh_thread and (_refresher is None or not _refresher.is_alive()):
        _refresher = threading.Thread(target=_refresh_forever, name="triage-refresh", daemon=True)
        _refresher.start()
    log.info(
        "triage preloaded: model %s, department model %s", snap.model_name or "—", snap.department_model_name or "—"
    )
    return snap


def _refresh_forever() -> None:
    from django.db import close_old_connections

    while _preloaded.is_set():
        _wake.wait(float(getattr(settings, "TRIAGE_CACHE_SECONDS", 30)))
        _wake.clear()
        if not _preloaded.is_set():
            break
        try:
            _refresh(_snapshot)
        except Exception:
            log.exception("triage refresh failed; the previous snapshot keeps serving")
        finally:
            close_old_connections()


def reset_preload() -> None:
    """Back to load-on-first-use (tests that preload call this when they end)."""
    global _snapshot
    _preloaded.clear()
    _wake.set()
    with _lock:
        _snapshot = None

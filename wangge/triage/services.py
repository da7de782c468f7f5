"""Triage writes: models (save, activate, roll back), rules, mapping, settings, feedback; and the
suggestion intake asks for through settings.WANGGE_TRIAGE_SUGGEST (so demands never imports us)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core.errors import Conflict, ValidationFailed
from wangge.core.text import Listed
from wangge.triage import runtime
from wangge.triage.ml import TriageClassifier, UntrustedModel, join_text
from wangge.triage.models import (
    KeywordRule,
    LabelMapping,
    RuleKind,
    Target,
    TrainingExample,
    TriageModel,
    TriageSettings,
)

# Reads that the brief names under services live in selectors (services write, selectors read).
from wangge.triage.selectors import duplicate_candidates, hot_issues  # noqa: F401  (re-exported)


def _changed() -> None:
    # Now, so the rest of this request sees the change; again after commit for the next ones.
    runtime.invalidate()
    transaction.on_commit(runtime.invalidate)


# --- models -------------------------------------------------------------------------------------


@transaction.atomic
def triage_model_create(
    *,
    name: str,
    classifier: TriageClassifier,
    trained_on: str,
    trained_rows: int,
    metrics: dict[str, Any] | None = None,
    actor: Any = None,
    target: str = Target.CATEGORY,
) -> TriageModel:
    """Save a trained classifier as the next version of `name`; a new model is never active by itself.

    `target` says what its labels are: categories (or labels mapped to them) or department codes."""
    name = (name or "").strip()
    if target not in Target.values:
        raise ValidationFailed(_("unknown model target"), field="target")
    if not name or not re.fullmatch(r"[\w.\-]{1,64}", name):
        raise ValidationFailed(_("model name: letters, digits, _ . - only"), field="name")
    data = classifier.dumps()
    # Refuse to store what we could not load back.
    TriageClassifier.loads(data)
    last = TriageModel.objects.select_for_update().filter(name=name).aggregate(v=Max("version"))["v"] or 0
    return TriageModel.objects.create(
        name=name,
        target=target,
        version=last + 1,
        created_at=clock.now(),
        created_by=actor,
        trained_on=trained_on[:255],
        trained_rows=trained_rows,
        labels=list(classifier.labels),
        params=classifier.params_dict(),
        metrics=metrics or {},
        file=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
    )


@transaction.atomic
def triage_model_activate(*, model: TriageModel, actor: Any, via: str = "") -> TriageModel:
    """Make this model the one intake uses for its target; only a person does this, and the previous one is kept."""
    if actor is None and not via:
        raise ValidationFailed(_("a model is activated by a person"), field="actor")
    model = TriageModel.objects.select_for_update().get(pk=model.pk)
    try:
        TriageClassifier.loads(bytes(model.file))
    except UntrustedModel as exc:
        raise ValidationFailed(_("untrusted model file: %(error)s"), params={"error": exc}, field="model") from exc
    if model.is_active:
        return model
    previous = TriageModel.objects.select_for_update().filter(is_active=True, target=model.target).first()
    if previous is not None:
        previous.is_active = False
        previous.save(update_fields=["is_active"])
    model.is_active = True
    model.activated_by = actor
    model.activated_at = clock.now()
    model.activated_via = via[:100]
    # Remember what this one replaced, unless it is itself the target of a rollback chain.
    if previous is not None and model.replaced_id != previous.pk:
        model.replaced = previous
    model.save(update_fields=["is_active", "activated_by", "activated_at", "activated_via", "replaced"])
    _changed()
    return model


@transaction.atomic
def triage_model_rollback(*, actor: Any, via: str = "", target: str = Target.CATEGORY) -> TriageModel:
    """Return to the model the active one (of this target) replaced (kept for exactly this)."""
    if actor is None and not via:
        raise ValidationFailed(_("a rollback is made by a person"), field="actor")
    current = TriageModel.objects.select_for_update().filter(is_active=True, target=target).first()
    if current is None or current.replaced_id is None:
        raise Conflict(_("there is no previous model to roll back to"), field="model")
    back = TriageModel.objects.select_for_update().get(pk=current.replaced_id)
    current.is_active = False
    current.save(update_fields=["is_active"])
    back.is_active = True
    back.activated_by = actor
    back.activated_at = clock.now()
    back.activated_via = (via or "rollback")[:100]
    back.save(update_fields=["is_active", "activated_by", "activated_at", "activated_via"])
    _changed()
    return back


@transaction.atomic
def triage_model_deactivate(*, actor: Any, via: str = "", target: str | None = None) -> None:
    """Stop model suggestions (rules still act): of one target, or of both when none is given."""
    if actor is None and not via:
        raise ValidationFailed(_("a model is deactivated by a person"), field="actor")
    qs = TriageModel.objects.filter(is_active=True)
    if target is not None:
        qs = qs.filter(target=target)
    qs.update(is_active=False)
    _changed()


# --- rules, mapping, settings -------------------------------------------------------------------


def _check_category(code: str, fieldname: str = "category_code") -> None:
    from wangge.demands.models import Category

    if not Category.objects.filter(code=code).exists():
        raise ValidationFailed(_("no category with code %(code)s"), params={"code": code}, field=fieldname)


def _check_department(code: str) -> None:
    from wangge.registry.models import Department

    if code and not Department.objects.filter(code=code).exists():
        raise ValidationFailed(_("no department with code %(code)s"), params={"code": code}, field="department_code")


def _check_pattern(pattern: str, kind: str) -> None:
    if kind not in RuleKind.values:
        raise ValidationFailed(_("unknown rule kind"), field="kind")
    if not (pattern or "").strip():
        raise ValidationFailed(_("pattern is required"), field="pattern")
    if kind == RuleKind.REGEX:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValidationFailed(_("invalid regular expression: %(error)s"), params={"error": exc}, field="pattern")
    elif not runtime.split_words(pattern):
        raise ValidationFailed(_("at least one word is required"), field="pattern")


@transaction.atomic
def keyword_rule_create(
    *,
    pattern: str,
    category_code: str,
    kind: str = RuleKind.WORDS,
    department_code: str = "",
    priority: int = 100,
    enabled: bool = True,
    auto_apply: bool = True,
    note: str = "",
    actor: Any = None,
) -> KeywordRule:
    """A rule names an existing category (and department) and a pattern that compiles."""
    _check_pattern(pattern, kind)
    _check_category(category_code)
    _check_department(department_code)
    rule = KeywordRule.objects.create(
        pattern=pattern.strip(),
        kind=kind,
        category_code=category_code,
        department_code=department_code,
        priority=priority,
        enabled=enabled,
        auto_apply=auto_apply,
        note=note,
        updated_at=clock.now(),
        updated_by=actor,
    )
    _changed()
    return rule


@transaction.atomic
def keyword_rule_update(*, rule: KeywordRule, actor: Any = None, **changes: Any) -> KeywordRule:
    """Same checks as creation; every edit is stamped so other processes reload their rules."""
    allowed = {"pattern", "kind", "category_code", "department_code", "priority", "enabled", "auto_apply", "note"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            _("cannot change %(fields)s"), params={"fields": Listed(sorted(unknown))}, field=sorted(unknown)[0]
        )
    for key, value in changes.items():
        setattr(rule, key, value)
    _check_pattern(rule.pattern, rule.kind)
    _check_category(rule.category_code)
    _check_department(rule.department_code)
    rule.updated_at = clock.now()
    rule.updated_by = actor
    rule.save()
    _changed()
    return rule


@transaction.atomic
def keyword_rule_delete(*, rule: KeywordRule, actor: Any = None) -> None:
    """Remove a rule (disable it instead to keep its history)."""
    rule.delete()
    _changed()


@transaction.atomic
def label_mapping_set(*, label: str, category_code: str, department_code: str = "", note: str = "") -> LabelMapping:
    """Point a model label at a county category (and optionally a department)."""
    if not (label or "").strip():
        raise ValidationFailed(_("label is required"), field="label")
    _check_category(category_code)
    _check_department(department_code)
    mapping, _created = LabelMapping.objects.update_or_create(
        label=label.strip(),
        defaults={"category_code": category_code, "department_code": department_code, "note": note},
    )
    _changed()
    return mapping


@transaction.atomic
def triage_settings_update(
    *,
    auto_apply_confidence: float | None = None,
    rules_auto_apply: bool | None = None,
    duplicate_threshold: float | None = None,
    duplicate_window_days: int | None = None,
) -> TriageSettings:
    """Thresholds are probabilities (0–1) and a window of 1–365 days."""
    conf = TriageSettings.objects.select_for_update().first() or TriageSettings(
        auto_apply_confidence=float(getattr(settings, "TRIAGE_AUTO_APPLY_CONFIDENCE", 0.85)),
        duplicate_threshold=float(getattr(settings, "TRIAGE_DUPLICATE_THRESHOLD", 0.45)),
        duplicate_window_days=int(getattr(settings, "TRIAGE_DUPLICATE_WINDOW_DAYS", 14)),
    )
    if auto_apply_confidence is not None:
        if not 0 < auto_apply_confidence <= 1:
            raise ValidationFailed(_("confidence must be in (0, 1]"), field="auto_apply_confidence")
        conf.auto_apply_confidence = auto_apply_confidence
    if rules_auto_apply is not None:
        conf.rules_auto_apply = rules_auto_apply
    if duplicate_threshold is not None:
        if not 0 < duplicate_threshold <= 1:
            raise ValidationFailed(_("threshold must be in (0, 1]"), field="duplicate_threshold")
        conf.duplicate_threshold = duplicate_threshold
    if duplicate_window_days is not None:
        if not 1 <= duplicate_window_days <= 365:
            raise ValidationFailed(_("window must be 1–365 days"), field="duplicate_window_days")
        conf.duplicate_window_days = duplicate_window_days
    conf.updated_at = clock.now()
    conf.save()
    _changed()
    return conf


# --- feedback -------------------------------------------------------------------------------------


@transaction.atomic
def triage_feedback(
    *,
    demand: Any,
    category_code: str,
    department_code: str = "",
    actor: Any,
    accepted: bool,
) -> TrainingExample:
    """Every confirmation or correction by a person becomes a training example (nothing is lost)."""
    if actor is None:
        raise ValidationFailed(_("feedback comes from a person"), field="actor")
    _check_category(category_code)
    _check_department(department_code)
    suggested = demand.suggested_category.code if getattr(demand, "suggested_category_id", None) else ""
    return TrainingExample.objects.create(
        demand=demand,
        title=demand.title[:200],
        description=demand.description or "",
        category_code=category_code,
        department_code=department_code,
        suggested_category_code=suggested,
        suggested_confidence=getattr(demand, "suggestion_confidence", None),
        accepted=accepted,
        actor=actor,
        created_at=clock.now(),
    )


# --- the suggestion -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """What intake and the consoles show: a category (and department), how sure, and why.

    `department_confidence` is the department model's probability (None when the department is the
    category's default or a rule's); `department_top` its three best departments."""

    category_code: str | None
    department_code: str | None
    confidence: float
    auto_apply: bool
    source: str  # "rule" | "model"
    explanation: str
    label: str = ""
    top: list[tuple[str, float]] = field(default_factory=list)
    rule_id: int | None = None
    model: str = ""
    department_confidence: float | None = None
    department_source: str = ""  # "model" | "rule" | "category" | ""
    department_top: list[tuple[str, float]] = field(default_factory=list)


# A rule that only suggests (the default rules) is a hint, not proof: its confidence stays below any
# sensible auto-apply floor, so a category equal to such a suggestion was chosen by a person and
# counts as training data (selectors.training_rows_from_db).
HINT_CONFIDENCE = 0.6


def _department(snap: runtime.Snapshot, text: str, category: str | None, rule_department: str = "") -> dict[str, Any]:
    """Where a demand is likely dispatched: a rule's department, else the department model (learned from
    where demands were actually dispatched) when it agrees with or beats the category's default, else
    the category's default department."""
    default = snap.category_departments.get(category or "", "")
    if rule_department:
        return {"department_code": rule_department, "department_source": "rule"}
    if snap.department_classifier is not None:
        pred = snap.department_classifier.predict_one(text, explain=0)
        top = [(label, round(p, 4)) for label, p in pred.top]
        probs = dict(pred.top)
        # The category's default department is evidence too: it wins unless the history says otherwise
        # with enough confidence (TRIAGE_DEPARTMENT_MIN_CONFIDENCE) and more than it gives the default.
        floor = float(getattr(settings, "TRIAGE_DEPARTMENT_MIN_CONFIDENCE", 0.4))
        if default and (pred.confidence < floor or probs.get(default, 0.0) * 2 >= pred.confidence):
            return {
                "department_code": default,
                "department_confidence": round(probs.get(default, 0.0), 4),
                "department_source": "category",
                "department_top": top,
            }
        return {
            "department_code": pred.label,
            "department_confidence": round(pred.confidence, 4),
            "department_source": "model",
            "department_top": top,
        }
    if default:
        return {"department_code": default, "department_source": "category"}
    return {"department_code": None}


def _rule_suggestion(snap: runtime.Snapshot, rule: runtime.CompiledRule, hit: list[str], text: str) -> Suggestion:
    dept = _department(snap, text, rule.category_code, rule.department_code)
    return Suggestion(
        category_code=rule.category_code,
        confidence=1.0 if rule.auto_apply else HINT_CONFIDENCE,
        auto_apply=rule.auto_apply and snap.rules_auto_apply and rule.category_code in snap.category_departments,
        source="rule",
        explanation="命中关键词：" + "、".join(hit),
        label=rule.category_code,
        rule_id=rule.id,
        **dept,
    )


def _model_suggestion(snap: runtime.Snapshot, text: str) -> Suggestion | None:
    if snap.classifier is None:
        return None
    pred = snap.classifier.predict_one(text)
    category, dept = snap.mapping.get(pred.label, ("", ""))
    # A model trained on county data predicts category codes directly; only then was its held-out
    # precision measured on the category itself. A label mapped onto a category (the public sample's
    # seven coarse labels) is a suggestion only: its precision says nothing about the category.
    direct = not category and pred.label in snap.category_departments
    if direct:
        category = pred.label
    known = bool(category) and category in snap.category_departments
    threshold = snap.auto_apply_threshold
    why = f"模型判断「{pred.label}」（置信度 {pred.confidence:.0%}）"
    if pred.explanation:
        why += "，依据：" + "、".join(pred.explanation)
    return Suggestion(
        category_code=category or None,
        confidence=round(pred.confidence, 4),
        auto_apply=known and direct and threshold is not None and pred.confidence >= threshold,
        source="model",
        explanation=why,
        label=pred.label,
        top=pred.top,
        model=snap.model_name,
        **_department(snap, text, category or None, dept),
    )


def suggest(*, title: str, description: str = "", category_code: str | None = None) -> Suggestion | None:
    """A category (and department) for a text, or None when nothing has an answer.

    Order: rules that apply by themselves (an administrator's), then the model when it is sure enough
    to apply (above its held-out threshold), then rules that only suggest (the default rules), then
    the model's suggestion. A department model without a category answer still suggests a department.
    `category_code`: the category a person already chose; its default department then counts, not the
    suggested category's.
    """
    snap = runtime.snapshot()
    text = runtime.normalise_for_rules(f"{title}\n{description}")
    joined = join_text(title, description)
    suggesting: tuple[runtime.CompiledRule, list[str]] | None = None
    for rule in snap.rules:
        hit = rule.match(text)
        if hit is None:
            continue
        if rule.auto_apply:
            return _rule_suggestion(snap, rule, hit, joined)
        if suggesting is None:
            suggesting = (rule, hit)
    model = _model_suggestion(snap, joined)
    if model is not None and model.auto_apply:
        found: Suggestion | None = model
    elif suggesting is not None:
        found = _rule_suggestion(snap, *suggesting, joined)
    else:
        found = model
    if category_code and category_code in snap.category_departments:
        dept = _department(snap, joined, category_code)
        if found is None:
            return Suggestion(category_code=None, confidence=0.0, auto_apply=False, source="", explanation="", **dept)
        cleared = replace(
            found, department_code=None, department_confidence=None, department_source="", department_top=[]
        )
        return replace(cleared, **dept)
    if found is None and snap.department_classifier is not None:
        dept = _department(snap, joined, None)
        return Suggestion(category_code=None, confidence=0.0, auto_apply=False, source="model", explanation="", **dept)
    return found


def suggest_for_intake(*, title: str, description: str = "", category_code: str | None = None) -> Suggestion | None:
    """The callable named by settings.WANGGE_TRIAGE_SUGGEST: a suggestion for a new demand (or for the
    dispatch form of a demand whose category a person chose), or None."""
    return suggest(title=title, description=description, category_code=category_code)

"""Models activated and rolled back by people, rules first with their words, the threshold, feedback."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.accounts.models import Role
from wangge.core.errors import Conflict, ValidationFailed
from wangge.registry.testing import make_user
from wangge.triage import services
from wangge.triage.ml import TriageClassifier
from wangge.triage.models import LabelMapping, TrainingExample, TriageModel
from wangge.triage.testing import make_messages, make_triage_model

# These tests are about the model and an administrator's rules: the default rules would answer first.
pytestmark = pytest.mark.usefixtures("no_default_rules")


@pytest.fixture
def admin_user(tree: Any) -> Any:
    return make_user(role=Role.CITY_ADMIN, areas=[tree.city])


@pytest.fixture
def mapped(categories: dict[str, Any]) -> None:
    """The invented labels point at default county categories."""
    services.label_mapping_set(label="道路照明", category_code="0102")
    services.label_mapping_set(label="环境卫生", category_code="03")
    services.label_mapping_set(label="邻里纠纷", category_code="05")
    services.label_mapping_set(label="教育", category_code="08")


def test_new_versions_are_numbered_and_never_active_by_themselves(db: Any, classifier: TriageClassifier) -> None:
    first = make_triage_model(name="county", classifier=classifier)
    second = make_triage_model(name="county", classifier=classifier)
    assert (first.version, second.version) == (1, 2)
    assert not first.is_active and not second.is_active
    assert second.labels == ["教育", "环境卫生", "道路照明", "邻里纠纷"]
    assert bytes(second.file)[:2] == b"PK"  # a skops zip, not a pickle
    assert services.suggest_for_intake(title="路灯不亮", description="") is None


def test_activation_needs_a_person_and_rollback_returns_to_the_previous(
    db: Any, classifier: TriageClassifier, admin_user: Any
) -> None:
    v1 = make_triage_model(name="county", classifier=classifier)
    v2 = make_triage_model(name="county", classifier=classifier)
    with pytest.raises(ValidationFailed):
        services.triage_model_activate(model=v1, actor=None)
    services.triage_model_activate(model=v1, actor=admin_user)
    services.triage_model_activate(model=v2, actor=admin_user)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert v2.is_active and not v1.is_active
    assert v2.activated_by == admin_user and v2.replaced == v1
    assert TriageModel.objects.filter(is_active=True).count() == 1

    back = services.triage_model_rollback(actor=admin_user)
    assert back.pk == v1.pk
    v2.refresh_from_db()
    assert back.is_active and not v2.is_active
    with pytest.raises(Conflict):
        services.triage_model_rollback(actor=admin_user)


def test_a_mapped_label_is_only_a_suggestion_whatever_the_threshold(
    db: Any, classifier: TriageClassifier, admin_user: Any, mapped: None
) -> None:
    # The public sample's coarse labels mapped onto county categories auto-applied wrong categories:
    # a mapped label's held-out precision says nothing about the category, so it only suggests.
    model = make_triage_model(classifier=classifier, metrics={"auto_apply": {"threshold": 0.01}})
    services.triage_model_activate(model=model, actor=admin_user)
    services.triage_settings_update(auto_apply_confidence=0.01)
    s = services.suggest_for_intake(title="白沙路垃圾堆积无人清运", description="垃圾好几天没人清运")
    assert s is not None and s.source == "model"
    assert s.category_code == "03" and s.label == "环境卫生"
    assert s.auto_apply is False and "模型判断" in s.explanation


def _coded_model(admin_user: Any, threshold: float | None) -> Any:
    """A model trained on category codes (as from the county's own history), saved with a threshold."""
    from wangge.triage.testing import make_classifier

    codes = {"道路照明": "0102", "环境卫生": "0301", "邻里纠纷": "0501", "教育": "0801"}
    rows = [{**r, "label": codes[r["label"]]} for r in make_messages(per_label=15)]
    metrics = {"auto_apply": {"threshold": threshold}} if threshold is not None else {}
    model = make_triage_model(name="own", classifier=make_classifier(rows), trained_on="db", metrics=metrics)
    return services.triage_model_activate(model=model, actor=admin_user)


def test_a_category_is_applied_only_above_the_held_out_threshold(
    db: Any, admin_user: Any, categories: dict[str, Any]
) -> None:
    text = {"title": "白沙路垃圾堆积无人清运", "description": "垃圾好几天没人清运"}
    _coded_model(admin_user, threshold=0.2)
    services.triage_settings_update(auto_apply_confidence=0.1)
    high = services.suggest_for_intake(**text)
    assert high is not None and high.category_code == "0301" and high.confidence >= 0.2
    assert high.auto_apply is True

    # The county's own setting is a floor above the model's threshold.
    services.triage_settings_update(auto_apply_confidence=0.999)
    assert services.suggest_for_intake(**text).auto_apply is False  # type: ignore[union-attr]


def test_a_model_without_a_threshold_only_suggests(db: Any, admin_user: Any, categories: dict[str, Any]) -> None:
    _coded_model(admin_user, threshold=None)
    services.triage_settings_update(auto_apply_confidence=0.01)
    s = services.suggest_for_intake(title="白沙路垃圾堆积无人清运", description="垃圾好几天没人清运")
    assert s is not None and s.category_code == "0301" and s.auto_apply is False


def test_an_unmapped_label_is_shown_but_never_applied(db: Any, classifier: TriageClassifier, admin_user: Any) -> None:
    services.triage_model_activate(model=make_triage_model(classifier=classifier), actor=admin_user)
    services.triage_settings_update(auto_apply_confidence=0.01)
    s = services.suggest_for_intake(title="荷花小区楼上噪音扰民", description="")
    assert s is not None and s.label == "邻里纠纷"
    assert s.category_code is None and s.auto_apply is False


def test_keyword_rules_act_first_and_explain_themselves(
    db: Any, classifier: TriageClassifier, admin_user: Any, mapped: None, tree: Any
) -> None:
    services.triage_model_activate(model=make_triage_model(classifier=classifier), actor=admin_user)
    services.keyword_rule_create(
        pattern="路灯 不亮", category_code="0102", department_code=tree.department.code, priority=5
    )
    services.keyword_rule_create(pattern=r"井盖.{0,4}(丢|缺)", kind="regex", category_code="0103", priority=10)
    s = services.suggest_for_intake(title="金沙社区路灯一直不亮", description="晚上很黑")
    assert s is not None and s.source == "rule"
    assert s.explanation == "命中关键词：路灯、不亮"
    assert s.category_code == "0102" and s.department_code == tree.department.code
    assert s.confidence == 1.0 and s.auto_apply is True

    regex = services.suggest_for_intake(title="人民中路井盖丢了", description="")
    assert regex is not None and regex.source == "rule" and regex.explanation == "命中关键词：井盖丢"

    # Only one of the two words: the rule stays silent and the model answers.
    other = services.suggest_for_intake(title="路灯杆歪了", description="")
    assert other is not None and other.source == "model"


def test_rules_refuse_bad_patterns_and_unknown_categories(db: Any, categories: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as bad_regex:
        services.keyword_rule_create(pattern="(路灯", kind="regex", category_code="0102")
    assert bad_regex.value.field == "pattern"
    with pytest.raises(ValidationFailed) as bad_code:
        services.keyword_rule_create(pattern="路灯", category_code="nope")
    assert bad_code.value.field == "category_code"


def test_disabled_rules_do_not_act(db: Any, categories: dict[str, Any]) -> None:
    rule = services.keyword_rule_create(pattern="路灯", category_code="0102")
    assert services.suggest_for_intake(title="路灯坏了", description="") is not None
    services.keyword_rule_update(rule=rule, enabled=False)
    assert services.suggest_for_intake(title="路灯坏了", description="") is None


def test_default_mapping_covers_the_seven_public_labels(db: Any) -> None:
    labels = set(LabelMapping.objects.values_list("label", flat=True))
    assert {"城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生"} <= labels
    assert LabelMapping.objects.get(label="卫生计生").category_code == "09"


def test_intake_applies_a_confident_suggestion_and_feedback_is_kept(
    db: Any, tree: Any, admin_user: Any, categories: dict[str, Any]
) -> None:
    from wangge.demands.testing import make_demand

    services.keyword_rule_create(pattern="路灯", category_code="0102")
    demand = make_demand(grid=tree.grid, title="金沙社区路灯坏了", description="晚上看不见路")
    assert demand.category is not None and demand.category.code == "0102"
    assert demand.suggested_category is not None and demand.suggestion_confidence == 1.0

    example = services.triage_feedback(
        demand=demand,
        category_code="0101",
        department_code=tree.other_department.code,
        actor=admin_user,
        accepted=False,
    )
    assert TrainingExample.objects.count() == 1
    assert example.suggested_category_code == "0102" and example.category_code == "0101"
    assert example.accepted is False and example.actor == admin_user and example.title == "金沙社区路灯坏了"
    with pytest.raises(ValidationFailed):
        services.triage_feedback(demand=demand, category_code="0101", actor=None, accepted=True)


def test_a_suggestion_under_the_threshold_is_not_applied_at_intake(
    db: Any, tree: Any, classifier: TriageClassifier, admin_user: Any, mapped: None
) -> None:
    from wangge.demands.testing import make_demand

    services.triage_model_activate(model=make_triage_model(classifier=classifier), actor=admin_user)
    services.triage_settings_update(auto_apply_confidence=1.0)
    demand = make_demand(grid=tree.grid, title="白沙路垃圾堆积无人清运", description="垃圾好几天没人清运")
    assert demand.category is None
    assert demand.suggested_category is not None and demand.suggested_category.code == "03"
    assert 0 < demand.suggestion_confidence < 1.0

"""Suggestions from the first day: default rules, the held-out auto-apply threshold, retraining from the
county's own history, departments learned from dispatches, and models loaded before the first request."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.demands.models import Category, Demand
from wangge.demands.testing import make_demand
from wangge.registry.testing import make_user
from wangge.triage import runtime, services
from wangge.triage.default_rules import DEFAULT_RULES, NOTE
from wangge.triage.evaluation import at_threshold, safe_threshold
from wangge.triage.ml import TriageClassifier
from wangge.triage.models import KeywordRule, TriageModel
from wangge.triage.testing import make_messages, write_csv
from wangge.triage.training import retrain_pass


def _leaf_codes() -> set[str]:
    import importlib

    catalogue = importlib.import_module("wangge.demands.migrations.0002_default_categories").CATALOGUE
    return {code for _, _, children in catalogue for code, *_ in children}


# --- default rules --------------------------------------------------------------------------------


def test_every_default_category_has_a_rule_that_compiles() -> None:
    covered = {code for code, _, _ in DEFAULT_RULES}
    assert _leaf_codes() - covered == set()
    for _, pattern, _ in DEFAULT_RULES:
        re.compile(pattern)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("楼道里闻到很重的燃气味", "1201"),
        ("东门那个井盖丢了，路过容易踩空", "0103"),
        ("小区要加装电梯，想咨询流程", "0604"),
        ("村口那棵老樟树枯死了", "0401"),
        ("集镇公厕没人打扫", "0302"),
        ("消防通道被私家车堵住了", "1001"),
    ],
)
def test_a_fresh_install_suggests_from_the_default_rules_and_a_person_confirms(
    db: Any, tree: Any, text: str, code: str
) -> None:
    assert KeywordRule.objects.filter(note=NOTE, auto_apply=False).count() == len(DEFAULT_RULES)
    s = services.suggest_for_intake(title=text, description="")
    assert s is not None and s.source == "rule" and s.category_code == code
    assert s.auto_apply is False and s.explanation.startswith("命中关键词")
    demand = make_demand(grid=tree.grid, title=text, description=text)
    assert demand.category is None and demand.suggested_category.code == code


def test_default_rules_are_edited_through_the_service(db: Any, categories: Any) -> None:
    rule = KeywordRule.objects.get(note=NOTE, category_code="0102")
    services.keyword_rule_update(rule=rule, enabled=False)
    s = services.suggest_for_intake(title="路灯坏了好几天", description="")
    assert s is None or s.category_code != "0102"
    services.keyword_rule_update(rule=rule, enabled=True, auto_apply=True)
    s = services.suggest_for_intake(title="路灯坏了好几天", description="")
    assert s is not None and s.category_code == "0102" and s.auto_apply is True


# --- the threshold --------------------------------------------------------------------------------


def test_the_threshold_is_the_lowest_confidence_that_keeps_the_precision() -> None:
    # 30 sure and right, then 10 at 0.6 of which 5 wrong, then 20 at 0.3 mostly wrong.
    conf = [0.95] * 30 + [0.6] * 10 + [0.3] * 20
    ok = [True] * 30 + [True, False] * 5 + [False] * 15 + [True] * 5
    chosen = safe_threshold(conf, ok, precision=0.97, min_rows=20)
    assert chosen["threshold"] == 0.95 and chosen["precision"] == 1.0 and chosen["coverage"] == 0.5
    loose = safe_threshold(conf, ok, precision=0.85, min_rows=20)
    assert loose["threshold"] == 0.6 and loose["coverage"] == round(40 / 60, 4)
    assert safe_threshold(conf[30:], ok[30:], precision=0.97)["threshold"] is None
    assert at_threshold(conf, ok, 0.6) == {"threshold": 0.6, "precision": 0.875, "coverage": round(40 / 60, 4)}
    assert at_threshold(conf, ok, None)["coverage"] == 0.0


def test_train_stores_the_threshold_and_evaluate_reports_precision_and_coverage(db: Any, tmp_path: Path) -> None:
    labelled = write_csv(tmp_path / "labelled.csv", make_messages(per_label=30))
    out = StringIO()
    call_command("triage_train", "--csv", str(labelled), "--model", "county", stdout=out)
    model = TriageModel.objects.get(name="county")
    auto = model.metrics["auto_apply"]
    assert model.metrics["held_out"]["rows"] == 24 and auto["target"] == 0.97
    assert "held-out" in out.getvalue()
    out = StringIO()
    call_command("triage_evaluate", "--csv", str(labelled), "--model", "county", stdout=out)
    last = json.loads(out.getvalue().strip().splitlines()[-1])
    assert {"accuracy", "macro_f1", "per_label", "ms_per_message", "rows", "model"} <= set(last)
    assert last["auto_apply_threshold"] == auto["threshold"] and last["target"] == "category"
    if auto["threshold"] is not None:
        assert last["auto_apply_precision"] is not None and 0 < last["auto_apply_coverage"] <= 1


# --- the county's history -------------------------------------------------------------------------


def _history(tree: Any, per_label: int, *, start: int = 0) -> None:
    """Handled demands (closed under a category, as staff left them) of two invented topics."""
    lights, rubbish = Category.objects.get(code="0102"), Category.objects.get(code="0301")
    rows = make_messages(per_label=per_label + start, labels=["道路照明", "环境卫生"])
    for r in rows:
        if int(r["id"][1:]) % (per_label + start) < start and start:
            continue
        d = make_demand(grid=tree.grid, title=r["title"], description=r["body"] or r["title"])
        cat = lights if r["label"] == "道路照明" else rubbish
        Demand.objects.filter(pk=d.pk).update(category=cat, suggested_category=None, state="closed")


def test_the_worker_retrains_when_enough_labels_arrive_and_keeps_only_a_better_model(
    db: Any, tree: Any, settings: Any, no_default_rules: None
) -> None:
    settings.TRIAGE_RETRAIN_MIN_NEW_LABELS = 20
    settings.TRIAGE_RETRAIN_CHECK_SECONDS = 0  # every pass checks (the default: once an hour)
    _history(tree, 6)
    first = retrain_pass()
    assert first["category"]["action"] == "wait" and first["category"]["new"] == 12

    _history(tree, 10)
    kept = retrain_pass()
    assert kept["category"]["action"] == "kept"
    model = TriageModel.objects.get(name="county-category")
    assert not model.is_active and model.trained_on == "db" and model.trained_rows == 32
    assert sorted(model.labels) == ["0102", "0301"] and "auto_apply" in model.metrics
    assert retrain_pass()["category"]["action"] == "wait"  # nothing new since

    # A person activates it; more of the same cannot beat a model already right on the slice.
    services.triage_model_activate(model=model, actor=make_user(role=Role.CITY_ADMIN, areas=[tree.city]))
    _history(tree, 10)
    again = retrain_pass()
    assert again["category"]["action"] == "discarded"
    assert TriageModel.objects.filter(name="county-category").count() == 1


def test_retraining_reads_only_the_newest_labels_and_counts_every_one(
    db: Any, tree: Any, settings: Any, no_default_rules: None
) -> None:
    """A county's years of history are not read into the worker: the newest TRIAGE_RETRAIN_MAX_ROWS rows
    train the model, and the next retraining waits for new labels beyond every one counted then."""
    from wangge.triage import selectors

    settings.TRIAGE_RETRAIN_MIN_NEW_LABELS = 20
    settings.TRIAGE_RETRAIN_CHECK_SECONDS = 0
    settings.TRIAGE_RETRAIN_MAX_ROWS = 24
    _history(tree, 20)
    newest = list(Demand.objects.order_by("-pk").values_list("title", flat=True)[:24])
    assert [t for t, _d, _c in selectors.rows_for("category", limit=24)] == newest
    kept = retrain_pass()
    assert kept["category"]["action"] == "kept"
    model = TriageModel.objects.get(name="county-category")
    assert model.trained_rows == 24 and model.metrics["labels_total"] == 40
    assert retrain_pass()["category"] == {"action": "wait", "new": 0, "need": 20}


def test_the_check_runs_once_per_interval_and_in_one_worker(db: Any) -> None:
    from wangge.triage.training import _claim, _release

    assert _claim() is True  # another worker's check, just now
    assert retrain_pass() == {"action": "not due"}
    _release()
    assert retrain_pass()["category"]["action"] == "wait"


# --- departments ----------------------------------------------------------------------------------


def _dispatched_history(tree: Any) -> None:
    """Lights went to one department, rubbish to the other (as `demand_dispatch` records it)."""
    for r in make_messages(per_label=12, labels=["道路照明", "环境卫生"]):
        d = make_demand(grid=tree.grid, title=r["title"], description=r["body"] or r["title"])
        dept = tree.department if r["label"] == "道路照明" else tree.other_department
        Demand.objects.filter(pk=d.pk).update(dispatched_department=dept)


def test_departments_are_learned_from_dispatches_and_offered_on_the_dispatch_form(
    db: Any, tree: Any, personas: Any, no_default_rules: None
) -> None:
    _dispatched_history(tree)
    out = StringIO()
    call_command("triage_train", "--from-db", "--label", "department", "--model", "where", stdout=out)
    model = TriageModel.objects.get(name="where")
    assert model.target == "department"
    assert sorted(model.labels) == sorted([tree.department.code, tree.other_department.code])
    services.triage_model_activate(model=model, actor=personas[Role.CITY_ADMIN])

    s = services.suggest_for_intake(title="白沙路垃圾堆积无人清运", description="垃圾好几天没人清运")
    assert s is not None and s.category_code is None
    assert s.department_code == tree.other_department.code and s.department_source == "model"
    assert s.department_confidence is not None and 0.5 < s.department_confidence <= 1

    # The holder who dispatches sees it on the demand page's dispatch form, preselected.
    d = make_demand(grid=tree.grid, title="荷花小区垃圾堆积无人清运", description="垃圾好几天没人清运")
    from wangge.demands import services as demand_services

    demand_services.demand_escalate(demand=d, actor=personas[Role.GRID_LEADER], reason="需要上级")
    demand_services.demand_accept(demand=d, actor=personas[Role.BRANCH])
    demand_services.demand_escalate(demand=d, actor=personas[Role.BRANCH], reason="需要村里")
    village = Client()
    village.force_login(personas[Role.VILLAGE])
    body = village.get(reverse("demands:detail", args=[d.pk])).content.decode()
    assert 'data-testid="department-suggestion"' in body and tree.other_department.name in body
    assert 'data-testid="department-confidence"' in body
    assert f'<option value="{tree.other_department.pk}" selected>' in body
    # A grid leader cannot dispatch: no suggestion is shown to them.
    leader = Client()
    leader.force_login(personas[Role.GRID_LEADER])
    other = make_demand(grid=tree.grid, title="荷花小区垃圾堆积无人清运", description="垃圾没人清运")
    assert (
        'data-testid="department-suggestion"'
        not in leader.get(reverse("demands:detail", args=[other.pk])).content.decode()
    )


def test_a_chosen_category_names_its_default_department_without_a_model(db: Any, tree: Any) -> None:
    Category.objects.filter(code="0102").update(default_department=tree.department)
    runtime.invalidate()
    s = services.suggest_for_intake(title="有个问题", description="", category_code="0102")
    assert s is not None and s.department_code == tree.department.code and s.department_source == "category"


# --- loading before the first request -------------------------------------------------------------


def test_the_first_request_after_start_does_not_load_the_model(
    db: Any, tree: Any, personas: Any, classifier: TriageClassifier, no_default_rules: None
) -> None:
    from wangge.core.hooks import run_startup_hooks
    from wangge.triage.testing import make_triage_model

    services.label_mapping_set(label="道路照明", category_code="0102")
    model = make_triage_model(classifier=classifier)
    services.triage_model_activate(model=model, actor=personas[Role.CITY_ADMIN])
    runtime._classifiers.clear()
    try:
        with mock.patch.object(runtime, "_refresh_forever"):  # no thread in a test
            runs = run_startup_hooks()  # what config/wsgi.py does as a web process starts
        assert [r.path for r in runs] == ["wangge.triage.runtime.preload"] and all(r.ok for r in runs)
        with mock.patch.object(TriageClassifier, "loads", side_effect=AssertionError("loaded in a request")):
            client = Client()
            client.force_login(personas[Role.GRID_LEADER])
            frag = client.get(reverse("demands:suggestion"), {"title": "荷花小区路灯不亮"}).content.decode()
        assert 'data-use-category="0102"' in frag
    finally:
        runtime.reset_preload()


def test_a_preloaded_process_swaps_in_a_new_model_off_the_request_path(
    db: Any, personas: Any, classifier: TriageClassifier, no_default_rules: None
) -> None:
    from wangge.triage.testing import make_triage_model

    with mock.patch.object(runtime, "_refresh_forever"):
        runtime.preload()
    try:
        assert runtime.snapshot().classifier is None
        model = make_triage_model(classifier=classifier)
        services.triage_model_activate(model=model, actor=personas[Role.CITY_ADMIN])
        # Requests keep the snapshot they had; the refresher (called here by hand) loads the new one.
        assert runtime.snapshot().classifier is None
        runtime._refresh(runtime.snapshot())
        assert runtime.snapshot().model_id == model.pk and runtime.snapshot().classifier is not None
    finally:
        runtime.reset_preload()


def test_the_commands_train_and_evaluate_a_department_column_of_a_csv(db: Any, tree: Any, tmp_path: Path) -> None:
    units = {"道路照明": tree.department.code, "环境卫生": tree.other_department.code}
    rows = [{**r, "unit": units[r["label"]]} for r in make_messages(per_label=30, labels=list(units))]
    path = write_csv(tmp_path / "orders.csv", rows)
    call_command("triage_train", "--csv", str(path), "--label", "unit", "--model", "routing", stdout=StringIO())
    model = TriageModel.objects.get(name="routing")
    assert model.target == "department" and sorted(model.labels) == sorted(units.values())
    out = StringIO()
    call_command("triage_evaluate", "--csv", str(path), "--label", "unit", "--model", "routing", stdout=out)
    last = json.loads(out.getvalue().strip().splitlines()[-1])
    assert last["target"] == "department" and set(last["per_label"]) == set(units.values())
    assert 0.5 < last["accuracy"] <= 1


def test_the_hook_starts_the_retraining_in_a_process_of_its_own_and_returns(
    db: Any, settings: Any, tmp_path: Any
) -> None:
    """The worker's pass is not held while a model fits: the hook starts TRIAGE_RETRAIN_COMMAND (here a
    stand-in that waits for a file, then writes one) and returns; while it runs, a pass says so and
    starts no other; once it has ended, the next due check starts one again."""
    import sys
    import time

    from wangge.triage import training

    go, done = tmp_path / "go", tmp_path / "done"
    script = (
        "import pathlib, sys, time\n"
        "go, done = map(pathlib.Path, sys.argv[1:])\n"
        "while not go.exists(): time.sleep(0.02)\n"
        "done.write_text('retrained')\n"
    )
    settings.TRIAGE_RETRAIN_COMMAND = [sys.executable, "-c", script, str(go), str(done)]
    settings.TRIAGE_RETRAIN_CHECK_SECONDS = 0
    started = time.perf_counter()
    first = training.retrain_pass()
    assert first["action"] == "started" and time.perf_counter() - started < 5
    assert training.retrain_pass() == {"action": "running", "pid": first["pid"]}
    go.write_text("")
    child = training._child
    assert child is not None and child.wait(timeout=30) == 0
    assert done.read_text() == "retrained"
    again = training.retrain_pass()
    assert again["action"] == "started" and again["pid"] != first["pid"]
    go.write_text("")
    assert training._child is not None and training._child.wait(timeout=30) == 0


def test_the_retrain_command_prints_what_it_did(db: Any, tree: Any, settings: Any, no_default_rules: None) -> None:
    from io import StringIO

    from django.core.management import call_command

    settings.TRIAGE_RETRAIN_MIN_NEW_LABELS = 20
    _history(tree, 10)
    out = StringIO()
    call_command("triage_retrain", stdout=out)
    done = json.loads(out.getvalue().splitlines()[-1])
    assert done["category"]["action"] == "kept" and done["category"]["rows"] == 20
    assert TriageModel.objects.filter(name="county-category", is_active=False).count() == 1

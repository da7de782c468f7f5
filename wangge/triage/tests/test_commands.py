"""The four commands end to end on CSV files the tests write (never the shared sample)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from wangge.triage.models import TriageModel
from wangge.triage.testing import make_messages, write_csv


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "labelled.csv", make_messages(per_label=15))


def test_train_evaluate_predict(db: Any, labelled: Path, tmp_path: Path) -> None:
    out = run("triage_train", "--csv", str(labelled), "--text", "title,body", "--label", "label", "--model", "county")
    assert "county v1" in out and "60 rows" in out
    run("triage_train", "--csv", str(labelled), "--text", "title,body", "--label", "label", "--model", "county")
    v1, v2 = TriageModel.objects.filter(name="county").order_by("version")
    assert (v1.version, v2.version) == (1, 2)
    assert not v1.is_active and not v2.is_active
    assert v2.trained_rows == 60 and v2.trained_on.startswith("csv:") and v2.metrics["label_counts"]["教育"] == 15

    held_out = write_csv(tmp_path / "held.csv", make_messages(per_label=6, with_body_every=3))
    out = run(
        "triage_evaluate", "--csv", str(held_out), "--text", "title,body", "--label", "label", "--model", "county"
    )
    last = json.loads(out.strip().splitlines()[-1])
    assert set(last) >= {"accuracy", "macro_f1", "per_label", "ms_per_message", "rows", "model"}
    assert last["rows"] == 24 and last["model"] == "county v2"
    assert set(last["per_label"]) == {"道路照明", "环境卫生", "邻里纠纷", "教育"}
    assert set(last["per_label"]["教育"]) == {"precision", "recall", "f1", "support"}
    assert last["macro_f1"] >= 0.8  # the invented topics are easy to tell apart
    assert "宏平均 F1 macro-F1" in out

    out = run("triage_predict", "--model", "county", "--version", "1", "荷花小区路灯坏了，晚上一片漆黑")
    assert "类别 label: 道路照明" in out and "county v1" in out
    assert "置信度 confidence:" in out and "前三 top-3:" in out and "依据 explanation:" in out


def test_train_with_cv_and_activate(db: Any, labelled: Path) -> None:
    out = run("triage_train", "--csv", str(labelled), "--model", "cv", "--cv", "3", "--activate")
    model = TriageModel.objects.get(name="cv")
    assert model.is_active and "triage_train --activate" in model.activated_via
    assert model.metrics["cv"]["folds"] == 3 and 0 <= model.metrics["cv"]["macro_f1"] <= 1
    assert "3-fold CV" in out


def test_train_from_db_uses_confirmed_demands_and_feedback(db: Any, tree: Any, no_default_rules: None) -> None:
    from wangge.demands.models import Category, Demand
    from wangge.demands.testing import make_demand
    from wangge.registry.testing import make_user
    from wangge.triage.services import triage_feedback

    actor = make_user(role="city_admin", areas=[tree.city])
    lights, rubbish = Category.objects.get(code="0102"), Category.objects.get(code="0301")
    for r in make_messages(per_label=6, labels=["道路照明", "环境卫生"]):
        d = make_demand(grid=tree.grid, title=r["title"], description=r["body"] or r["title"])
        if r["label"] == "道路照明":
            Demand.objects.filter(pk=d.pk).update(category=lights, state="closed")
        else:
            triage_feedback(demand=d, category_code=rubbish.code, actor=actor, accepted=False)
    out = run("triage_train", "--from-db", "--model", "own")
    model = TriageModel.objects.get(name="own")
    assert model.trained_on == "db" and model.trained_rows == 12
    assert sorted(model.labels) == ["0102", "0301"]
    assert "own v1" in out


def test_commands_explain_bad_input(db: Any, labelled: Path) -> None:
    with pytest.raises(CommandError, match="missing columns"):
        run("triage_train", "--csv", str(labelled), "--text", "title,content", "--model", "x")
    with pytest.raises(CommandError, match="no model"):
        run("triage_evaluate", "--csv", str(labelled), "--model", "absent")
    with pytest.raises(CommandError, match="letters, digits"):
        run("triage_train", "--csv", str(labelled), "--model", "bad name!")


def test_hot_prints_two_groups_with_masked_text(tmp_path: Path) -> None:
    rows = []
    for i, t in enumerate(
        ["荷花小区路灯不亮好几天了", "荷花小区的路灯坏了晚上不亮", "荷花小区路灯晚上不亮请维修", "荷花小区路灯又不亮了"]
    ):
        rows.append(
            {
                "id": f"L{i}",
                "user": f"u{i}",
                "title": t,
                "body": "",
                "created_at": "2026-04-02 10:00:00",
                "likes": "3",
                "dislikes": "1",
            }
        )
    for i, t in enumerate(
        ["白沙路夜宵摊噪音扰民 电话13812345678", "白沙路夜宵摊深夜噪音太大", "投诉白沙路夜宵摊噪音扰民"]
    ):
        rows.append(
            {
                "id": f"N{i}",
                "user": f"n{i}",
                "title": t,
                "body": "",
                "created_at": "2026-04-03 22:00:00",
                "likes": "0",
                "dislikes": "0",
            }
        )
    rows.append(
        {
            "id": "OLD",
            "user": "x",
            "title": "荷花小区路灯不亮",
            "body": "",
            "created_at": "2025-01-01 10:00:00",
            "likes": "0",
            "dislikes": "0",
        }
    )
    rows.append(
        {
            "id": "S1",
            "user": "y",
            "title": "孩子入学报名咨询",
            "body": "",
            "created_at": "2026-04-03 10:00:00",
            "likes": "0",
            "dislikes": "0",
        }
    )
    path = write_csv(tmp_path / "hot.csv", rows)
    out = run("triage_hot", "--csv", str(path), "--text", "title,body", "--since", "2026-04-01", "--top", "5", "--json")
    lines = out.strip().splitlines()
    assert lines[0].startswith("8 条留言")  # OLD is before --since
    groups = json.loads(lines[-1])
    assert len(groups) == 2
    assert groups[0]["size"] == 4 and "路灯" in groups[0]["name"] and groups[0]["support"] == 8
    assert "OLD" not in groups[0]["ids"]
    assert groups[1]["size"] == 3
    assert "13812345678" not in out and "138****5678" in out


# --- triage_duplicates_evaluate ---------------------------------------------------------------

PAIRS = [
    ("荷花小区路灯不亮", "荷花小区三号楼前的路灯坏了一个星期，晚上一片漆黑"),
    ("幼儿园收费过高", "孩子所在的幼儿园这学期收费涨了很多，家长负担重"),
    ("垃圾站臭味扰民", "菜市场旁边的垃圾站夏天臭气熏天，附近居民受不了"),
    ("窨井盖不见了", "文化路口的井盖丢了好几天，车辆经过很危险"),
    # A title that says less of its own body than of the first one: found second, not first.
    ("路灯晚上不亮", "西门那盏路灯坏了，请修一下"),
    # The same body posted twice: finding either is finding it.
    ("夜市噪音扰民", "路边摊夜里噪音很大，吵得睡不着"),
    ("路边摊太吵", "路边摊夜里噪音很大，吵得睡不着"),
]


def test_duplicates_evaluate_reports_recall_and_time(db: Any, tmp_path: Path) -> None:
    rows = [{"id": str(i), "title": t, "body": b} for i, (t, b) in enumerate(PAIRS, start=1)]
    rows.append({"id": "99", "title": "只有标题没有正文", "body": ""})  # no target: skipped
    path = write_csv(tmp_path / "pairs.csv", rows)
    out = run("triage_duplicates_evaluate", "--csv", str(path), "--query", "title", "--target", "body")
    last = json.loads(out.strip().splitlines()[-1])
    assert last["rows"] == 7 and last["skipped"] == 1
    assert last["recall_at_1"] == round(6 / 7, 4)  # only the street light of 西门 is found second
    assert last["recall_at_5"] == 1.0
    assert last["ms_per_query"] > 0 and (last["query"], last["target"]) == ("title", "body")
    assert "召回率 recall@1: 0.8571" in out


def test_duplicates_evaluate_names_what_is_wrong(db: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "pairs.csv", [{"title": "路灯不亮", "body": "路灯坏了"}])
    with pytest.raises(CommandError, match="text"):
        run("triage_duplicates_evaluate", "--csv", str(path), "--query", "title", "--target", "text")
    with pytest.raises(CommandError, match=r"differ|不能相同"):
        run("triage_duplicates_evaluate", "--csv", str(path), "--query", "title", "--target", "title")

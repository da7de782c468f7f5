"""Small invented fixtures for triage tests (never the shared sample files)."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Any

from wangge.triage.ml import Params, TriageClassifier, join_text

PLACES = ["金沙社区", "北正社区", "集里街道", "淮川街道", "荷花小区", "梨园村", "白沙路", "人民中路"]

# Label → (title templates, body templates); {p} is a place.
TOPICS: dict[str, tuple[list[str], list[str]]] = {
    "道路照明": (
        ["{p}路灯不亮", "{p}的路灯坏了没人修", "{p}道路坑洼难行", "{p}路面塌陷请维修", "{p}井盖缺失很危险"],
        [
            "晚上路灯一直不亮，行人走路看不清，请尽快派人维修路灯。",
            "路面到处是坑，下雨积水，电动车经常摔倒，希望修补道路。",
            "井盖丢了好几天，晚上很危险，请相关部门补上井盖。",
        ],
    ),
    "环境卫生": (
        ["{p}垃圾堆积无人清运", "{p}垃圾桶满了发臭", "{p}污水外溢臭气熏天", "{p}公厕脏乱", "{p}河道漂浮垃圾"],
        [
            "垃圾好几天没人清运，苍蝇蚊子很多，气味难闻，请环卫部门处理。",
            "下水道堵塞污水流到路上，臭味很大，请尽快疏通清理。",
            "公共厕所没人打扫，卫生状况很差，请加强保洁。",
        ],
    ),
    "邻里纠纷": (
        ["{p}楼上噪音扰民", "{p}邻居深夜装修吵闹", "{p}邻居占用公共楼道", "{p}两户因漏水发生纠纷", "{p}广场舞音响太吵"],
        [
            "楼上每天深夜敲打装修，噪音很大影响休息，多次沟通无果，请社区调解。",
            "邻居把杂物堆在楼道里，堵塞通道，双方发生争吵，希望协调解决。",
            "广场舞音响声音太大，一直到晚上十点，老人孩子无法休息。",
        ],
    ),
    "教育": (
        ["{p}孩子入学报名咨询", "{p}学校门口交通安全隐患", "{p}幼儿园收费过高", "{p}学区划分不合理", "{p}校车超载"],
        [
            "孩子今年要上小学，想咨询入学报名需要哪些材料，学区怎么划分。",
            "放学时学校门口车辆很多，学生过马路很危险，希望安排人员疏导。",
            "幼儿园收费比去年涨了很多，家长负担重，请教育部门核查。",
        ],
    ),
}


def make_messages(
    *, per_label: int = 15, labels: list[str] | None = None, with_body_every: int = 2
) -> list[dict[str, str]]:
    """Invented labelled messages: every label, places and templates in turn, a body on every other row."""
    rows: list[dict[str, str]] = []
    n = 0
    for label in labels or list(TOPICS):
        titles, bodies = TOPICS[label]
        combos = itertools.cycle(itertools.product(titles, PLACES))
        for i in range(per_label):
            title_t, place = next(combos)
            n += 1
            body = bodies[i % len(bodies)] if i % with_body_every == 0 else ""
            rows.append(
                {"id": f"m{n:03d}", "title": title_t.format(p=place), "body": body, "label": label, "created_at": ""}
            )
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    fields: list[str] = []
    for r in rows:
        for k in r:
            if k not in fields:
                fields.append(k)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def make_classifier(rows: list[dict[str, str]] | None = None, **params: Any) -> TriageClassifier:
    """A classifier fitted on the invented messages (small and fast)."""
    rows = rows or make_messages()
    return TriageClassifier(Params(**params)).fit(
        [join_text(r["title"], r["body"]) for r in rows], [r["label"] for r in rows]
    )


def make_triage_model(*, name: str = "test", classifier: TriageClassifier | None = None, **kw: Any) -> Any:
    from wangge.triage.services import triage_model_create

    return triage_model_create(
        name=name,
        classifier=classifier or make_classifier(),
        trained_on=kw.pop("trained_on", "csv:test.csv"),
        trained_rows=kw.pop("trained_rows", 60),
        **kw,
    )

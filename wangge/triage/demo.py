"""Demo data for triage: a week of resident reports with a few clusters, so hot issues are not empty.

`seed(city_area)` is a hook for `seed_demo` (WANGGE_DEMO_HOOKS). It files 30 demands through
`demand_submit` in the city's first villages, as residents would on the report page: five
neighbours about the same dead street light, four about the same blocked drain, four about a
late-night food stall's noise, three about one pothole outside a school, and fourteen unrelated
reports. Two more neighbours follow the street light instead of filing again. A few keyword rules
make the category suggestion explain itself on the staff pages. Every demand carries an
idempotency key, so a second run files nothing new. Texts and phone numbers are invented.

Then it trains the two models of the county's own history (the demand history `demands.demo` wrote
before this hook: handled categories, and where demands were dispatched) through the same path as
the worker's retraining, and activates them as the demo's operator, so the first run suggests
categories and departments. A second run trains nothing (the models exist).
"""

from __future__ import annotations

import random
import re

from wangge.core.phones import demo_mobile
from wangge.demands.models import Demand
from wangge.demands.services import demand_follow, demand_submit
from wangge.registry.models import Area, Level
from wangge.triage import selectors
from wangge.triage.ml import join_text
from wangge.triage.models import KeywordRule, Target, TriageModel
from wangge.triage.services import keyword_rule_create, triage_model_activate
from wangge.triage.training import train_model

DEMO_MODELS = {Target.CATEGORY: "demo-category", Target.DEPARTMENT: "demo-department"}

# (cluster, village index, texts): each text one resident's words; a cluster stays in one village.
CLUSTERS: list[tuple[str, int, list[str]]] = [
    (
        "light",
        0,
        [
            "文化广场路灯不亮，晚上一片漆黑，老人散步很危险。",
            "文化广场的路灯坏了不亮，已经好几天了，请尽快维修。",
            "文化广场路灯晚上不亮，已经一个星期了。",
            "文化广场那排路灯不亮，小孩放学经过很怕。",
            "文化广场路灯坏了晚上不亮，希望早点派人来修。",
        ],
    ),
    (
        "drain",
        0,
        [
            "农贸市场后门下水道堵塞，污水外溢到路面，臭味很大。",
            "农贸市场后门下水道堵了，污水流到路上，请疏通。",
            "农贸市场后门的下水道又堵塞了，污水外溢好几天。",
            "农贸市场后门下水道堵塞污水外溢，走路都要绕开。",
        ],
    ),
    (
        "noise",
        1,
        [
            "沿河路夜宵摊噪音扰民，每天凌晨还在营业，无法休息。",
            "沿河路夜宵摊深夜噪音扰民，音响开得很响。",
            "沿河路夜宵摊半夜噪音扰民，请管一管。",
            "沿河路夜宵摊噪音扰民到凌晨两点，孩子没法睡觉。",
        ],
    ),
    (
        "pothole",
        0,
        [
            "实验小学门口路面坑洼，下雨积水，接送孩子很不方便。",
            "实验小学门口路面坑洼有好几个大坑，电动车容易摔倒。",
            "实验小学门口路面坑洼不平，请尽快修补。",
        ],
    ),
]
SINGLES: list[str] = [
    "孩子今年上小学，想咨询入学报名需要哪些材料。",
    "三组李大爷独居，最近身体不好，希望社区上门看看。",
    "小区电梯经常停在半层，请物业检修。",
    "楼上卫生间漏水到我家天花板，协商不成，请调解。",
    "村口那棵老樟树枯死了，树枝随时会掉下来。",
    "想了解低保申请的条件和流程。",
    "公交站台的顶棚破了，下雨没地方躲。",
    "河边的护栏松动了，担心有人掉下去。",
    "小区垃圾桶满了两天没人清运，气味难闻。",
    "建议在村卫生室增加夜间值班。",
    "表扬网格员小刘，帮我们家解决了用水问题。",
    "停车位被长期占用堆放杂物，请协调清理。",
    "自来水有黄色沉淀，不敢饮用。",
    "广场健身器材坏了一个，小孩玩耍有危险。",
]
# Keyword rules that act before any model and say which words they matched (category codes of the catalogue).
RULES: list[tuple[str, str]] = [
    ("路灯 不亮", "0102"),
    ("下水道 堵", "0303"),
    ("噪音", "0501"),
    ("电梯", "0601"),
]
FOLLOWERS = 2


def seed(city_area: Area, *, seed_value: int = 2026) -> dict[str, int]:
    """Thirty demands this week in a few clusters (see the module docstring); nothing new on a second run."""
    rng = random.Random(seed_value)
    villages = list(Area.objects.filter(level=Level.VILLAGE, path__startswith=city_area.path).order_by("path")[:3])
    if not villages:
        raise ValueError("the city has no villages: run seed_demo first")
    grids = {
        v.pk: list(Area.objects.filter(level=Level.GRID, path__startswith=v.path).order_by("path")[:6])
        for v in villages
    }
    rules = 0
    for pattern, code in RULES:
        if not KeywordRule.objects.filter(pattern=pattern, note="演示规则").exists():
            keyword_rule_create(pattern=pattern, category_code=code, note="演示规则")
            rules += 1

    filed = 0

    def submit(key: str, text: str, village: Area, n: int) -> Demand:
        nonlocal filed
        cells = grids[village.pk] or [village]
        place = cells[n % len(cells)]
        submitted = demand_submit(
            channel="resident_web",
            # What a resident's first words say, as the report page makes titles (first clause).
            title=re.split("[，。！？]", text, maxsplit=1)[0][:30],
            description=text,
            reporter_phone=demo_mobile(rng),
            grid=place if place.level == Level.GRID else None,
            area=None if place.level == Level.GRID else place,
            idempotency_key=key,
        )
        filed += 0 if submitted.replayed else 1
        return submitted.demand

    first: dict[str, Demand] = {}
    for name, index, texts in CLUSTERS:
        village = villages[min(index, len(villages) - 1)]
        for n, text in enumerate(texts):
            demand = submit(f"demo-triage-{name}-{n}", text, village, n)
            first.setdefault(name, demand)
    for n, text in enumerate(SINGLES):
        submit(f"demo-triage-single-{n}", text, villages[n % len(villages)], n)

    followed = 0
    light = first["light"]
    for _ in range(FOLLOWERS):
        phone = demo_mobile(rng)
        if light.is_open and not light.followers.filter(phone=phone).exists():
            demand_follow(demand=light, phone=phone)
            followed += 1
    return {"demands": filed, "followers": followed, "rules": rules, "models": train_demo_models()}


def train_demo_models() -> int:
    """A category and a department model trained on the demo's own history and activated (once)."""
    trained = 0
    for target, name in DEMO_MODELS.items():
        if TriageModel.objects.filter(name=name).exists():
            continue
        rows = selectors.rows_for(target)
        labels = [c for _, _, c in rows]
        if len(set(labels)) < 2:
            continue
        model = train_model([join_text(t, d) for t, d, _ in rows], labels, name=name, target=target, source="db")
        triage_model_activate(model=model, actor=None, via="seed_demo")
        trained += 1
    return trained

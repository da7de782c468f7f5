"""Demo data for open government: the 26 standard domains and a catalogue for the city, its first town and village.

`seed(city_area)` is the hook for `seed_demo`; `seed_domains()` alone loads the 26 domains of the
reference city's standard catalogue (基层政务公开标准目录). A few items are published, one has a
second version, one is a draft. Everything goes through the services; a second run changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from wangge.accounts.models import Role, User
from wangge.accounts.services import user_create
from wangge.opengov import services
from wangge.opengov.models import DisclosureDomain, DisclosureItem, Frequency
from wangge.registry.models import Area, Level

DEMO_PASSWORD = "wangge-demo-2026"

# The 26 domains of the reference city's catalogue, in its order.
DOMAINS: list[str] = [
    "财政预决算",
    "重大建设项目",
    "公共资源配置",
    "社会救助",
    "教育",
    "医疗卫生",
    "食品药品监管",
    "环境保护",
    "安全生产",
    "征地补偿",
    "住房保障",
    "就业创业",
    "乡村振兴（扶贫）",
    "养老服务",
    "户籍管理",
    "涉农补贴",
    "义务教育",
    "城市综合执法",
    "市政服务",
    "规划",
    "交通运输",
    "农村危房改造",
    "国有土地上房屋征收",
    "行政许可",
    "行政处罚",
    "政务服务",
]


@transaction.atomic
def seed_domains() -> int:
    """Load the 26 standard domains (codes GK01…GK26); existing ones are left as they are."""
    created = 0
    for i, name in enumerate(DOMAINS, start=1):
        _obj, new = DisclosureDomain.objects.get_or_create(code=f"GK{i:02d}", defaults={"name": name, "ordering": i})
        created += int(new)
    return created


def _user(username: str, **kw: Any) -> User:
    user = User.objects.filter(username=username).first()
    return user or user_create(username=username, password=DEMO_PASSWORD, **kw)


# level, domain, title, content, frequency, unit, publish twice?
ITEMS: list[tuple[str, str, str, str, int, str, int]] = [
    (
        "city",
        "财政预决算",
        "2026年市本级一般公共预算",
        "一般公共预算收入 62.3 亿元，支出 98.7 亿元；“三公”经费较上年下降 3%。详见附表。",
        Frequency.YEARLY,
        "市财政局",
        1,
    ),
    (
        "city",
        "重大建设项目",
        "金沙北路北延道路工程批准和实施信息",
        "项目批复文号、招标结果、施工单位、计划工期（7月1日前试通车）。",
        Frequency.MONTHLY,
        "市交通运输局",
        2,
    ),
    (
        "city",
        "社会救助",
        "城乡低保标准和月度保障情况",
        "城市低保标准每人每月 700 元，农村 540 元；本月保障 1.2 万户。",
        Frequency.MONTHLY,
        "市民政局",
        2,
    ),
    (
        "city",
        "行政许可",
        "行政许可事项清单",
        "本市行政许可事项 186 项，办理依据、条件、时限见清单。",
        Frequency.STANDING,
        "市政务服务中心",
        1,
    ),
    (
        "town",
        "涉农补贴",
        "耕地地力保护补贴发放公示",
        "本镇 2026 年耕地地力保护补贴每亩 105 元，发放名单见附件。",
        Frequency.YEARLY,
        "镇农业综合服务中心",
        1,
    ),
    (
        "town",
        "安全生产",
        "烟花爆竹企业安全检查情况",
        "本季度检查企业 24 家，发现隐患 37 处，已整改 35 处。",
        Frequency.QUARTERLY,
        "镇应急管理办",
        1,
    ),
    (
        "village",
        "财政预决算",
        "村级财务收支公开",
        "本季度收入 18.6 万元，支出 15.2 万元，明细张贴于村务公开栏。",
        Frequency.QUARTERLY,
        "村务监督委员会",
        2,
    ),
    (
        "village",
        "农村危房改造",
        "农村危房改造对象公示",
        "经评定，本村 3 户纳入年度危房改造，公示期 7 天。",
        Frequency.YEARLY,
        "村民委员会",
        0,
    ),
]


@transaction.atomic
def seed(city_area: Area) -> dict[str, int]:
    """The hook for seed_demo: the 26 domains, then items of the city, its first town and that town's first village."""
    domains = seed_domains()
    city = city_area
    if DisclosureItem.objects.filter(area_path__startswith=city.path).exists():
        return {"domains": domains, "items": 0}
    town = Area.objects.filter(level=Level.TOWN, path__startswith=city.path).order_by("path").first()
    village = (
        Area.objects.filter(level=Level.VILLAGE, path__startswith=town.path).order_by("path").first() if town else None
    )
    areas = {"city": city, "town": town, "village": village}
    editor = _user("demo_gk_city", role=Role.CITY_ADMIN, display_name="市政务公开办", areas=[city])
    by_name = {d.name: d for d in DisclosureDomain.objects.all()}
    items = 0
    for level, domain, title, content, freq, unit, publishes in ITEMS:
        area = areas[level]
        if area is None:
            continue
        item = services.item_create(
            user=editor,
            area=area,
            domain=by_name[domain],
            title=title,
            content=content,
            responsible_unit=unit,
            frequency_days=freq,
        )
        items += 1
        for n in range(publishes):
            if n:
                services.item_update(user=editor, item=item, content=content + "（已更新）")
            services.item_publish(user=editor, item=item)
    return {"domains": domains, "items": items}

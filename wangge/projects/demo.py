"""Demo data for livelihood projects: the year's ten key projects with the article's targets, some checked progress.

`seed(city_area)` is the hook for `seed_demo`; `manage.py seed_projects` calls it on its own. The
targets are the source article's (4,000 school places, 14,500 parking spaces, 800 hospital beds,
6 city toilets and 10,000 rural toilets, 40 new rural toilets, lifts in 83 old estates), plus a
major road with the milestone "7月1日前试通车". Budgets, people and the other projects are
illustrative. Everything goes through the services; a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from wangge.accounts.models import Role, User
from wangge.accounts.services import user_create
from wangge.core import clock
from wangge.projects import services
from wangge.projects.models import Domain, LivelihoodProject, ReportState, WorksKind
from wangge.registry.models import Area, Department, Level
from wangge.registry.services import department_create

DEMO_PASSWORD = "wangge-demo-2026"  # the same demo password as accounts' demo logins

WAN = 1_000_000  # fen in 万元

# code suffix, name, domain, works kind, target, unit, budget (万元), department, people,
# share achieved so far relative to the even plan (1.0 = exactly on plan), milestones (name, month, day).
PROJECTS: list[
    tuple[str, str, str, str, int, str, int, str, list[tuple[str, str]], float, list[tuple[str, int, int]]]
] = [
    (
        "XW",
        "新增公办中小学学位",
        Domain.SCHOOL_PLACES,
        "",
        4000,
        "学位",
        32000,
        "教育局",
        [("周建华", "分管副局长"), ("李敏", "基建股股长")],
        1.05,
        [("秋季开学前投入使用", 8, 31)],
    ),
    (
        "TC",
        "新增公共停车泊位",
        Domain.PARKING,
        "",
        14500,
        "个",
        8700,
        "城管局",
        [("陈志强", "副局长"), ("刘洋", "停车办主任")],
        0.7,
        [],
    ),
    (
        "CW",
        "新增医疗卫生机构床位",
        Domain.HOSPITAL_BEDS,
        "",
        800,
        "张",
        24000,
        "卫健局",
        [("罗丽", "副局长")],
        0.95,
        [],
    ),
    (
        "GC",
        "城区公厕新建和改造",
        Domain.TOILETS,
        "",
        6,
        "座",
        480,
        "城管局",
        [("陈志强", "副局长"), ("黄伟", "环卫处处长")],
        1.0,
        [],
    ),
    ("HC", "农村户厕改造", Domain.TOILETS, "", 10000, "户", 3500, "农业农村局", [("汤建军", "副局长")], 1.1, []),
    ("NG", "新建农村公厕", Domain.TOILETS, "", 40, "座", 800, "农业农村局", [("汤建军", "副局长")], 0.8, []),
    (
        "DT",
        "老旧小区加装电梯",
        Domain.ESTATE_LIFTS,
        "",
        83,
        "个小区",
        6640,
        "住建局",
        [("彭涛", "副局长"), ("欧阳红", "物业科科长")],
        0.9,
        [],
    ),
    ("YL", "乡镇养老服务中心提质", Domain.ELDERLY_CARE, "", 10, "个", 1500, "民政局", [("邓红梅", "副局长")], 1.0, []),
    ("NM", "农贸市场提质改造", Domain.MARKETS, "", 12, "个", 2400, "市场监管局", [("谭军", "副局长")], 0.6, []),
    (
        "DL",
        "金沙北路北延道路工程",
        Domain.MAJOR_WORKS,
        WorksKind.ROAD,
        3800,
        "米",
        56000,
        "交通运输局",
        [("李卫东", "项目指挥长"), ("张斌", "现场负责人")],
        1.0,
        [("主线路基贯通", 4, 30), ("7月1日前试通车", 7, 1), ("年底前竣工验收", 12, 31)],
    ),
]


def _user(username: str, **kw: Any) -> User:
    user = User.objects.filter(username=username).first()
    return user or user_create(username=username, password=DEMO_PASSWORD, **kw)


def _department(city: Area, name: str, n: int) -> Department:
    found = Department.objects.filter(area=city, name=name).first()
    return found or department_create(code=f"{city.code}-PJ{n:02d}", name=name, city=city)


@transaction.atomic
def seed(city_area: Area, *, year: int | None = None) -> dict[str, int]:
    """The hook for seed_demo: ten projects of this year in the city, with checked progress and one report to check."""
    city = city_area
    today = clock.today_local()
    year = year or today.year
    prefix = f"MS{year}-"
    if LivelihoodProject.objects.filter(code__startswith=prefix, area_path__startswith=city.path).exists():
        return {"projects": 0, "reports": 0}
    admin = _user("demo_ms_city", role=Role.CITY_ADMIN, display_name="王立新（市民生实事办）", areas=[city])
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    # Figures are dated on the 25th of each month gone by (at least one date: today early in January).
    dates = [dt.date(year, m, 25) for m in range(1, 13) if dt.date(year, m, 25) <= today] or [max(start, today)]
    town = Area.objects.filter(level=Level.TOWN, path__startswith=city.path).order_by("path").first()
    reporters: dict[int, User] = {}
    projects = reports = 0
    for n, (code, name, domain, kind, target, unit, budget, dept_name, people, pace, steps) in enumerate(PROJECTS, 1):
        department = _department(city, dept_name, n)
        area = town if code == "DL" and town is not None else city
        project = services.project_create(
            user=admin,
            code=prefix + code,
            name=name,
            year=year,
            domain=domain,
            works_kind=kind,
            target=target,
            unit=unit,
            budget_fen=budget * WAN,
            department=department,
            deadline=end,
            area=area,
            people=[{"name": a, "role": b} for a, b in people],
            milestones=[(ms, dt.date(year, m, d)) for ms, m, d in steps],
        )
        projects += 1
        reporter = reporters.get(department.pk) or _user(
            f"demo_ms_{department.code.lower().replace('-', '_')}",
            role=Role.DEPARTMENT,
            display_name=f"{department.name}民生实事联络员",
            departments=[department],
        )
        reporters[department.pk] = reporter
        milestones = list(project.milestones.order_by("due_on"))
        last = 0
        for i, day in enumerate(dates):
            planned = (day - start).days / (end - start).days
            figure = max(last, min(round(target * planned * pace), target))
            reached = next(
                (m for m in milestones if m.due_on - dt.timedelta(days=10) <= day and m.done_on is None), None
            )
            report = services.report_submit(
                user=reporter,
                project=project,
                period=day,
                achieved_to_date=figure,
                narrative=f"截至{day.month}月{day.day}日，累计完成{figure}{unit}。",
                milestone=reached,
            )
            reports += 1
            if i < len(dates) - 1 or len(dates) == 1:
                services.report_check(user=admin, report=report, accepted=True)
                if reached is not None:
                    reached.done_on = day
                last = figure
            else:
                last = figure  # the latest report awaits the city's check
    return {"projects": projects, "reports": reports, "checked": _checked()}


def _checked() -> int:
    from wangge.projects.models import ProgressReport

    return ProgressReport.objects.filter(state=ReportState.CHECKED).count()

"""Demo history: about 300 demands over the last 8 weeks in a dozen grids of the demo city.

Every move goes through the real services (submit, accept, escalate, dispatch, resolve, rate,
reject) acting as the real holder, with `clock.travel` putting each move at its moment in the
past, so the events, deadlines, rollups and dashboards read exactly as if the city had been live.
Deterministic (`random.Random(2026)`) and idempotent: demands are marked by an idempotency key
starting with "demo-history-"; if any exists, nothing is added.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from wangge.accounts.models import ROLE_LEVEL, Role, User, UserScope
from wangge.accounts.services import user_create
from wangge.core import clock
from wangge.core.phones import demo_mobile
from wangge.demands.models import Demand, Satisfaction, State
from wangge.demands.services import (
    demand_accept,
    demand_dispatch,
    demand_escalate,
    demand_rate,
    demand_reject,
    demand_resolve,
    demand_submit,
    demand_verify,
)
from wangge.registry.models import Area, Department

KEY_PREFIX = "demo-history-"
TOTAL = 300
GRIDS = 12
WEEKS = 8

# (category code, title, description, result, department name keyword for a dispatch)
TEMPLATES: list[tuple[str, str, str, str, str]] = [
    ("0101", "村道路面坑洼", "进村主路有几处大坑，下雨积水，电动车容易摔倒。", "已安排修补坑洼路面。", "交通"),
    ("0101", "人行道地砖松动", "小区门口人行道地砖松动翘起，老人走路容易绊倒。", "已重新铺设松动地砖。", "住建"),
    ("0102", "路灯不亮", "巷子里的路灯坏了一个星期，晚上黑漆漆的不安全。", "已更换灯头，路灯恢复照明。", "供电"),
    ("0102", "路灯白天常亮", "桥头的几盏路灯白天也一直亮着，浪费电。", "已调整控制器时间。", "供电"),
    ("0103", "井盖缺失", "菜市场旁边的下水道井盖不见了，很危险。", "已设置围挡并补装井盖。", "城管"),
    ("0201", "小区停水没有通知", "今天早上开始停水，没有看到任何通知。", "管道抢修完毕，已恢复供水。", "水务"),
    ("0202", "频繁跳闸停电", "这几天晚上经常停电，冰箱里的东西都坏了。", "供电公司已更换老化线路。", "供电"),
    ("0203", "自来水管爆裂", "路边的自来水管爆了，水流了一地。", "已关闸抢修，管道修复。", "水务"),
    ("0301", "垃圾桶满了没人清运", "垃圾站的垃圾两天没人清运，气味很大。", "已联系环卫加派车辆清运。", "城管"),
    ("0301", "河边乱倒建筑垃圾", "有人在河堤边倾倒建筑垃圾，越堆越多。", "已清理并加装提示牌。", "城管"),
    ("0302", "公厕无人打扫", "集镇公厕很脏，洗手池也坏了。", "已督促保洁并修好洗手池。", "城管"),
    ("0303", "化粪池污水外溢", "楼下化粪池满了，污水流到路上。", "已安排抽污并疏通管道。", "住建"),
    ("0304", "改厕后冲水不畅", "去年改的厕所冲水不畅，反映过没人来看。", "已上门维修冲水设施。", "农业农村"),
    ("0401", "枯树有倒塌风险", "学校旁边一棵枯树枝干开裂，担心砸到人。", "已修剪枯枝并移除枯树。", "自然资源"),
    ("0402", "大风吹倒树木挡路", "昨晚大风把路边的树吹倒了，挡住了半边路。", "已清理倒伏树木，道路恢复通行。", "城管"),
    ("0403", "绿化带杂草丛生", "小区绿化带很久没人修剪，杂草有半人高。", "已组织除草修剪。", "住建"),
    ("0501", "夜间广场舞噪音大", "广场舞音响开得很大，晚上十点还没停。", "已与领队协商调低音量、九点半结束。", ""),
    ("0501", "装修噪音扰民", "楼上装修每天早上七点就开始打钻。", "已提醒业主按规定时间施工。", ""),
    ("0502", "邻居违建占用通道", "邻居在公共通道上搭棚子，进出很不方便。", "经调解，邻居已拆除棚子。", ""),
    (
        "0502",
        "宅基地界址纠纷",
        "和邻居因为宅基地边界吵了好几次，请网格员帮忙调解。",
        "已组织双方现场调解并达成协议。",
        "",
    ),
    ("0601", "电梯困人", "单元电梯经常停在半路，今天又困了人。", "已督促维保单位检修电梯。", "市场监管"),
    ("0602", "顶楼房屋漏水", "下雨时顶楼天花板漏水，墙面都发霉了。", "已协调维修基金做防水。", "住建"),
    ("0603", "物业服务差", "物业收了钱不办事，楼道灯坏了几个月。", "已约谈物业，楼道灯已修好。", "住建"),
    ("0701", "独居老人需要照看", "隔壁独居的王奶奶几天没出门，请帮忙去看看。", "网格员已上门探望，老人身体无碍。", ""),
    ("0702", "咨询低保申请", "家里老人生病没有收入，想问问怎么申请低保。", "已上门指导准备材料并提交申请。", "民政"),
    ("0801", "孩子入学咨询", "外地户口孩子想在镇上读小学，需要什么材料？", "已告知所需材料和报名时间。", "教育"),
    ("0802", "校门口车辆太多", "放学时校门口车辆乱停，孩子过马路很危险。", "已协调交警在放学时段疏导。", "公安"),
    ("1001", "车辆乱停堵住消防通道", "小区消防通道经常被私家车堵住。", "已张贴告示并通知车主挪车。", ""),
    ("1103", "占道经营", "早市摊贩占满了马路，车辆无法通行。", "已规划临时摊位区，道路恢复畅通。", "城管"),
    ("1102", "小饭店卫生差", "街口小饭店后厨很脏，担心食品安全。", "市场监管部门已上门检查并责令整改。", "市场监管"),
    ("1201", "闻到燃气味", "楼道里闻到明显的燃气味，不知道是哪家漏气。", "燃气公司已检修并更换老化软管。", "应急"),
    ("1202", "楼道堆放杂物", "楼道里堆满纸箱和电动车，存在消防隐患。", "已清理楼道杂物。", "应急"),
]
NAMES = ["李", "王", "刘", "陈", "罗", "彭", "谭", "邓", "曾", "唐", "易", "黎", "周", "张"]
GIVEN = ["阿姨", "师傅", "先生", "女士", "大爷", "奶奶"]
CHANNELS = [("resident_web", 45), ("wechat_group", 20), ("hotline", 15), ("visit", 12), ("inspection", 8)]
UNSATISFIED_REASONS = ["问题没有彻底解决，过几天又出现了。", "只是来看了一下，没有真正处理。", "处理得太慢了。"]


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _hours(rng: random.Random, low: float, high: float, mean: float) -> dt.timedelta:
    # Mostly quick, a long tail up to `high`: what response times look like.
    return dt.timedelta(hours=min(high, low + rng.expovariate(1 / mean)))


class _Actors:
    """The staff who hold each level or department; a demo user is made only where nobody holds it."""

    def __init__(self, city: Area | None = None) -> None:
        self.cache: dict[Any, User] = {}
        self.created = 0
        self.city = city

    def supervisor(self) -> User:
        """The city's verifier (监督核查员) of safety hazards: never the one who resolved the demand."""
        key = ("supervisor", self.city.pk if self.city else None)
        if key not in self.cache:
            found = User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("id").first()
            if found is None:
                found = user_create(
                    username="demo-supervisor",
                    password=None,
                    role=Role.SUPERVISOR,
                    display_name="市监督核查员（演示）",
                    areas=[self.city] if self.city else [],
                )
                self.created += 1
            self.cache[key] = found
        return self.cache[key]

    def for_area(self, area: Area) -> User:
        role = {level: role for role, level in ROLE_LEVEL.items() if role not in (Role.AUDITOR,)}[area.level]
        key = ("area", area.pk)
        if key not in self.cache:
            found = (
                User.objects.filter(role=role, is_active=True, scopes__area=area).order_by("id").first()
                if UserScope.objects.filter(area=area).exists()
                else None
            )
            if found is None:
                found = user_create(
                    username=f"demo-{area.level}-{area.code}",
                    password=None,
                    role=role,
                    display_name=f"{area.name}（演示）",
                    areas=[area],
                )
                self.created += 1
            self.cache[key] = found
        return self.cache[key]

    def for_department(self, department: Department) -> User:
        key = ("department", department.pk)
        if key not in self.cache:
            found = (
                User.objects.filter(role=Role.DEPARTMENT, is_active=True, scopes__department=department)
                .order_by("id")
                .first()
            )
            if found is None:
                found = user_create(
                    username=f"demo-dept-{department.code}",
                    password=None,
                    role=Role.DEPARTMENT,
                    display_name=f"{department.name}（演示）",
                    departments=[department],
                )
                self.created += 1
            self.cache[key] = found
        return self.cache[key]

    def holder(self, demand: Demand) -> User:
        if demand.holder_department is not None:
            return self.for_department(demand.holder_department)
        if demand.holder_area is None:
            raise ValueError(f"demand {demand.code} has no holder")
        return self.for_area(demand.holder_area)


def seed(city_area: Area) -> dict[str, int]:
    """Write the demo city's 8-week demand history through the services (nothing if it is already there)."""
    if Demand.objects.filter(idempotency_key__startswith=KEY_PREFIX).exists():
        return {"demands": 0}
    grids = list(Area.objects.filter(level="grid", path__startswith=city_area.path).order_by("path"))
    if not grids:
        return {"demands": 0}
    rng = random.Random(2026)
    grids = sorted(rng.sample(grids, min(GRIDS, len(grids))), key=lambda a: a.path)
    departments = list(Department.objects.filter(is_active=True, area_path__startswith=city_area.path))
    real_now = clock.now()
    start = real_now - dt.timedelta(weeks=WEEKS)
    moments = sorted(
        start + dt.timedelta(seconds=rng.uniform(0, (real_now - start).total_seconds() - 3600)) for _ in range(TOTAL)
    )
    actors = _Actors(city_area)
    counts = {"demands": 0, "escalated": 0, "dispatched": 0, "resolved": 0, "rated": 0, "reopened": 0, "rejected": 0}
    with transaction.atomic(), clock.travel(moments[0]):
        for n, moment in enumerate(moments):
            _one(
                n,
                moment,
                rng=rng,
                grids=grids,
                departments=departments,
                actors=actors,
                real_now=real_now,
                counts=counts,
            )
    counts["users"] = actors.created
    return counts


def _site_photo() -> Any:
    """A small on-site photo (a plain JPEG: the demo has no camera)."""
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (96, 140, 96)).save(out, "JPEG", quality=70)
    return SimpleUploadedFile("site.jpg", out.getvalue(), content_type="image/jpeg")


def _verify(demand: Demand, actors: _Actors) -> Demand:
    return demand_verify(
        demand=demand, actor=actors.supervisor(), photos=[_site_photo()], note="现场核查：隐患已消除，整改到位。"
    )


def _one(
    n: int,
    moment: dt.datetime,
    *,
    rng: random.Random,
    grids: list[Area],
    departments: list[Department],
    actors: _Actors,
    real_now: dt.datetime,
    counts: dict[str, int],
) -> None:
    category, title, description, result, dept_word = rng.choice(TEMPLATES)
    grid = rng.choice(grids)
    channel = _pick(rng, CHANNELS)
    urgent = category.startswith("12") or rng.random() < 0.08
    staff_channel = channel in ("visit", "inspection")
    clock.set_travel(moment)
    demand = demand_submit(
        channel=channel,
        title=title,
        description=description,
        category=category,
        urgency="urgent" if urgent else "normal",
        reporter_name=rng.choice(NAMES) + rng.choice(GIVEN),
        reporter_phone=demo_mobile(rng),
        grid=grid,
        address=f"{grid.name}{rng.randint(1, 60)}号附近",
        actor=actors.for_area(grid) if staff_channel else None,
        idempotency_key=f"{KEY_PREFIX}{n:04d}",
    ).demand
    counts["demands"] += 1
    at = moment

    def step(delta: dt.timedelta) -> bool:
        # A move only happens if its moment has already come: recent demands stay open.
        nonlocal at
        at = at + delta
        if at >= real_now:
            return False
        clock.set_travel(at)
        return True

    fate = rng.random()
    if fate < 0.04:
        return  # never taken: overdue once the limit to accept has passed
    if fate < 0.07:
        if step(_hours(rng, 0.5, 20, 3)):
            demand_reject(
                demand=demand, actor=actors.holder(demand), reason="不属于本网格受理范围，已告知居民向相关单位反映。"
            )
            counts["rejected"] += 1
        return
    if not step(_hours(rng, 0.5, 20, 2 if urgent else 4)):
        return
    demand = demand_accept(demand=demand, actor=actors.holder(demand))
    if fate < 0.10:
        return  # accepted but stuck: overdue once the limit to resolve has passed
    if fate < 0.24:
        if not step(_hours(rng, 0.5, 24, 4)):
            return
        demand = demand_escalate(demand=demand, actor=actors.holder(demand), reason="需要上级协调资源处理。")
        counts["escalated"] += 1
        if not step(_hours(rng, 0.5, 20, 3)):
            return
        demand = demand_accept(demand=demand, actor=actors.holder(demand))
        wanted = [d for d in departments if dept_word and dept_word in d.name]
        if wanted and fate < 0.20:
            if not step(_hours(rng, 0.5, 24, 4)):
                return
            demand = demand_dispatch(
                demand=demand, actor=actors.holder(demand), department=wanted[0], note="请职能部门办理。"
            )
            counts["dispatched"] += 1
            if not step(_hours(rng, 0.5, 20, 4)):
                return
            demand = demand_accept(demand=demand, actor=actors.holder(demand))
    if not step(_hours(rng, 1, 120, 10 if urgent else 30)):
        return
    demand = demand_resolve(demand=demand, actor=actors.holder(demand), result=result)
    counts["resolved"] += 1
    if demand.state == State.VERIFYING:  # a safety hazard: verified on site before the resident rates it
        if not step(_hours(rng, 1, 16, 4)):
            return
        demand = _verify(demand, actors)
    if rng.random() > 0.85 or not step(_hours(rng, 2, 72, 12)):
        return
    mood = rng.random()
    if mood < 0.07:
        demand = demand_rate(
            demand=demand,
            satisfaction=Satisfaction.UNSATISFIED,
            reason=rng.choice(UNSATISFIED_REASONS),
            token=demand.tracking_token,
        )
        counts["rated"] += 1
        counts["reopened"] += 1
        if demand.state != State.REOPENED or not step(_hours(rng, 0.5, 12, 2)):
            return
        demand = demand_accept(demand=demand, actor=actors.holder(demand))
        if not step(_hours(rng, 2, 96, 24)):
            return
        demand = demand_resolve(demand=demand, actor=actors.holder(demand), result="返工：" + result)
        if demand.state == State.VERIFYING:
            if not step(_hours(rng, 1, 16, 4)):
                return
            demand = _verify(demand, actors)
        if not step(_hours(rng, 2, 72, 12)):
            return
        mood = 0.5
    satisfaction = Satisfaction.SATISFIED if mood < 0.82 else Satisfaction.BASIC
    demand_rate(demand=demand, satisfaction=satisfaction, token=demand.tracking_token)
    counts["rated"] += 1

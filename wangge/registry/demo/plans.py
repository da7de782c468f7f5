"""The demo city (its real town names, departments, rates) and the plans that size it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

CITY_CODE = "430181"
CITY_NAME = "浏阳市"
CITY_CENTRE = (28.15, 113.63)  # lat, lng
CITY_SIZE_KM = (80.0, 60.0)  # east-west, north-south

# The 4 streets, 26 towns and 2 townships of Liuyang, in the order their codes are given.
TOWN_NAMES: list[str] = [
    "淮川街道",
    "集里街道",
    "荷花街道",
    "关口街道",
    "大围山镇",
    "达浒镇",
    "沿溪镇",
    "官渡镇",
    "古港镇",
    "永和镇",
    "张坊镇",
    "小河乡",
    "高坪镇",
    "社港镇",
    "龙伏镇",
    "沙市镇",
    "北盛镇",
    "淳口镇",
    "洞阳镇",
    "永安镇",
    "镇头镇",
    "普迹镇",
    "柏加镇",
    "蕉溪镇",
    "枨冲镇",
    "澄潭江镇",
    "文家市镇",
    "中和镇",
    "大瑶镇",
    "金刚镇",
    "官桥镇",
    "杨花乡",
]
assert len(TOWN_NAMES) == 32 and len(set(TOWN_NAMES)) == 32

# Where each town sits on an 8 x 4 lattice (column west→east, row north→south): the four streets
# in the middle, the mountain towns to the north-east and east, roughly as on a map of Liuyang.
TOWN_CELLS: dict[str, tuple[int, int]] = {
    "永安镇": (0, 0), "北盛镇": (1, 0), "淳口镇": (2, 0), "社港镇": (3, 0),
    "龙伏镇": (4, 0), "沙市镇": (5, 0), "官渡镇": (6, 0), "张坊镇": (7, 0),
    "洞阳镇": (0, 1), "蕉溪镇": (1, 1), "集里街道": (2, 1), "关口街道": (3, 1),
    "古港镇": (4, 1), "高坪镇": (5, 1), "达浒镇": (6, 1), "小河乡": (7, 1),
    "镇头镇": (0, 2), "柏加镇": (1, 2), "淮川街道": (2, 2), "荷花街道": (3, 2),
    "永和镇": (4, 2), "沿溪镇": (5, 2), "大围山镇": (6, 2), "杨花乡": (7, 2),
    "普迹镇": (0, 3), "枨冲镇": (1, 3), "官桥镇": (2, 3), "澄潭江镇": (3, 3),
    "中和镇": (4, 3), "文家市镇": (5, 3), "大瑶镇": (6, 3), "金刚镇": (7, 3),
}  # fmt: skip
LATTICE = (8, 4)

DEPARTMENTS: list[tuple[str, str]] = [
    ("供电公司", "0731-83611000"),
    ("住建局", "0731-83612000"),
    ("城管局", "0731-83613000"),
    ("交通运输局", "0731-83614000"),
    ("教育局", "0731-83615000"),
    ("卫健局", "0731-83616000"),
    ("水务局", "0731-83617000"),
    ("自然资源局", "0731-83618000"),
    ("市场监管局", "0731-83619000"),
    ("民政局", "0731-83620000"),
    ("公安局", "0731-83621000"),
    ("生态环境局", "0731-83622000"),
    ("农业农村局", "0731-83623000"),
    ("人社局", "0731-83624000"),
    ("应急管理局", "0731-83625000"),
]

# Surnames with rough national frequencies (per cent), Hunan's common ones (刘, 罗, 彭, 谭, 邓,
# 曾, 唐, 易, 黎) weighted up a little.
SURNAMES: list[tuple[str, float]] = [
    ("王", 6.5), ("李", 7.2), ("张", 6.0), ("刘", 6.8), ("陈", 5.3), ("杨", 3.1), ("黄", 2.6), ("赵", 1.6),
    ("吴", 1.9), ("周", 2.0), ("徐", 1.3), ("孙", 1.0), ("马", 0.9), ("朱", 1.2), ("胡", 1.4), ("郭", 0.9),
    ("何", 1.3), ("高", 1.0), ("林", 1.0), ("罗", 1.9), ("郑", 0.9), ("梁", 0.8), ("谢", 1.0), ("宋", 0.7),
    ("唐", 1.2), ("许", 0.6), ("韩", 0.5), ("冯", 0.5), ("邓", 1.3), ("曹", 0.6), ("彭", 1.3), ("曾", 1.1),
    ("肖", 0.9), ("田", 0.5), ("董", 0.5), ("袁", 0.6), ("潘", 0.5), ("蒋", 0.6), ("蔡", 0.5), ("余", 0.6),
    ("杜", 0.4), ("叶", 0.5), ("程", 0.4), ("苏", 0.4), ("魏", 0.4), ("吕", 0.4), ("丁", 0.4), ("任", 0.4),
    ("沈", 0.4), ("姚", 0.4), ("卢", 0.4), ("姜", 0.3), ("钟", 0.4), ("谭", 0.9), ("廖", 0.6), ("汪", 0.3),
    ("范", 0.3), ("金", 0.3), ("陆", 0.3), ("石", 0.3), ("贺", 0.5), ("易", 0.5), ("黎", 0.4), ("龙", 0.3),
    ("汤", 0.3), ("邹", 0.4), ("熊", 0.4), ("毛", 0.3), ("戴", 0.3), ("夏", 0.3), ("傅", 0.3), ("方", 0.3),
    ("邱", 0.3), ("秦", 0.2), ("江", 0.2), ("尹", 0.3), ("段", 0.2), ("雷", 0.2), ("侯", 0.2), ("龚", 0.3),
    ("文", 0.3), ("万", 0.2), ("钱", 0.2), ("严", 0.2), ("欧阳", 0.2), ("司马", 0.02),
]  # fmt: skip

GIVEN_MALE = "建国华明伟军平勇强志文斌春秋海林辉刚峰涛杰波宇浩俊鹏德福贵生荣金友成新民东亮光全立正永长松清云山湘礼兴旺"
GIVEN_FEMALE = "红英兰芳丽娟霞敏静玉秀桂珍凤梅琴燕萍艳莉婷雪丹慧佳欣怡春秋云华玲妹菊香莲爱美"

VILLAGE_FIRST = "金石柏桃枫荷杨龙凤高新东西南北长青白红大小沙马梅竹松泉湖溪田岭山塘花双永太福和宝兴"
VILLAGE_SECOND = "沙柱坪源冲塘桥湾岭田溪山园林坡江洲口丰安乐盛霞峰泉港湖阳城家桂"
CN_NUM = "一二三四五六七八九十"

# Share of households with each care tag (docs/glossary.md: what grid leaders watch).
TAG_RATES: list[tuple[str, float]] = [
    ("elderly_alone", 0.03),
    ("left_behind_child", 0.02),
    ("low_income", 0.02),
    ("disabled", 0.015),
]
MEMBER_WEIGHTS = [(1, 0.08), (2, 0.22), (3, 0.27), (4, 0.22), (5, 0.12), (6, 0.06), (7, 0.03)]
ID_SHARE = 0.4  # heads whose ID number the registry holds (the rest were never collected)
PHONE_SHARE = 0.92
REFERENCE_DAY = dt.date(2026, 1, 1)  # ages are counted from here, never from the clock: deterministic


@dataclass(frozen=True)
class DemoPlan:
    """How big a demo city is; a fixed `*_per_*` makes every unit the same size (the small demo)."""

    towns: int
    villages: int
    grids: int
    households: int
    branches_per_village: int | None = None
    grids_per_branch: int | None = None
    households_per_grid: int | None = None


PLANS: dict[str, DemoPlan] = {
    "small": DemoPlan(
        towns=2,
        villages=4,
        grids=24,
        households=288,
        branches_per_village=2,
        grids_per_branch=3,
        households_per_grid=12,
    ),
    "liuyang": DemoPlan(towns=32, villages=325, grids=32_000, households=419_200),
}


@dataclass
class DemoResult:
    """What a seed run built, for the command's summary and the bench."""

    counts: dict[str, int] = field(default_factory=dict)
    users: list[str] = field(default_factory=list)

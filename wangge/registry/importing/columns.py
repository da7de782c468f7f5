"""The columns of the household spreadsheet counties keep, and the header spellings seen in the wild."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of the layout: its key in code, its canonical Chinese header, its English name."""

    key: str
    header: str
    en: str
    required: bool
    aliases: tuple[str, ...] = ()
    hint: str = ""


# The layout, in the order the template writes it. Required columns must be present in the
# header row; the values of optional columns may be left empty.
COLUMNS: tuple[Column, ...] = (
    Column(
        "town",
        "乡镇(街道)",
        "town / street",
        True,
        ("乡镇", "街道", "乡镇/街道", "乡镇街道", "镇街", "所属乡镇", "乡镇(街道)名称"),
        "必填；须与系统中已有的乡镇(街道)名称完全一致",
    ),
    Column(
        "village",
        "村(社区)",
        "village / community",
        True,
        ("村", "社区", "村/社区", "村社区", "村居", "所属村(社区)", "村(居)"),
        "必填；须是该乡镇(街道)下已有的村(社区)",
    ),
    Column(
        "branch",
        "党支部(村民小组)",
        "party branch / group",
        True,
        ("党支部", "村民小组", "党支部/村民小组", "党支部(小组)", "支部", "小组", "组"),
        "必填；系统中没有的会自动新建",
    ),
    Column(
        "grid",
        "微网格编号",
        "micro-grid number",
        True,
        ("网格编号", "微网格号", "网格号", "微网格", "网格", "微网格序号"),
        "必填；该党支部内的网格序号(1-999)，或系统中已有的完整网格编码",
    ),
    Column(
        "leader_name",
        "微网格长姓名",
        "grid leader's name",
        False,
        ("微网格长", "网格长", "网格长姓名"),
        "选填；同一网格各行应一致，系统按姓名+电话建立党员档案",
    ),
    Column(
        "leader_phone",
        "微网格长电话",
        "grid leader's phone",
        False,
        ("网格长电话", "微网格长联系电话", "网格长联系电话", "网格长手机", "微网格长手机"),
        "选填；11 位手机号或带区号的固定电话",
    ),
    Column(
        "address",
        "户地址",
        "household address",
        True,
        ("地址", "住址", "家庭住址", "家庭地址", "户籍地址", "门牌号"),
        "必填",
    ),
    Column("head_name", "户主姓名", "head of household", True, ("户主", "姓名", "户主名"), "必填"),
    Column(
        "head_id",
        "户主身份证号",
        "head's ID number",
        False,
        ("身份证号", "身份证号码", "户主身份证号码", "公民身份号码", "身份证"),
        "选填但强烈建议填写；18 位，本列必须设为文本格式，否则 Excel 会丢掉后几位",
    ),
    Column(
        "phone",
        "联系电话",
        "phone",
        False,
        ("电话", "手机", "手机号", "手机号码", "户主电话", "联系方式", "联系电话号码"),
        "选填；11 位手机号或带区号的固定电话",
    ),
    Column(
        "members",
        "家庭人口",
        "members",
        False,
        ("人口", "家庭人口数", "人数", "户籍人口", "家庭成员数"),
        "选填，默认 1；1 到 50 之间的整数",
    ),
    Column(
        "tags",
        "关爱标签",
        "care tags",
        False,
        ("标签", "关爱对象", "特殊人群", "重点人群", "关爱类别"),
        "选填；多个用顿号、逗号、分号或空格分开",
    ),
)
BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}
REQUIRED: tuple[str, ...] = tuple(c.key for c in COLUMNS if c.required)

_STRIP = re.compile(r"[\s*＊:：]+")


def normalise_header(value: object) -> str:
    """Fold the spellings clerks use: full-width brackets, spaces, line breaks, required-field stars."""
    if value is None:
        return ""
    text = str(value).replace("（", "(").replace("）", ")").replace("／", "/")
    return _STRIP.sub("", text)


HEADER_MAP: dict[str, str] = {}
for _c in COLUMNS:
    for _h in (_c.header, *_c.aliases):
        HEADER_MAP.setdefault(normalise_header(_h), _c.key)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the letters Excel shows above each column."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def match_header(cells: list[object]) -> dict[str, int]:
    """Map column keys to their index in a header row (the first spelling of a column wins)."""
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        key = HEADER_MAP.get(normalise_header(cell))
        if key and key not in found:
            found[key] = i
    return found

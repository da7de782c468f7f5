"""Import a 12345 hotline export (.xlsx/.xls/.csv) as demands, all or nothing.

Every row goes through `demand_submit` (channel hotline) with the hotline's ticket number as the
idempotency key, so importing the same export twice files nothing twice. Every problem is
reported by sheet, row and column in Chinese and English; with any problem nothing is written.
The page queues the upload as an import job of kind hotline (`hotline_job_run`, run by the worker
with a progress bar); `manage.py import_hotline FILE` runs the same service inline.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from wangge.core import clock
from wangge.core.errors import FieldProblem, ValidationFailed
from wangge.demands.models import Category, Kind
from wangge.demands.services import demand_submit
from wangge.registry.importing.reader import read_sheets
from wangge.registry.models import Area, ImportJob, Level

TICKET, CALLED_AT, CALLER, PHONE, KIND, CONTENT, ADDRESS, PLACE = (
    "工单编号",
    "来电时间",
    "来电人",
    "联系电话",
    "诉求类型",
    "诉求内容",
    "地址",
    "所属乡镇/村",
)
TITLE, CATEGORY, URGENCY, CONFIDENTIAL = "诉求标题", "诉求分类", "紧急程度", "是否保密"
REQUIRED = (TICKET, CONTENT)
# Other spellings seen in exports from different hotline systems.
ALIASES = {
    "工单号": TICKET,
    "受理编号": TICKET,
    "来电日期": CALLED_AT,
    "受理时间": CALLED_AT,
    "姓名": CALLER,
    "来电人姓名": CALLER,
    "电话": PHONE,
    "来电号码": PHONE,
    "类型": KIND,
    "内容": CONTENT,
    "问题描述": CONTENT,
    "事发地址": ADDRESS,
    "所属乡镇": PLACE,
    "所属区域": PLACE,
    "乡镇/村": PLACE,
    "标题": TITLE,
    "问题分类": CATEGORY,
    "保密": CONFIDENTIAL,
    "是否需要保密": CONFIDENTIAL,
}
# 是否保密: the caller asked that the order stay with its handlers (`permissions.is_confidential`).
YES_WORDS = frozenset({"是", "保密", "需保密", "y", "yes", "true", "1"})
NO_WORDS = frozenset({"", "否", "不保密", "无", "n", "no", "false", "0"})
KIND_WORDS = {
    "咨询": Kind.CONSULTATION,
    "求助": Kind.HELP,
    "投诉": Kind.COMPLAINT,
    "举报": Kind.REPORT,
    "建议": Kind.SUGGESTION,
    "表扬": Kind.PRAISE,
}
# Which column to blame when the intake service refuses a field.
FIELD_COLUMN = {
    "description": CONTENT,
    "title": TITLE,
    "reporter_phone": PHONE,
    "category": CATEGORY,
    "kind": KIND,
    "urgency": URGENCY,
    "area": PLACE,
    "grid": PLACE,
    "location": ADDRESS,
}


@dataclass
class HotlineReport:
    created: int = 0
    existing: int = 0
    codes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"新建 {self.created} 条，已导入过 {self.existing} 条 / "
            f"created {self.created}, already imported {self.existing}"
        )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_time(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=clock.local_tz()) if value.tzinfo is None else value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0, 0), clock.local_tz())
    text = re.sub(
        r"\s+", " ", str(value).strip().replace("/", "-").replace("年", "-").replace("月", "-").replace("日", "")
    )
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=clock.local_tz())
        except ValueError:
            continue
    raise ValueError(text)


def _place(value: str) -> Area | None:
    """'集里街道/金沙社区', '集里街道金沙社区', '金沙社区' or '集里街道' → the village, else the town."""
    compact = re.sub(r"[/／\\\-—>＞\s]+", "", value)
    villages = [v for v in Area.objects.filter(level=Level.VILLAGE).select_related("parent") if v.name in compact]
    if villages:
        # Two villages of one name in different towns: the one whose town is named too wins.
        villages.sort(key=lambda v: (v.parent is None or v.parent.name not in compact, -len(v.name), v.code))
        return villages[0]
    towns = sorted(
        (t for t in Area.objects.filter(level=Level.TOWN) if t.name in compact), key=lambda t: (-len(t.name), t.code)
    )
    return towns[0] if towns else None


PROGRESS_EVERY = 200  # rows between two progress reports


def hotline_import(
    *,
    path: Path | str,
    name: str | None = None,
    actor: Any = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> HotlineReport:
    """Import every row of the first sheet; raise ValidationFailed listing every problem, writing nothing.

    `progress(stage, done, total)` hears of the stages read, validate and write as they go.
    """
    report_progress = progress or (lambda stage, done, total: None)
    report_progress("read", 0, 0)
    sheets = read_sheets(path, name=name)
    sheet = next((s for s in sheets if any(any(_text(c) for c in r) for r in s.rows)), None)
    if sheet is None:
        raise ValidationFailed("文件是空的", "the file is empty", field="file", code="empty")
    header_index = next(
        (i for i, r in enumerate(sheet.rows[:20]) if any(ALIASES.get(_text(c), _text(c)) == TICKET for c in r)), None
    )
    if header_index is None:
        raise ValidationFailed(
            f"找不到表头（需要「{TICKET}」列）", f"no header row found (a '{TICKET}' column is needed)", field="file"
        )
    header = [ALIASES.get(_text(c), _text(c)) for c in sheet.rows[header_index]]
    problems: list[FieldProblem] = []
    for column in REQUIRED:
        if column not in header:
            problems.append(
                FieldProblem(
                    "missing_column",
                    f"缺少「{column}」列",
                    f"the column '{column}' is missing",
                    sheet=sheet.name,
                    column=column,
                )
            )
    if problems:
        raise ValidationFailed("文件缺少必需的列", "the file lacks required columns", field="file", problems=problems)
    col = {name: header.index(name) for name in header if name}

    def cell(row: list[Any], name: str) -> Any:
        i = col.get(name)
        return row[i] if i is not None and i < len(row) else None

    def problem(row_no: int, column: str, zh: str, en: str, code: str = "invalid") -> None:
        problems.append(FieldProblem(code, zh, en, sheet=sheet.name, row=row_no, column=column))

    parsed: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    total = max(len(sheet.rows) - header_index - 1, 0)
    report_progress("validate", 0, total)
    for index, row in sheet.rows.numbered(header_index + 1):
        offset = index + 1  # the Excel row number
        if (index - header_index) % PROGRESS_EVERY == 0:
            report_progress("validate", index - header_index, total)
        if not any(_text(c) for c in row):
            continue
        ticket = _text(cell(row, TICKET))
        content = _text(cell(row, CONTENT))
        if not ticket:
            problem(offset, TICKET, "工单编号不能为空", "the ticket number is required", "required")
        elif ticket in seen:
            problem(offset, TICKET, f"工单编号与第 {seen[ticket]} 行重复", f"same ticket number as row {seen[ticket]}")
        else:
            seen[ticket] = offset
        if not content:
            problem(offset, CONTENT, "诉求内容不能为空", "the description is required", "required")
        kind_word = _text(cell(row, KIND))
        kind = KIND_WORDS.get(kind_word, kind_word if kind_word in Kind.values else None) if kind_word else Kind.HELP
        if kind is None:
            problem(offset, KIND, f"未知的诉求类型「{kind_word}」", f"unknown kind of demand '{kind_word}'")
        try:
            called_at = _parse_time(cell(row, CALLED_AT))
        except ValueError:
            problem(offset, CALLED_AT, "来电时间格式不正确", "the call time cannot be read")
            called_at = None
        place_text = _text(cell(row, PLACE))
        area = None
        if place_text:
            area = _place(place_text)
            if area is None:
                problem(offset, PLACE, f"找不到乡镇或村「{place_text}」", f"no town or village called '{place_text}'")
        category_text = _text(cell(row, CATEGORY))
        category = None
        if category_text:
            category = (
                Category.objects.filter(code=category_text, is_active=True).first()
                or Category.objects.filter(name=category_text, is_active=True).first()
            )
            if category is None:
                problem(offset, CATEGORY, f"未知的诉求分类「{category_text}」", f"unknown category '{category_text}'")
        secret_text = _text(cell(row, CONFIDENTIAL)).lower()
        if secret_text not in YES_WORDS | NO_WORDS:
            zh, en = f"「是否保密」应为是或否：「{secret_text}」", "'confidential' must be 是 or 否"
            problem(offset, CONFIDENTIAL, zh, en)
        urgency_text = _text(cell(row, URGENCY))
        urgency = "urgent" if urgency_text in ("紧急", "特急", "urgent") else "normal"
        parsed.append(
            (
                offset,
                {
                    "channel": "hotline",
                    "title": _text(cell(row, TITLE)),
                    "description": content,
                    "kind": kind or Kind.HELP,
                    "category": category,
                    "urgency": urgency,
                    "reporter_name": _text(cell(row, CALLER)),
                    "reporter_phone": cell(row, PHONE),
                    "area": area,
                    "address": _text(cell(row, ADDRESS)),
                    "idempotency_key": f"hotline:{ticket}" if ticket else None,
                    "reported_at": called_at,
                    "confidential": secret_text in YES_WORDS,
                    "actor": actor,
                },
            )
        )
    if problems:
        raise ValidationFailed(
            f"导入失败：共 {len(problems)} 处错误，未写入任何数据",
            f"import refused: {len(problems)} problems, nothing was written",
            field="file",
            problems=problems,
        )
    report = HotlineReport()
    report_progress("write", 0, len(parsed))
    with transaction.atomic():
        for done, (offset, data) in enumerate(parsed):
            if done and done % PROGRESS_EVERY == 0:
                report_progress("write", done, len(parsed))
            try:
                submitted = demand_submit(**data)
            except ValidationFailed as exc:
                column = FIELD_COLUMN.get(exc.field or "", exc.field or "")
                problem(offset, column, exc.zh, exc.en, exc.code)
                continue
            if submitted.replayed:
                report.existing += 1
            else:
                report.created += 1
                report.codes.append(submitted.demand.code)
        if problems:
            # All or nothing: a half-imported export is worse than none (the clerk re-imports it whole).
            transaction.set_rollback(True)
    if problems:
        raise ValidationFailed(
            f"导入失败：共 {len(problems)} 处错误，未写入任何数据",
            f"import refused: {len(problems)} problems, nothing was written",
            field="file",
            problems=problems,
        )
    return report


def hotline_job_run(job: ImportJob, progress: Callable[[str, int, int], None]) -> dict[str, Any]:
    """The worker's runner of hotline jobs (settings.WANGGE_IMPORT_RUNNERS): the upload through `hotline_import`.

    The counts kept: rows imported (created_count new orders, unchanged_count already imported before);
    a refused file raises ValidationFailed, and the job keeps every row problem.
    """
    report = hotline_import(path=job.file.path, name=job.original_name, actor=job.created_by, progress=progress)
    return {
        "status": ImportJob.Status.DONE,
        "rows": report.created + report.existing,
        "created_count": report.created,
        "unchanged_count": report.existing,
    }

"""Excel files: the demand list and the visit log (written by the worker), and the area reports.

Every export reads through the scoped selectors as the person who asked for it, at the time it
runs. Phones are masked (138****5678) except the reporter's phone of demands the person's level or
department holds, or when a city administrator asked for an unmasked export with a reason; each
file that carries unmasked values says how many (`Written.unmasked`), and the service that ran the
job leaves a `PiiAccessLog` row for it. This module writes files only, never rows: it reads
selectors and is called by services, never the other way round.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import BooleanField, Case, Count, Value, When
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.styles import Font

from wangge.accounts.scope import scope_for
from wangge.core.clock import local_tz
from wangge.core.errors import ValidationFailed
from wangge.core.masking import mask_name, mask_phone
from wangge.core.spreadsheets import text_row
from wangge.dashboards import selectors
from wangge.dashboards.facts import visit_models
from wangge.dashboards.models import ExportJob, ExportKind
from wangge.demands.selectors import DemandFilter
from wangge.registry.models import Area

CHUNK = 500
BOLD = Font(bold=True)

DEMAND_COLUMNS = [
    "编号",
    "标题",
    "类型",
    "渠道",
    "类别",
    "紧急程度",
    "状态",
    "所属区域",
    "当前承办",
    "反映人",
    "联系电话",
    "地址",
    "登记时间",
    "受理时间",
    "办结时间",
    "满意度",
    "办理结果",
]
VISIT_COLUMNS = ["走访时间", "走访人", "微网格", "户主", "地址", "联系电话", "方式", "记录", "意见建议数", "提出诉求"]


def _local(value: dt.datetime | None) -> str:
    return value.astimezone(local_tz()).strftime("%Y-%m-%d %H:%M") if value else ""


def _target(job: ExportJob) -> tuple[Path, str]:
    folder = getattr(settings, "DASHBOARD_EXPORT_DIR", "exports")
    stamp = job.created_at.astimezone(local_tz()).strftime("%Y%m%d-%H%M%S")
    relative = f"{folder}/{job.kind}-{job.pk}-{stamp}.xlsx"
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, relative


@dataclass(frozen=True)
class Written:
    """A written export: its file (relative to MEDIA_ROOT) and the unmasked values it carries, if any."""

    file: str
    unmasked: int = 0
    what: str = ""
    why: str = ""


def write_export(job: ExportJob, *, progress: Callable[[int, int], None]) -> Written:
    """Write a job's workbook under MEDIA_ROOT/exports/; the caller logs the unmasked values it reports."""
    path, relative = _target(job)
    # The worker has no request: the file speaks the site's language (Chinese), as the pages do.
    with translation.override(settings.LANGUAGE_CODE):
        if job.kind == ExportKind.DEMANDS:
            written = _write_demands(job, path, progress)
        elif job.kind == ExportKind.VISITS:
            written = _write_visits(job, path, progress)
        else:  # pragma: no cover - the service refuses other kinds
            raise ValueError(job.kind)
    return Written(relative, *written)


def _write_demands(job: ExportJob, path: Path, progress: Callable[[int, int], None]) -> tuple[int, str, str]:
    user = job.user
    # The saved parameters are read as the console and the list read them, as the person, now.
    filters = DemandFilter.from_params(job.filters, user=user)
    qs = selectors.console_list(user=user, filters=filters, view=selectors.console_view(job.filters.get("view")))
    qs = qs.annotate(
        held=Case(When(selectors.held_q(user), then=Value(True)), default=Value(False), output_field=BooleanField())
    )
    total = qs.count()
    progress(0, total)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("诉求清单")
    ws.append(text_row(ws, DEMAND_COLUMNS))
    unmasked = 0
    done = 0
    # Keyset pages in the list's own order: constant memory, each page one query.
    for demand in qs.iterator(chunk_size=CHUNK):
        show = job.unmasked or demand.held
        phone = demand.reporter_phone if show else mask_phone(demand.reporter_phone)
        if show and demand.reporter_phone:
            unmasked += 1
        ws.append(
            text_row(
                ws,
                [
                    demand.code,
                    demand.title,
                    demand.get_kind_display(),
                    demand.get_channel_display(),
                    str(demand.category) if demand.category else "",
                    demand.get_urgency_display(),
                    demand.state_label,
                    demand.area.name,
                    demand.holder_label,
                    demand.reporter_name if show else mask_name(demand.reporter_name),
                    phone,
                    demand.address,
                    _local(demand.created_at),
                    _local(demand.accepted_at),
                    _local(demand.resolved_at),
                    demand.get_satisfaction_display() if demand.satisfaction else "",
                    demand.resolution,
                ],
            )
        )
        done += 1
        if done % CHUNK == 0:
            progress(done, total)
    wb.save(path)
    progress(done, total)
    if not unmasked:
        return 0, "", ""
    why = job.reason if job.unmasked else "承办人导出本级承办诉求的反映人电话 / holder's own demands"
    return unmasked, f"导出 #{job.pk}：{unmasked} 个未脱敏电话", why


def _write_visits(job: ExportJob, path: Path, progress: Callable[[int, int], None]) -> tuple[int, str, str]:
    models = visit_models()
    if models is None:
        raise ValidationFailed(_("the visit log cannot be exported yet"))
    visit, _opinion = models
    user = job.user
    qs = visit.objects.filter(scope_for(user).area_q("area_path"))
    raw = job.filters
    for name, op in (("date_from", "gte"), ("date_to", "lte")):
        try:
            day = dt.date.fromisoformat(str(raw.get(name) or ""))
        except ValueError:
            continue
        qs = qs.filter(**{f"visited_at__date__{op}": day})
    if str(raw.get("area") or "").isdigit():
        area = Area.objects.filter(pk=int(raw["area"])).first()
        if area is not None:
            qs = qs.filter(area_path__startswith=area.path)
    qs = (
        qs.select_related("visitor", "grid", "household", "demand")
        .annotate(opinion_count=Count("opinions"))
        .order_by("-visited_at", "-id")
    )
    total = qs.count()
    progress(0, total)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("走访记录")
    ws.append(text_row(ws, VISIT_COLUMNS))
    done = 0
    for v in qs.iterator(chunk_size=CHUNK):
        household = v.household
        ws.append(
            text_row(
                ws,
                [
                    _local(v.visited_at),
                    str(v.visitor),
                    v.grid.name,
                    household.head_name if job.unmasked else mask_name(household.head_name),
                    household.address,
                    household.phone if job.unmasked else mask_phone(household.phone),
                    v.get_how_display(),
                    v.notes,
                    v.opinion_count,
                    v.demand.code if v.demand_id and v.demand else "",
                ],
            )
        )
        done += 1
        if done % CHUNK == 0:
            progress(done, total)
    wb.save(path)
    progress(done, total)
    if not (job.unmasked and done):
        return 0, "", ""
    return done, f"导出 #{job.pk}：{done} 条未脱敏走访记录", job.reason


# --- the area report (weekly or monthly) --------------------------------------------------------

MEASURE_ROWS = [
    ("received", "受理诉求数", "count"),
    ("answered", "办结数", "count"),
    ("open", "未办结数", "count"),
    ("overdue", "超时未办结数", "count"),
    ("response_rate", "响应率", "rate"),
    ("ontime_rate", "按期办结率", "rate"),
    ("resolution_rate", "解决率", "rate"),
    ("satisfaction_rate", "满意率", "rate"),
    ("rated_share", "参评率", "rate"),
    ("reopen_rate", "返工率", "rate"),
    ("return_rate", "回退率", "rate"),
    ("local_rate", "就地解决率", "rate"),
    ("extension_rate", "延期率", "rate"),
    ("urges", "督办数", "count"),
    ("accept_median", "响应时长中位数（工作小时）", "hours"),
    ("accept_p90", "响应时长 90 分位（工作小时）", "hours"),
    ("resolve_median", "办结时长中位数（工作小时）", "hours"),
    ("resolve_p90", "办结时长 90 分位（工作小时）", "hours"),
]


def cell(value: Any, kind: str) -> Any:
    """A measure as a spreadsheet value: rates as fractions (formatted %), times in hours."""
    if value is None:
        return None
    if kind == "hours":
        return round(value / 3600, 2)
    if kind == "rate":
        return round(value, 4)
    return value


def report_workbook(report: dict[str, Any]) -> bytes:
    """Three sheets: the measures (this period, the one before, change), the categories, the ranking."""
    wb = Workbook()
    ws = wb.active
    ws.title = "指标"
    ws.append(text_row(ws, [f"{report['title']}（{report['period'].start} 至 {report['period'].end}）"]))
    ws["A1"].font = BOLD
    ws.append(text_row(ws, ["指标", "本期", "上期", "变化"]))
    for name, label, kind in MEASURE_ROWS:
        now, before = report["current"].get(name), report["previous"].get(name)
        change = None if now is None or before is None else now - before
        ws.append(text_row(ws, [label, cell(now, kind), cell(before, kind), cell(change, kind)]))
        if kind == "rate":
            for col in "BCD":
                ws[f"{col}{ws.max_row}"].number_format = "0.0%"
    ws.column_dimensions["A"].width = 26
    cats = wb.create_sheet("类别")
    cats.append(text_row(cats, ["类别", "受理", "办结", "按期办结率", "满意率"]))
    for c in report["categories"]:
        cats.append(
            text_row(
                cats,
                [
                    c["name"],
                    c["received"],
                    c["resolved"],
                    cell(c["ontime_rate"], "rate"),
                    cell(c["satisfaction_rate"], "rate"),
                ],
            )
        )
    cats.column_dimensions["A"].width = 28
    ranking = wb.create_sheet("排名")
    ranking.append(text_row(ranking, ["名次", "区域", "受理", "响应率", "解决率", "满意率", "综合得分"]))
    for r in report["ranking"]:
        ranking.append(
            text_row(
                ranking,
                [
                    r.get("position"),
                    r["area"].name,
                    r["received"],
                    cell(r["response_rate"], "rate"),
                    cell(r["resolution_rate"], "rate"),
                    cell(r["satisfaction_rate"], "rate"),
                    cell(r["score"], "rate"),
                ],
            )
        )
    ranking.column_dimensions["B"].width = 20
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

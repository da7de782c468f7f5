"""The one writer of boundaries in bulk: the page and `import_boundaries` both call `boundary_import`.

Read (readers.py), check (checks.py), then, unless it is a preview or anything is wrong, replace in one
transaction: every matched area gets its new boundary, datum and inside point; areas of the same
levels under the root that the file leaves out lose their old boundary, so a re-import leaves exactly
the file. Each written row gets a new `updated_at`, which is the key of the routing index
(`demands.routing`): the next point looked up rebuilds it, in every process.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from wangge.core.clock import now
from wangge.core.errors import ValidationFailed
from wangge.registry.boundaries.checks import Plan, plan_boundaries
from wangge.registry.boundaries.readers import AUTO, read_boundaries
from wangge.registry.models import Area, ImportJob, Level


def boundary_import(
    *,
    data: bytes,
    filename: str,
    root: Area,
    code_field: str = "code",
    datum: str = AUTO,
    encoding: str = AUTO,
    preview: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> Plan:
    """Import the boundaries of one file under `root` (a city); `preview` checks and writes nothing.

    Raises ValidationFailed (with every problem) when the file cannot be read or a feature is wrong;
    nothing is written then.
    """
    if root.level != Level.CITY:
        raise ValidationFailed(_("boundaries are imported for a whole city"), field="city")
    report = progress or (lambda stage, done, total: None)
    report("read", 0, 0)
    source = read_boundaries(data, filename, code_field=code_field, datum=datum, encoding=encoding)
    if not source.features:
        raise ValidationFailed(_("the file holds no features"), field="file", code="empty")
    report("validate", 0, len(source.features))
    plan = plan_boundaries(source, root=root, code_field=code_field)
    if preview:
        return plan
    if not plan.ok:
        raise ValidationFailed(
            _("%(count)s features are wrong; nothing was imported"),
            params={"count": len(plan.problems)},
            field="file",
            problems=plan.problems,
            code="boundary_problems",
        )
    report("write", 0, len(plan.planned))
    boundary_plan_write(plan=plan)
    report("write", len(plan.planned), len(plan.planned))
    return plan


@transaction.atomic
def boundary_plan_write(*, plan: Plan) -> None:
    """Write a checked plan: one executemany for the new boundaries, one UPDATE for the ones left out."""
    if not plan.ok:
        raise ValidationFailed(_("a plan with problems cannot be written"), field="file")
    table = connection.ops.quote_name(Area._meta.db_table)
    column = connection.ops.quote_name
    stamp = now()
    rows: list[tuple[Any, ...]] = [
        (json.dumps(p.geometry, separators=(",", ":")), plan.datum, p.centre[0], p.centre[1], stamp, p.area_id)
        for p in plan.planned
    ]
    sql = (
        f"UPDATE {table} SET {column('boundary')} = %s, {column('boundary_datum')} = %s, "
        f"{column('centre_lat')} = %s, {column('centre_lng')} = %s, {column('updated_at')} = %s "
        f"WHERE {column('id')} = %s"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 2000):
            cursor.executemany(sql, rows[start : start + 2000])
    if plan.cleared:
        for start in range(0, len(plan.cleared), 2000):
            Area.objects.filter(pk__in=plan.cleared[start : start + 2000]).update(boundary=None, updated_at=stamp)
    plan.written = True


PREVIEW_FEATURES = 3000  # more polygons than this make the page slow; the counts say the rest


def preview_path(job: ImportJob) -> Path:
    """Where a preview job keeps what the page draws: beside its upload (purged with the uploads)."""
    return Path(job.file.path + ".preview.json")


def boundary_preview(job: ImportJob) -> dict[str, Any] | None:
    """What a finished preview job found, for the page's map: None when it is not one or the file is gone."""
    if job.kind != ImportJob.Kind.BOUNDARIES or not (job.options or {}).get("preview") or not job.file:
        return None
    try:
        data = json.loads(preview_path(job).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _preview_payload(plan: Plan) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for p in plan.planned:
        counts[p.level] = counts.get(p.level, 0) + 1
    return {
        "format": plan.format,
        "source_datum": plan.source_datum,
        "datum": plan.datum,
        "features": plan.features,
        "levels": plan.by_level(),
        "cleared": len(plan.cleared),
        "warnings": [w.as_dict() for w in plan.warnings[:200]],
        "geojson": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": p.geometry,
                    "properties": {"code": p.code, "name": p.name, "level": p.level},
                }
                for p in plan.planned[:PREVIEW_FEATURES]
            ],
        },
    }


def boundary_job_run(job: ImportJob, progress: Callable[[str, int, int], None]) -> dict[str, Any]:
    """The worker's runner of boundary jobs (settings.WANGGE_IMPORT_RUNNERS).

    A preview job (options["preview"]) reads and checks, writes nothing in the tree and keeps what the
    page's map draws beside its upload (`boundary_preview`); counts: features read, boundaries to import,
    old ones to remove; its problems are the job's errors. A confirmed job writes: counts are features
    read, boundaries written (created_count), old ones the file left out and that were removed
    (updated_count); a problem refuses it with every feature named.
    """
    options = job.options or {}
    preview = bool(options.get("preview"))
    plan = boundary_import(
        data=Path(job.file.path).read_bytes(),
        filename=job.original_name,
        root=job.city,
        code_field=options.get("code_field", "code"),
        datum=options.get("datum", AUTO),
        encoding=options.get("encoding", AUTO),
        preview=preview,
        progress=progress,
    )
    fields: dict[str, Any] = {
        "status": ImportJob.Status.DONE if plan.ok else ImportJob.Status.REFUSED,
        "rows": plan.features,
        "created_count": len(plan.planned),
        "updated_count": len(plan.cleared),
        "error_count": len(plan.problems),
        "errors": [p.as_dict() for p in plan.problems[:10000]],
    }
    if preview:
        path = preview_path(job)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(_preview_payload(plan), separators=(",", ":")))
        tmp.replace(path)
    return fields

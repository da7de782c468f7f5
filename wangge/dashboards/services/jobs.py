"""Export jobs and the log of unmasked personal data (who saw or exported which personal data, and why)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role
from wangge.core import clock
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed, WanggeError
from wangge.core.replica import primary_position, use_replica
from wangge.dashboards import exports
from wangge.dashboards.facts import visit_models
from wangge.dashboards.models import ExportJob, ExportKind, ExportState, PiiAccessLog
from wangge.demands.models import Demand
from wangge.demands.selectors import DemandFilter

log = logging.getLogger("wangge.dashboards")


# --- personal data ----------------------------------------------------------------------------


@transaction.atomic
def pii_access_log(
    *, user: Any, what: str, why: str, demand: Demand | None = None, export: ExportJob | None = None, values: int = 1
) -> PiiAccessLog:
    """Record one view or export of unmasked personal data (who, when, what, why)."""
    return PiiAccessLog.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        at=clock.now(),
        what=what[:300],
        why=why,
        demand=demand,
        export=export,
        values=values,
    )


def may_unmask_exports(user: Any) -> bool:
    """Only city administrators may ask for every phone unmasked in an export."""
    return bool(getattr(user, "is_authenticated", False) and (user.is_superuser or user.role == Role.CITY_ADMIN))


# --- export jobs -------------------------------------------------------------------------------

# An export saves the demand filters' own parameters (demands.selectors.DemandFilter), as strings.
FILTER_KEYS = DemandFilter.PARAMS


@transaction.atomic
def export_job_create(
    *, user: Any, kind: str, filters: dict[str, Any] | None = None, unmasked: bool = False, reason: str = ""
) -> ExportJob:
    """Queue an export for the worker; unmasked exports only for city administrators, with a reason (logged)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied(_("sign in first"))
    if kind not in ExportKind.values:
        raise ValidationFailed(_("unknown export kind: %(kind)s"), params={"kind": kind}, field="kind")
    if kind == ExportKind.VISITS and visit_models() is None:
        raise ValidationFailed(_("the visit log cannot be exported yet"), field="kind")
    reason = (reason or "").strip()
    if unmasked:
        if not may_unmask_exports(user):
            raise PermissionDenied(_("only city administrators may export unmasked personal data"), field="unmasked")
        if len(reason) < 4:
            raise ValidationFailed(_("say why the unmasked data is needed (at least 4 characters)"), field="reason")
    clean = {k: str(v) for k, v in (filters or {}).items() if k in FILTER_KEYS and v not in (None, "")}
    job = ExportJob.objects.create(
        user=user, kind=kind, filters=clean, unmasked=unmasked, reason=reason[:1000], created_at=clock.now()
    )
    if unmasked:
        pii_access_log(
            user=user, what=f"未脱敏导出 #{job.pk}（{job.get_kind_display()}）", why=reason, export=job, values=0
        )
    return job


def _claim(job_id: int, worker_id: str) -> bool:
    return bool(
        ExportJob.objects.filter(pk=job_id, state=ExportState.QUEUED).update(
            state=ExportState.RUNNING, started_at=clock.now(), worker=worker_id[:100]
        )
    )


def export_jobs_run(*, limit: int = 2, worker_id: str = "") -> int:
    """The worker hook: claim queued exports (a conditional UPDATE: one worker each) and write them."""
    stale = clock.now() - dt.timedelta(hours=1)
    # A job left running for an hour lost its worker: let it be tried again.
    ExportJob.objects.filter(state=ExportState.RUNNING, started_at__lt=stale).update(state=ExportState.QUEUED)
    done = 0
    for job_id in list(
        ExportJob.objects.filter(state=ExportState.QUEUED)
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    ):
        if not _claim(job_id, worker_id):
            continue  # another worker took it
        export_job_run(job=ExportJob.objects.select_related("user").get(pk=job_id))
        done += 1
    return done


def export_job_run(*, job: ExportJob) -> ExportJob:
    """Write one claimed job's file; progress is saved as it goes, failure is recorded, never raised."""
    try:
        # Read on the replica once it has every write made before the job was claimed (docs/scaling.md).
        with use_replica(after=primary_position()):
            written = exports.write_export(job, progress=lambda done, total: _progress(job.pk, done, total))
        if written.unmasked:
            # The file carries personal data in clear: the log says who took how much and why.
            pii_access_log(user=job.user, what=written.what, why=written.why, export=job, values=written.unmasked)
    except WanggeError as exc:
        _finish(job.pk, state=ExportState.FAILED, error=f"{exc.zh} / {exc.en}")
    except Exception as exc:  # the worker must go on; the person sees that it failed and why
        log.exception("export %s failed", job.pk)
        _finish(job.pk, state=ExportState.FAILED, error=str(exc)[:1000])
    else:
        _finish(job.pk, state=ExportState.DONE, file=written.file)
    job.refresh_from_db()
    return job


def _progress(job_id: int, done: int, total: int) -> None:
    ExportJob.objects.filter(pk=job_id).update(done_rows=done, total=total)


def _finish(job_id: int, *, state: str, file: str = "", error: str = "") -> None:
    ExportJob.objects.filter(pk=job_id, state=ExportState.RUNNING).update(
        state=state, file=file, error=error, finished_at=clock.now()
    )


def export_path(job: ExportJob) -> Path:
    """Where a finished job's file lies (refuses anything outside MEDIA_ROOT/exports)."""
    root = (Path(settings.MEDIA_ROOT) / getattr(settings, "DASHBOARD_EXPORT_DIR", "exports")).resolve()
    path = (Path(settings.MEDIA_ROOT) / job.file).resolve()
    if not job.file or root not in path.parents:
        raise NotFound(_("export file not found"))
    return path

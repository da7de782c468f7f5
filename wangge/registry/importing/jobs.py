"""Import jobs: an uploaded file, run in the background, its progress and result kept on the row."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import close_old_connections, connection, transaction

from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import FieldProblem, PermissionDenied, ValidationFailed, WanggeError
from wangge.registry.importing.reader import EXTENSIONS
from wangge.registry.importing.selectors import can_import
from wangge.registry.importing.services import ImportResult, problem_dict, registry_import
from wangge.registry.models import Area, ImportJob, Level

log = logging.getLogger(__name__)

# Progress of the write stage, which runs inside one transaction and so cannot be seen in the
# job row until it commits: kept here for pages served by the same process.
LIVE: dict[int, tuple[str, int, int]] = {}


def _errors_kept() -> int:
    return int(getattr(settings, "IMPORT_ERRORS_KEPT", 10000))


@transaction.atomic
def import_job_create(*, user: Any, city: Area, upload: UploadedFile, keep_good: bool = False) -> ImportJob:
    """Only a city administrator (or superuser) of that city may upload; the file is size-capped."""
    if not can_import(user):
        raise PermissionDenied("只有市级管理员可以导入户籍数据", "only city administrators may import the registry")
    if city.level != Level.CITY or not scope_for(user).covers_path(city.path):
        raise PermissionDenied("不能导入到该市", "you may not import into this city", field="city")
    name = Path(upload.name or "").name
    if Path(name).suffix.lower() not in EXTENSIONS:
        raise ValidationFailed(
            "只能导入 .xlsx、.xls 或 .csv 文件", "only .xlsx, .xls or .csv files can be imported", field="file"
        )
    limit = settings.IMPORT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationFailed(
            f"文件太大：最大 {limit // (1024 * 1024)} MB",
            f"the file is too large: at most {limit // (1024 * 1024)} MB",
            field="file",
            code="too_large",
        )
    job = ImportJob(
        city=city,
        area_path=city.path,
        original_name=name[:255],
        keep_good=keep_good,
        created_by=user,
        created_at=clock.now(),
    )
    job.file.save(name, upload, save=False)
    job.save()
    return job


def import_job_start(*, job: ImportJob) -> None:
    """Run the job after the current transaction commits: in a thread, so the request returns at once."""

    def start() -> None:
        if getattr(settings, "IMPORT_RUN_IN_THREAD", True):
            threading.Thread(target=_run_in_thread, args=(job.pk,), name=f"import-{job.pk}", daemon=True).start()
        else:
            import_job_run(job=ImportJob.objects.get(pk=job.pk))

    transaction.on_commit(start)


def _run_in_thread(job_id: int) -> None:
    close_old_connections()
    try:
        import_job_run(job=ImportJob.objects.get(pk=job_id))
    except Exception:  # the job row already says FAILED; a thread has nobody else to tell
        log.exception("import job %s failed", job_id)
    finally:
        connection.close()


class _JobProgress:
    """Writes progress to the job row at most twice a second (and always at a stage's end)."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        LIVE[self.job_id] = (stage, done, total)
        now = time.monotonic()
        if connection.in_atomic_block:
            return  # inside the write transaction nobody else could see the row change anyway
        if now - self.last < 0.5 and done not in (0, total):
            return
        self.last = now
        ImportJob.objects.filter(pk=self.job_id).update(stage=stage, progress_done=done, progress_total=total)


def import_job_run(*, job: ImportJob) -> ImportJob:
    """Run one queued job once (claimed by a conditional UPDATE, so two workers never both run it)."""
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=clock.now(), stage="read"
    )
    if not claimed:
        job.refresh_from_db()
        return job
    progress = _JobProgress(job.pk)
    result: ImportResult | None = None
    fields: dict[str, Any]
    try:
        result = registry_import(
            path=job.file.path, city=job.city, keep_good=job.keep_good, name=job.original_name, progress=progress
        )
        kept = result.errors[: _errors_kept()]
        fields = {
            "status": ImportJob.Status.DONE if result.written or not result.errors else ImportJob.Status.REFUSED,
            "rows": result.rows,
            "created_count": result.created if result.written else 0,
            "updated_count": result.updated if result.written else 0,
            "unchanged_count": result.unchanged,
            "error_count": len(result.errors),
            "errors": [problem_dict(p) for p in kept],
        }
        if not result.written and not result.errors:
            fields["status"] = ImportJob.Status.DONE
    except WanggeError as e:
        problem = FieldProblem(code=e.code, zh=e.zh, en=e.en, field=e.field)
        fields = {
            "status": ImportJob.Status.REFUSED,
            "error_count": 1,
            "errors": [problem_dict(problem)],
            "message": str(e),
        }
    except Exception as e:
        log.exception("import job %s failed", job.pk)
        fields = {"status": ImportJob.Status.FAILED, "message": f"{type(e).__name__}: {e}"[:2000]}
    finally:
        LIVE.pop(job.pk, None)
    fields.update(finished_at=clock.now(), stage="")
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()
    return job


def live_progress(job: ImportJob) -> tuple[str, int, int]:
    """The freshest progress known to this process (the write stage lives only in memory)."""
    return LIVE.get(job.pk) or (job.stage, job.progress_done, job.progress_total)

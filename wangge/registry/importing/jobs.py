"""Import jobs: an uploaded file queued by the page, then claimed and run by the background worker.

One mechanism for every long upload: a job has a `kind` (registry workbook, boundary file, 12345
hotline export), and `_run` calls the runner that settings.WANGGE_IMPORT_RUNNERS names for it
(a dotted path, so this bottom layer never imports the layers above it that own the hotline). A
runner takes the job and a progress callback `progress(stage, done, total)` and returns the
fields the row keeps (status, counts, errors); a WanggeError it raises refuses the job with its
problems, anything else fails it.

The upload view only stores the file and creates a QUEUED row (`import_job_create`); no request
starts a thread. The worker hook `import_jobs_run` (in settings.WANGGE_WORKER_HOOKS, called by
`manage.py run_worker`) first sweeps the jobs whose worker died, then claims the oldest queued job
with a conditional UPDATE (after SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL) and runs it.

Heartbeat: while a job runs, a thread of its worker rewrites a small JSON file beside the upload
(`<upload>.live`: stage, counters, time of the beat) every IMPORT_HEARTBEAT_SECONDS, and progress
outside the write transaction also goes to the row. A file, because the write stage is one
transaction, and on SQLite that transaction holds the database's only write lock: no connection
could update the row until it ends. The page reads the same file for its progress bar, so the
worker's progress is seen whatever process serves the page (MEDIA_ROOT is shared already: the
worker reads the upload from it).

A dead worker: a RUNNING job whose last beat (row or file) is older than IMPORT_JOB_STALE_SECONDS is
queued again. That is safe because an import validates first and writes in one transaction (a killed
run leaves nothing half-written) and is idempotent (a run that committed just before dying changes
nothing when repeated). After IMPORT_JOB_MAX_ATTEMPTS runs it is failed with a bilingual reason
instead, so a file that kills its worker every time does not loop forever.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import FieldProblem, PermissionDenied, ValidationFailed, WanggeError
from wangge.core.hooks import load
from wangge.core.worker import worker_id
from wangge.registry.boundaries.forms import EXTENSIONS as BOUNDARY_EXTENSIONS
from wangge.registry.importing.reader import EXTENSIONS
from wangge.registry.importing.selectors import can_import, import_denied
from wangge.registry.importing.services import problem_dict, registry_import
from wangge.registry.models import Area, ImportJob, Level

log = logging.getLogger(__name__)

Status = ImportJob.Status
Kind = ImportJob.Kind
Progress = Callable[[str, int, int], None]


def _errors_kept() -> int:
    return int(getattr(settings, "IMPORT_ERRORS_KEPT", 10000))


def _limits(kind: str) -> tuple[tuple[str, ...], int]:
    """The file name endings and the size cap of one kind's uploads."""
    if kind == Kind.BOUNDARIES:
        return BOUNDARY_EXTENSIONS, int(settings.BOUNDARY_IMPORT_MAX_BYTES)
    return EXTENSIONS, int(settings.IMPORT_MAX_BYTES)


@transaction.atomic
def import_job_create(
    *,
    user: Any,
    city: Area,
    upload: File,
    kind: str = Kind.REGISTRY,
    keep_good: bool = False,
    options: dict[str, Any] | None = None,
) -> ImportJob:
    """Store the upload and queue the job for the worker; only the kind's roles, within a city they cover."""
    if kind not in Kind.values:
        raise ValidationFailed(_("unknown kind of import"), field="kind")
    if not can_import(user, kind):
        raise import_denied(kind)
    if city.level != Level.CITY or not scope_for(user).covers_path(city.path):
        raise PermissionDenied(_("you may not import into this city"), field="city")
    name = Path(upload.name or "").name
    endings, limit = _limits(kind)
    if Path(name).suffix.lower() not in endings:
        if kind == Kind.BOUNDARIES:
            raise ValidationFailed(
                _("Only GeoJSON, KML/KMZ or zipped shapefiles (.zip) can be imported."), field="file", code="bad_type"
            )
        raise ValidationFailed(_("only .xlsx, .xls or .csv files can be imported"), field="file")
    if upload.size is not None and upload.size > limit:
        raise ValidationFailed(
            _("the file is too large: at most %(megabytes)s MB"),
            params={"megabytes": limit // (1024 * 1024)},
            field="file",
            code="too_large",
        )
    job = ImportJob(
        kind=kind,
        city=city,
        area_path=city.path,
        original_name=name[:255],
        keep_good=keep_good,
        options=options or {},
        status=Status.QUEUED,
        created_by=user,
        created_at=clock.now(),
    )
    job.file.save(name, upload, save=False)
    job.save()
    return job


def registry_job_run(job: ImportJob, progress: Progress) -> dict[str, Any]:
    """The runner of registry jobs: the workbook through `registry_import`."""
    result = registry_import(
        path=job.file.path,
        city=job.city,
        keep_good=job.keep_good,
        name=job.original_name,
        progress=progress,
        actor=job.created_by,
    )
    return {
        "status": Status.DONE if result.written or not result.errors else Status.REFUSED,
        "rows": result.rows,
        "created_count": result.created if result.written else 0,
        "updated_count": result.updated if result.written else 0,
        "unchanged_count": result.unchanged,
        "error_count": len(result.errors),
        "errors": [problem_dict(p) for p in result.errors[: _errors_kept()]],
    }


def _runner(kind: str) -> Callable[[ImportJob, Progress], dict[str, Any]]:
    runners: dict[str, str] = settings.WANGGE_IMPORT_RUNNERS
    if kind not in runners:
        raise ImproperlyConfigured(f"no runner for import jobs of kind {kind!r} in WANGGE_IMPORT_RUNNERS")
    runner: Callable[[ImportJob, Progress], dict[str, Any]] = load(runners[kind])
    return runner


# --- the worker's pass ----------------------------------------------------------------------


def import_jobs_run() -> dict[str, Any]:
    """The worker hook: sweep jobs of dead workers, then claim and run one queued job.

    One job per pass, so a city-sized file delays the worker's other sweeps by one import at most.
    """
    worker = worker_id()
    report: dict[str, Any] = import_jobs_sweep() | {"purged": import_uploads_purge()}
    claimed = _claim(worker)
    if claimed is None:
        return report | {"ran": None}
    job = _run(job_id=claimed[0], attempt=claimed[1])
    return report | {"ran": job.pk, "status": job.status}


def import_jobs_sweep() -> dict[str, int]:
    """Queue again (or fail, after IMPORT_JOB_MAX_ATTEMPTS runs) every running job that stopped beating.

    Not one transaction on purpose: each change is a conditional UPDATE on (state, attempt), atomic
    on its own, and a pass that finds nothing takes no write lock (on SQLite a live import holds it).
    """
    now = clock.now()
    cutoff = now - dt.timedelta(seconds=float(settings.IMPORT_JOB_STALE_SECONDS))
    silent = ImportJob.objects.filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff), status=Status.RUNNING
    )
    requeued = failed = 0
    for job in silent:
        beat = _file_beat(job)
        if beat is not None and beat >= cutoff.timestamp():
            continue  # alive inside its write transaction
        same_run = ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING, attempts=job.attempts)
        if job.attempts < int(settings.IMPORT_JOB_MAX_ATTEMPTS):
            if same_run.update(status=Status.QUEUED, stage="", progress_done=0, progress_total=0, heartbeat_at=None):
                log.warning("import job %s: worker %s stopped beating; queued again", job.pk, job.worker)
                requeued += 1
        else:
            reason = WanggeError(
                _(
                    "The worker running this import stopped (%(attempts)s attempts). Writing is all or nothing, "
                    "so no half-import was left; check the file and upload it again."
                ),
                params={"attempts": job.attempts},
                code="worker_lost",
            )
            if same_run.update(status=Status.FAILED, stage="", finished_at=now, message=str(reason)):
                log.error(
                    "import job %s: worker %s stopped beating; failed after %s runs", job.pk, job.worker, job.attempts
                )
                failed += 1
        _live_path(job).unlink(missing_ok=True)
    return {"requeued": requeued, "failed": failed}


# --- retention of uploaded files ---------------------------------------------------------------------

FINISHED = (Status.DONE, Status.REFUSED, Status.FAILED)


@transaction.atomic
def import_uploads_purge(*, older_than_days: int | None = None) -> int:
    """Delete uploaded files (they hold ID numbers) older than IMPORT_UPLOAD_RETENTION_DAYS; returns how many.

    A finished job (done, refused or failed) keeps its row, counts and errors and loses its file; a file
    under imports/ that no job names (an upload whose job was never saved) goes too. Queued and running
    jobs keep theirs. Called by the worker on every pass (`import_jobs_run`).
    """
    days = int(settings.IMPORT_UPLOAD_RETENTION_DAYS if older_than_days is None else older_than_days)
    cutoff = clock.now() - dt.timedelta(days=days)
    old = ImportJob.objects.filter(
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff), status__in=FINISHED
    ).exclude(file="")
    paths = [Path(job.file.path) for job in old]
    ImportJob.objects.filter(pk__in=[job.pk for job in old]).update(file="")
    named = {
        Path(settings.MEDIA_ROOT, name) for name in ImportJob.objects.exclude(file="").values_list("file", flat=True)
    }
    root = Path(settings.MEDIA_ROOT, "imports")
    if root.is_dir():
        for path in root.rglob("*"):
            if path.is_file() and path not in named and path.stat().st_mtime < cutoff.timestamp():
                paths.append(path)  # an orphan, or a job's stale .live file

    def delete() -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    transaction.on_commit(delete)
    return len(paths)


def _claim(worker: str) -> tuple[int, int] | None:
    """Take the oldest queued job: (id, attempt number), or None. A conditional UPDATE: one worker wins."""
    for _attempt in range(5):  # another worker may win each race; the next queued job is tried
        if not ImportJob.objects.filter(status=Status.QUEUED).exists():
            return None  # a plain read: an idle pass takes no write lock
        with transaction.atomic():
            queued = ImportJob.objects.filter(status=Status.QUEUED).order_by("created_at", "id")
            if connection.features.has_select_for_update_skip_locked:
                queued = queued.select_for_update(skip_locked=True)
            job_id = queued.values_list("id", flat=True).first()
            if job_id is None:
                return None
            now = clock.now()
            took = ImportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
                status=Status.RUNNING,
                worker=worker[:100],
                attempts=F("attempts") + 1,
                started_at=now,
                heartbeat_at=now,
                stage="read",
                progress_done=0,
                progress_total=0,
            )
            if took:
                return job_id, ImportJob.objects.values_list("attempts", flat=True).get(pk=job_id)
    return None


def _run(*, job_id: int, attempt: int) -> ImportJob:
    """Run one claimed job; the outcome is written only if the job is still this run's (not swept meanwhile)."""
    job = ImportJob.objects.select_related("city", "created_by").get(pk=job_id)
    live = _Live(job, attempt)
    live.start()
    fields: dict[str, Any]
    try:
        fields = _runner(job.kind)(job, live.progress)
    except WanggeError as e:
        problems = e.problems or [FieldProblem(code=e.code, zh=e.zh, en=e.en, field=e.field)]
        fields = {
            "status": Status.REFUSED,
            "error_count": len(problems),
            "errors": [problem_dict(p) for p in problems[: _errors_kept()]],
            "message": str(e),
        }
    except Exception as e:  # recorded on the job for the person who uploaded it; the worker goes on
        log.exception("import job %s failed", job_id)
        fields = {"status": Status.FAILED, "message": f"{type(e).__name__}: {e}"[:2000]}
    finally:
        live.stop()
    fields.update(finished_at=clock.now(), stage="", heartbeat_at=clock.now())
    ImportJob.objects.filter(pk=job_id, status=Status.RUNNING, attempts=attempt).update(**fields)
    live.remove()
    job.refresh_from_db()
    log.info("import job %s (attempt %s): %s", job_id, attempt, job.status)
    return job


# --- liveness and progress --------------------------------------------------------------------


def _live_path(job: ImportJob) -> Path:
    return Path(job.file.path + ".live")


def _read_live(job: ImportJob) -> dict[str, Any] | None:
    try:
        data = json.loads(_live_path(job).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _file_beat(job: ImportJob) -> float | None:
    data = _read_live(job)
    if data is None or data.get("attempt") != job.attempts:
        return None  # a file left by an earlier run says nothing about this one
    return float(data.get("beat", 0))


class _Live:
    """The running job's heartbeat and progress: the file always, the row when no transaction is open."""

    def __init__(self, job: ImportJob, attempt: int) -> None:
        self.job_id = job.pk
        self.attempt = attempt
        self.path = _live_path(job)
        self.state: tuple[str, int, int] = ("read", 0, 0)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"import-{job.pk}-heartbeat", daemon=True)

    def start(self) -> None:
        self._write()
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def _beat(self) -> None:
        # A thread of the worker process: it dies with the process, which is what makes it a heartbeat.
        while not self.stopped.wait(float(settings.IMPORT_HEARTBEAT_SECONDS)):
            self._write()

    def _write(self) -> None:
        with self.lock:
            stage, done, total = self.state
            data = {"stage": stage, "done": done, "total": total, "beat": clock.now().timestamp()}
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data | {"attempt": self.attempt}))
            os.replace(tmp, self.path)  # readers see the old file or the new one, never half of one

    def progress(self, stage: str, done: int, total: int) -> None:
        # Called every few thousand rows, so each call may write the file.
        self.state = (stage, done, total)
        self._write()
        log.info("import job %s (attempt %s): %s %s/%s", self.job_id, self.attempt, stage, done, total)
        if connection.in_atomic_block:
            return  # inside the write transaction nobody else could see the row change anyway
        ImportJob.objects.filter(pk=self.job_id, status=Status.RUNNING, attempts=self.attempt).update(
            stage=stage, progress_done=done, progress_total=total, heartbeat_at=clock.now()
        )


def live_progress(job: ImportJob) -> tuple[str, int, int]:
    """The freshest progress of a job: its worker's live file while it runs, else the row."""
    if job.status == Status.RUNNING:
        data = _read_live(job)
        if data is not None and data.get("attempt") == job.attempts:
            return str(data.get("stage", "")), int(data.get("done", 0)), int(data.get("total", 0))
    return job.stage, job.progress_done, job.progress_total


def _cards(job: ImportJob) -> list[tuple[int, Any]]:
    """The result's counters, labelled for the job's kind."""
    if job.kind == Kind.HOTLINE:
        return [
            (job.rows, _("rows read")),
            (job.created_count, _("orders created")),
            (job.unchanged_count, _("already imported")),
            (job.error_count, _("problems")),
        ]
    if job.kind == Kind.BOUNDARIES and (job.options or {}).get("preview"):
        return [
            (job.rows, _("features read")),
            (job.created_count, _("boundaries to import")),
            (job.updated_count, _("old boundaries to remove")),
            (job.error_count, _("problems")),
        ]
    if job.kind == Kind.BOUNDARIES:
        return [
            (job.rows, _("features read")),
            (job.created_count, _("boundaries imported")),
            (job.updated_count, _("old boundaries removed")),
            (job.error_count, _("problems")),
        ]
    return [
        (job.rows, _("rows read")),
        (job.created_count, _("households created")),
        (job.updated_count, _("households updated")),
        (job.unchanged_count, _("unchanged")),
        (job.error_count, _("problems")),
    ]


def import_job_context(job: ImportJob, *, poll_url: str, page: Any = None) -> dict[str, Any]:
    """What the job partial (templates/registry/partials/_import_job.html) shows, for a job of any kind."""
    stage, done, total = live_progress(job)
    if job.kind == Kind.REGISTRY:
        refused = _(
            "Nothing was written: correct the rows below and upload the file again, or upload it keeping the good rows."
        )
    else:
        refused = _("Nothing was written: correct the problems below and upload the file again.")
    return {
        "job": job,
        "stage": stage,
        "done": done,
        "total": total,
        "errors": Paginator(job.errors or [], 500).get_page(page),
        "poll_url": poll_url,
        "cards": _cards(job),
        "refused_text": refused,
    }

"""Uploaded registry files (ID numbers inside) are deleted after IMPORT_UPLOAD_RETENTION_DAYS by the worker,
refused ones included (issue 15, item 14: they were never deleted)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
import time_machine

from wangge.registry.importing import import_jobs_run
from wangge.registry.importing.jobs import import_uploads_purge
from wangge.registry.importing.testing import make_import_job
from wangge.registry.models import ImportJob

pytestmark = pytest.mark.django_db
Status = ImportJob.Status
T0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_UPLOAD_RETENTION_DAYS = 30
    return tmp_path / "media"


def test_the_worker_deletes_old_uploads_of_finished_jobs_and_keeps_their_rows(
    tree: Any, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(T0, tick=False):
        refused = make_import_job(grid=tree.grid, status=Status.REFUSED, finished_at=T0)
        done = make_import_job(grid=tree.grid, status=Status.DONE, finished_at=T0, error_count=0, errors=[])
        queued = make_import_job(grid=tree.grid, status=Status.QUEUED, finished_at=None)
        orphan = media / "imports" / "2026" / "03" / "lost.csv"  # an upload whose job was never saved
        orphan.write_bytes(b"head_id\n430181198001010011\n")
        os.utime(orphan, (T0.timestamp(), T0.timestamp()))
    files = {job.pk: Path(job.file.path) for job in (refused, done, queued)}
    assert all(p.exists() for p in files.values())

    with time_machine.travel(T0 + dt.timedelta(days=29), tick=False):
        assert import_uploads_purge() == 0
    with time_machine.travel(T0 + dt.timedelta(days=31), tick=False), django_capture_on_commit_callbacks(execute=True):
        report = import_jobs_run()  # files go once the purge has committed
    assert report["purged"] == 3
    assert not files[refused.pk].exists() and not files[done.pk].exists() and not orphan.exists()
    assert files[queued.pk].exists() or ImportJob.objects.get(pk=queued.pk).status != Status.QUEUED
    refused.refresh_from_db()
    assert refused.file.name == "" and refused.error_count == 1 and refused.errors  # the report stays


def test_the_retention_is_configurable(
    tree: Any, media: Path, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IMPORT_UPLOAD_RETENTION_DAYS = 3
    with time_machine.travel(T0, tick=False):
        job = make_import_job(grid=tree.grid, status=Status.FAILED, finished_at=T0)
    path = Path(job.file.path)
    with time_machine.travel(T0 + dt.timedelta(days=4), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert import_uploads_purge() == 1
    assert not path.exists()

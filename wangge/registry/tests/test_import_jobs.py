"""Import jobs in the worker: claimed once, swept when their worker dies, never half-written.

The last test is the real thing: a `manage.py run_worker --once` subprocess imports a city-sized
file, is SIGKILLed in the middle of the write transaction, and a second worker pass finishes the
job. Test and subprocess share one database file (or the PostgreSQL test database).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import selectors
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from wangge.accounts.models import Role
from wangge.core import clock
from wangge.registry.importing import import_job_create, import_jobs_run, import_jobs_sweep
from wangge.registry.importing.columns import COLUMNS
from wangge.registry.importing.jobs import _claim, live_progress
from wangge.registry.models import ImportJob
from wangge.registry.testing import make_household, make_tree, make_user

ROOT = Path(__file__).resolve().parents[3]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
Status = ImportJob.Status


def _id(n: int) -> str:
    base = f"4301811980{n:07d}"
    return base + "10X98765432"[sum(int(base[i]) * _WEIGHTS[i] for i in range(17)) % 11]


def _csv(rows: int) -> bytes:
    """`rows` households, 25 to a grid, 100 grids to a branch (branches and grids are created by the import)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([c.header for c in COLUMNS])
    for n in range(rows):
        grid = n // 25
        cells = {
            "town": "集里街道",
            "village": "金沙社区",
            "branch": f"导入测试支部{grid // 100 + 1}",
            "grid": grid % 100 + 1,
            "address": f"金沙路{n}号",
            "head_name": f"户主{n}",
            "head_id": _id(n),
            "phone": f"139{n:08d}",
            "members": 3,
        }
        w.writerow([cells.get(c.key, "") for c in COLUMNS])
    return out.getvalue().encode()


def _queue(tree: Any, content: bytes, name: str = "户籍.csv") -> ImportJob:
    admin = make_user(role=Role.CITY_ADMIN, areas=[tree.city])
    return import_job_create(user=admin, city=tree.city, upload=SimpleUploadedFile(name, content))


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path / "media"


@pytest.mark.django_db
def test_a_queued_job_is_claimed_by_one_worker_only(tree: Any, media: Path) -> None:
    job = _queue(tree, _csv(3))
    first = _claim("a:1")
    assert first == (job.pk, 1)
    assert _claim("b:2") is None  # nothing queued any more: the second worker gets nothing
    job.refresh_from_db()
    assert (job.status, job.worker, job.attempts) == (Status.RUNNING, "a:1", 1)
    assert job.heartbeat_at is not None and job.started_at is not None


@pytest.mark.django_db
def test_a_silent_job_is_run_again_then_failed_with_a_reason(tree: Any, media: Path, settings: Any) -> None:
    settings.IMPORT_JOB_STALE_SECONDS = 60
    settings.IMPORT_JOB_MAX_ATTEMPTS = 2
    job = _queue(tree, _csv(3))
    _claim("dead:1")
    long_ago = clock.now() - dt.timedelta(minutes=5)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=long_ago)

    # A worker inside its write transaction beats only in the file beside the upload: alive.
    live = Path(job.file.path + ".live")
    live.write_text(
        json.dumps({"stage": "write", "done": 5, "total": 9, "beat": clock.now().timestamp(), "attempt": 1})
    )
    assert import_jobs_sweep() == {"requeued": 0, "failed": 0}
    job.refresh_from_db()
    assert job.status == Status.RUNNING and live_progress(job) == ("write", 5, 9)

    # Its beats stop: the first run is queued again, and the next pass runs it to the end.
    live.write_text(json.dumps({"stage": "write", "done": 5, "total": 9, "beat": long_ago.timestamp(), "attempt": 1}))
    assert import_jobs_sweep() == {"requeued": 1, "failed": 0}
    job.refresh_from_db()
    assert job.status == Status.QUEUED and not live.exists()
    assert import_jobs_run() == {"requeued": 0, "failed": 0, "purged": 0, "ran": job.pk, "status": Status.DONE}
    job.refresh_from_db()
    assert (job.attempts, job.created_count) == (2, 3)

    # A job whose second run dies too is failed, in both languages, not run a third time.
    again = _queue(tree, _csv(3), name="again.csv")
    ImportJob.objects.filter(pk=again.pk).update(
        status=Status.RUNNING, attempts=2, started_at=long_ago, heartbeat_at=long_ago
    )
    assert import_jobs_run() == {"requeued": 0, "failed": 1, "purged": 0, "ran": None}
    again.refresh_from_db()
    assert again.status == Status.FAILED and again.finished_at is not None
    assert "导入进程意外中止" in again.message and "worker running this import stopped" in again.message


def _shared_database(tmp_path: Path) -> tuple[str, Callable[[str], list[tuple[Any, ...]]]]:
    """A DATABASE_URL a subprocess can open on the data this test wrote, and a way to query it."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"

        def query_pg(sql: str) -> list[tuple[Any, ...]]:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())

        return url, query_pg
    assert connection.vendor == "sqlite"
    if connection.is_in_memory_db():
        # The in-memory test database, copied to a file the subprocess can open.
        path = tmp_path / "shared.sqlite3"
        target = sqlite3.connect(path)
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
    else:
        path = Path(db["NAME"])

    def query_file(sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(path, timeout=30) as con:
            return list(con.execute(sql).fetchall())

    return f"sqlite:///{path}", query_file


def _worker_env(url: str, media: Path, tmp_path: Path, settings: Any, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MEDIA_ROOT": str(media),
        "WANGGE_VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": settings.SECRET_KEY,  # the same keys, so ID lookup hashes agree with this process
        "LOG_LEVEL": "INFO",
        "IMPORT_HEARTBEAT_SECONDS": "0.5",
        **extra,
    }
    if settings.FIELD_ENCRYPTION_KEY:
        env["FIELD_ENCRYPTION_KEY"] = settings.FIELD_ENCRYPTION_KEY
    return env


def _wait_for_line(proc: subprocess.Popen[str], pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
    """Read the worker's log as it comes (blocking reads with a deadline, no polling) until a line matches."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while (left := deadline - time.monotonic()) > 0:
        if not sel.select(timeout=left):
            break
        line = proc.stdout.readline()
        if not line:
            break  # the worker exited
        seen.append(line)
        match = pattern.search(line)
        if match:
            return match
    raise AssertionError("the worker never reached the write stage:\n" + "".join(seen[-40:]))


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_leaves_nothing_half_written_and_the_job_finishes(
    tmp_path: Path, media: Path, settings: Any
) -> None:
    rows = 30_000
    tree = make_tree()
    for _ in range(3):
        make_household(grid=tree.grid)
    job = _queue(tree, _csv(rows))
    url, query = _shared_database(tmp_path)

    def counts() -> tuple[int, int, int]:
        households = query("SELECT COUNT(*) FROM registry_household")[0][0]
        city = query(f"SELECT household_count FROM registry_area WHERE id = {tree.city.pk}")[0][0]
        grids = query("SELECT COALESCE(SUM(household_count), 0) FROM registry_area WHERE level = 'grid'")[0][0]
        return households, city, grids

    old, new = (3, 3, 3), (3 + rows, 3 + rows, 3 + rows)
    areas_before = query("SELECT COUNT(*) FROM registry_area")[0][0]

    worker = [sys.executable, "manage.py", "run_worker", "--once"]
    proc = subprocess.Popen(
        worker,
        cwd=ROOT,
        env=_worker_env(url, media, tmp_path, settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = re.compile(rf"import job {job.pk} \(attempt 1\): write (\d+)/(\d+)")
        while True:
            match = _wait_for_line(proc, line, timeout=240)
            if 0 < int(match[1]) < int(match[2]):
                break  # rows are going into the open write transaction
        proc.kill()  # SIGKILL: no handler, no rollback by the process, no last word
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -9

    at_kill = counts()
    assert at_kill in (old, new)  # the old counts, or (had it just committed) the complete new ones
    if at_kill == old:
        assert query("SELECT COUNT(*) FROM registry_area")[0][0] == areas_before  # no stray branch or grid
    status, attempts = query(f"SELECT status, attempts FROM registry_importjob WHERE id = {job.pk}")[0]
    assert (status, attempts) == ("running", 1)  # the dead worker's claim, until a sweep

    # The next pass (any worker) sees the silent job, queues it again and runs it to the end.
    again = subprocess.run(
        worker,
        cwd=ROOT,
        env=_worker_env(url, media, tmp_path, settings, IMPORT_JOB_STALE_SECONDS="0"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert f"import job {job.pk}: worker" in again.stderr and "queued again" in again.stderr
    status, attempts, created, unchanged = query(
        f"SELECT status, attempts, created_count, unchanged_count FROM registry_importjob WHERE id = {job.pk}"
    )[0]
    assert (status, attempts) == ("done", 2)
    assert created + unchanged == rows
    assert counts() == new
    assert query("SELECT MAX(household_count) FROM registry_area WHERE level = 'grid'")[0][0] <= 30
    assert not Path(media / job.file.name).with_name(Path(job.file.name).name + ".live").exists()

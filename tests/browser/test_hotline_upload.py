"""The 12345 round trip on the web: the clerk uploads the hotline's export, the worker imports it (progress,
then the counts), and the return sheet of those orders comes back as the hotline's own workbook."""

from __future__ import annotations

import importlib
import io
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.demands.models import Demand
from wangge.demands.tests.test_hotline import good_rows, write_xlsx
from wangge.registry.importing import import_jobs_run
from wangge.registry.models import ImportJob
from wangge.registry.testing import make_user

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def catalogue(db: Any) -> None:
    """The default categories: an earlier live-server test flushes every table, data migrations too."""
    from django.apps import apps

    importlib.import_module("wangge.demands.migrations.0002_default_categories").load(apps, None)


def test_the_clerk_uploads_the_export_and_downloads_the_return_sheet(make_page: Any, tree: Any, tmp_path: Path) -> None:
    clerk = make_user(role=Role.CALL_BACK_CLERK, areas=[tree.city], username="p_clerk")
    rows = good_rows()
    rows[2][4] = "骚扰"  # a bad kind on Excel row 5: the first upload is refused whole
    bad = write_xlsx(tmp_path / "12345导出-有误.xlsx", rows)
    good = write_xlsx(tmp_path / "12345导出.xlsx", good_rows())

    page = make_page("desk")
    login(page, clerk)
    page.goto(reverse("demands:hotline_results"))
    page.set_input_files("[data-testid=hotline-upload] input[type=file]", str(bad))
    with page.expect_navigation():
        page.click("[data-testid=hotline-upload] button[type=submit]")
    assert page.locator("[data-testid=import-queued]").count() == 1  # waiting for the worker, polled
    assert import_jobs_run()["status"] == "refused"
    errors = page.locator("[data-testid=import-errors]")
    errors.wait_for()  # the page's next poll swaps the progress for the result
    assert "诉求类型" in errors.inner_text() and "5" in errors.inner_text()
    assert not Demand.objects.exists()

    page.goto(reverse("demands:hotline_results"))
    page.set_input_files("[data-testid=hotline-upload] input[type=file]", str(good))
    with page.expect_navigation():
        page.click("[data-testid=hotline-upload] button[type=submit]")
    assert import_jobs_run()["status"] == "done"
    result = page.locator("[data-testid=import-result]")
    result.wait_for()
    assert "3" in result.inner_text() and "新建工单" in result.inner_text()
    screenshot(page, "hotline-import")
    assert Demand.objects.filter(channel="hotline").count() == 3

    # Both uploads are listed; then the way back: the return sheet of the day the calls came in.
    with page.expect_navigation():
        page.click("[data-testid=import-back]")
    assert page.locator("[data-testid=import-jobs] tbody tr").count() == ImportJob.objects.count() == 2
    page.fill("input[name=since]", "2026-04-15")
    page.fill("input[name=until]", "2026-04-15")
    with page.expect_download() as caught:
        page.click("[data-testid=hotline-download]")
    sheet = load_workbook(io.BytesIO(Path(caught.value.path()).read_bytes())).active
    tickets = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert tickets == {"GD2026041500001", "GD2026041500002"}  # the third order has no call time

"""A progress report raising a project's achieved figure shows on the public page after the city checks it, not before.

The live server runs in this process, so time-machine moves its clock too: it is 30 June 2026.
The hospital-beds project (800 beds) stands at 300 checked; the health bureau's liaison reports
520 on a phone with a photo, the public page still shows 300; the city administrator accepts the
report at a desk, and the public page shows 520, with no one's name on it.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from PIL import Image

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.projects import services
from wangge.projects.models import ProgressReport, ReportState
from wangge.projects.testing import make_project, make_report
from wangge.registry.testing import make_user

pytestmark = pytest.mark.browser
SH = ZoneInfo("Asia/Shanghai")
JUNE_30 = dt.datetime(2026, 6, 30, 10, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _session_cookie_without_expiry(settings: Any) -> None:
    # The test clock is behind the browser's own clock: a cookie expiring two weeks after the
    # test clock would already have expired for Chromium.
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True


def _photo() -> dict[str, Any]:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buf, format="JPEG")
    return {"name": "病房.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def _public_figure(page: Any) -> str:
    page.goto(reverse("projects:public") + "?year=2026")
    return page.locator('[data-testid="achieved-MS2026-CW"]').inner_text()


def test_a_checked_report_raises_the_figure_on_the_public_page_and_not_before(
    phone_page: Any, desk_page: Any, make_page: Any, tree: Any, personas: Any
) -> None:
    admin = personas[Role.CITY_ADMIN]
    liaison = make_user(role=Role.DEPARTMENT, departments=[tree.department], display_name="卫健局联络员")
    with time_machine.travel(JUNE_30, tick=True):
        project = make_project(
            area=tree.town,
            department=tree.department,
            user=admin,
            code="MS2026-CW",
            name="新增医疗卫生机构床位",
            domain="hospital_beds",
            target=800,
            unit="张",
            people=[{"name": "罗丽娟", "role": "副局长"}],
        )
        first = make_report(project=project, user=liaison, achieved_to_date=300, period=dt.date(2026, 5, 31))
        services.report_check(user=admin, report=first, accepted=True)

        # The liaison reports on a phone: the cumulative figure to date, a narrative and a photo.
        login(phone_page, liaison)
        phone_page.goto(reverse("projects:list"))
        phone_page.click('article[data-project="MS2026-CW"] header a')
        phone_page.click('[data-testid="report-progress"]')
        phone_page.fill('input[name="period"]', "2026-06-30")
        phone_page.fill('input[name="achieved_to_date"]', "520")
        phone_page.fill('textarea[name="narrative"]', "市人民医院新院区 220 张床位投入使用")
        phone_page.set_input_files('input[name="photos"]', [_photo()])
        screenshot(phone_page, "projects-report")
        with phone_page.expect_navigation():
            phone_page.click('[data-testid="submit-report"]')
        assert phone_page.locator('[data-testid="reports"] tbody tr[data-state="submitted"]').count() == 1
        report = ProgressReport.objects.get(state=ReportState.SUBMITTED)
        assert report.increment == 220 and report.photos.count() == 1

        # Not before the check: a resident without an account still sees 300.
        resident = make_page("phone")
        assert _public_figure(resident) == "300"

        # The city administrator checks at a desk.
        login(desk_page, admin)
        desk_page.goto(reverse("projects:checks"))
        with desk_page.expect_navigation():  # count() does not wait: read the check page once it is there
            desk_page.click(f'[data-testid="open-check-{report.pk}"]')
        assert desk_page.locator("img.thumb").count() == 1  # the photo is there to look at
        screenshot(desk_page, "projects-check")
        with desk_page.expect_navigation():
            desk_page.click('[data-testid="accept"]')
        assert desk_page.locator('[data-testid="check-queue"] tbody tr[data-report]').count() == 0

        # After the check: 520, with its percent and status, and no personal data.
        assert _public_figure(resident) == "520"
        card = resident.locator('article[data-project="MS2026-CW"]').inner_text()
        assert "65.0%" in card  # 520 of 800
        body = resident.content()
        for private in ("罗丽娟", "卫健局联络员", str(admin), "新院区 220"):
            assert private not in body
        screenshot(resident, "projects-public")

        desk_page.goto(reverse("projects:detail", kwargs={"pk": project.pk}))
        desk_page.wait_for_selector('[data-chart="progress"][data-ready="1"]')
        screenshot(desk_page, "projects-detail")
    report.refresh_from_db()
    project.refresh_from_db()
    assert report.state == ReportState.CHECKED and project.achieved == 520

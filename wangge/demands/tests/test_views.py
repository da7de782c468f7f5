"""The demand pages through Django's test client: good input works, bad input is refused next to
the field with a bilingual message and changes nothing."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.core import ratelimit
from wangge.core.tests.test_photos import jpeg_bytes
from wangge.demands import routing, services
from wangge.demands.models import Demand, DemandEvent, DemandPhoto, State
from wangge.demands.testing import make_demand
from wangge.notifications.models import OutboxMessage

PHONE = "13912345678"


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WANGGE_REPORT_RATE = "100/h"
    settings.WANGGE_REPORT_IP_RATE = "100/h"
    settings.WANGGE_TRACK_RATE = "100/h"
    cache.clear()
    yield
    cache.clear()
    routing.clear_cache()


def photo(name: str = "tree.jpg", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else jpeg_bytes(), content_type="image/jpeg")


def report_data(tree: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "phone": PHONE,
        "name": "王五",
        "description": "小区门口的樟树枯死了，树枝随时会掉下来",
        "grid": tree.grid.code,
        "kind": "help",
        "category": "0401",
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def error_of(body: str, name: str) -> str:
    """The text of the error shown next to field `name` ('' when there is none)."""
    found = re.findall(rf'data-testid="error-{name}">([^<]*)<', body)
    return " ".join(found)


def snapshot() -> tuple[int, int, int, int]:
    """Counts that must not move when input is refused."""
    return (
        Demand.objects.count(),
        DemandEvent.objects.count(),
        DemandPhoto.objects.count(),
        OutboxMessage.objects.count(),
    )


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the resident's report page ---------------------------------------------------------------


def test_qr_url_preselects_the_grid(tree: Any, personas: Any) -> None:
    body = Client().get(reverse("demands:report"), {"grid": tree.grid.code}).content.decode()
    assert 'data-testid="chosen-grid"' in body
    assert tree.grid.name in body and "金沙社区" in body and "集里街道" in body
    assert f'name="grid" value="{tree.grid.code}"' in body
    assert "张建国" in body  # the grid leader's name (never the phone)
    assert "13800001111" not in body
    assert 'capture="environment"' in body and 'accept="image/*"' in body


def test_unknown_qr_grid_falls_back_to_the_list(tree: Any) -> None:
    body = Client().get(reverse("demands:report"), {"grid": "999"}).content.decode()
    assert 'data-testid="chosen-grid"' not in body
    assert "二维码中的网格不存在" in body
    assert tree.town.name in body and tree.other_town.name in body


def test_places_cascade(tree: Any) -> None:
    client = Client()
    villages = client.get(reverse("demands:places"), {"town": tree.town.pk}).content.decode()
    assert f'value="{tree.village.pk}"' in villages and tree.village.name in villages
    assert tree.other_village.name not in villages
    grids = client.get(reverse("demands:places"), {"village": tree.village.pk}).content.decode()
    assert f'value="{tree.grid.code}"' in grids and f'value="{tree.sibling_grid.code}"' in grids
    assert tree.other_grid.name not in grids
    assert client.get(reverse("demands:places"), {"town": "x"}).status_code == 200


def test_report_files_a_demand_and_answers_with_code_and_link(tree: Any, personas: Any) -> None:
    client = Client()
    resp = client.post(reverse("demands:report"), {**report_data(tree), "photos": [photo()]})
    assert resp.status_code == 302, resp.content.decode()[:3000]
    demand = Demand.objects.get()
    assert resp["Location"] == reverse("demands:track", args=[demand.tracking_token]) + "?new=1"
    assert demand.channel == "resident_web" and demand.area == tree.grid and demand.state == State.SUBMITTED
    assert demand.category.code == "0401" and demand.reporter_phone == PHONE
    assert demand.title.startswith("小区门口的樟树枯死了")
    assert demand.photos.count() == 1 and demand.photos.get().by_resident
    page = client.get(resp["Location"])
    body = page.content.decode()
    assert demand.code in body and demand.tracking_token in body
    assert page["Cache-Control"] == "no-store, private"
    assert 'data-testid="submitted"' in body


def test_report_by_village_when_no_grid_is_known(tree: Any) -> None:
    data = report_data(tree, grid="", town=tree.town.pk, village=tree.village.pk)
    assert Client().post(reverse("demands:report"), data).status_code == 302
    assert Demand.objects.get().area == tree.village


def test_same_page_sent_twice_files_one_demand(tree: Any) -> None:
    data = report_data(tree)
    client = Client()
    first = client.post(reverse("demands:report"), data)
    second = client.post(reverse("demands:report"), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Demand.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field", "zh", "en"),
    [
        ({"description": ""}, "description", "请描述您遇到的问题", "Please describe the problem"),
        ({"phone": "12345"}, "phone", "电话号码格式不正确", "not valid"),
        ({"phone": ""}, "phone", "请填写手机号码", "phone number"),
        ({"category": "9999"}, "category", "未知的诉求类别", "Unknown category"),
        ({"grid": ""}, "place", "请选择所在位置", "choose where it is"),
        ({"grid": "no-such-grid"}, "place", "找不到该网格", "not found"),
    ],
)
def test_bad_report_is_refused_next_to_the_field(
    tree: Any, change: dict[str, str], field: str, zh: str, en: str
) -> None:
    before = snapshot()
    data = report_data(tree, name="王五不变", address="金沙路8号", **change)
    resp = Client().post(reverse("demands:report"), data)
    assert resp.status_code == 400
    body = resp.content.decode()
    message = error_of(body, field)
    assert zh in message and en in message, body[:4000]
    assert "王五不变" in body and "金沙路8号" in body  # what was typed is kept
    assert snapshot() == before


def test_thirty_megabyte_photo_is_refused(tree: Any, settings: Any) -> None:
    settings.UPLOAD_MAX_IMAGE_BYTES = 10 * 1024 * 1024
    before = snapshot()
    big = photo(data=jpeg_bytes() + b"\0" * (30 * 1024 * 1024))
    resp = Client().post(reverse("demands:report"), {**report_data(tree), "photos": [big]})
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "10 MB" in error_of(body, "photos")
    assert "樟树枯死了" in body  # the description is kept; only the photo must be chosen again
    assert "请重新选择照片" in body
    assert snapshot() == before


def test_non_image_is_refused(tree: Any) -> None:
    before = snapshot()
    fake = SimpleUploadedFile("tree.jpg", "这不是图片".encode() * 50, content_type="image/jpeg")
    resp = Client().post(reverse("demands:report"), {**report_data(tree), "photos": [photo(), fake]})
    assert resp.status_code == 400
    message = error_of(resp.content.decode(), "photos")
    assert "不是图片" in message and "not an image" in message
    assert snapshot() == before


def test_point_outside_the_county_is_refused(tree: Any) -> None:
    # Give the city a boundary (roughly Liuyang) so that "outside the county" means something.
    liuyang = {
        "type": "Polygon",
        "coordinates": [[[113.2, 27.8], [114.3, 27.8], [114.3, 28.6], [113.2, 28.6], [113.2, 27.8]]],
    }
    type(tree.city).objects.filter(pk=tree.city.pk).update(boundary=liuyang)
    routing.clear_cache()
    before = snapshot()
    data = report_data(tree, grid="", lat="39.9042", lng="116.4074")  # Beijing
    resp = Client().post(reverse("demands:report"), data)
    assert resp.status_code == 400
    message = error_of(resp.content.decode(), "place")
    assert "不在本县" in message and "outside the county" in message
    assert snapshot() == before


def test_half_a_point_is_refused(tree: Any) -> None:
    resp = Client().post(reverse("demands:report"), report_data(tree, grid="", lat="28.1"))
    assert resp.status_code == 400
    assert "定位不完整" in error_of(resp.content.decode(), "place")


def test_too_many_photos(tree: Any) -> None:
    before = snapshot()
    resp = Client().post(reverse("demands:report"), {**report_data(tree), "photos": [photo() for _ in range(7)]})
    assert resp.status_code == 400
    assert "最多上传 6 张" in error_of(resp.content.decode(), "photos")
    assert snapshot() == before


def test_report_is_rate_limited_per_phone_counting_accepted_reports(tree: Any, settings: Any) -> None:
    settings.WANGGE_REPORT_RATE = "2/h"
    client = Client()
    for _ in range(2):
        # The same words twice: the second resident has seen the demand nearby and still adds theirs.
        assert client.post(reverse("demands:report"), report_data(tree, add_anyway="1")).status_code == 302
    resp = client.post(reverse("demands:report"), report_data(tree, name="第三次", add_anyway="1"))
    assert resp.status_code == 429
    body = resp.content.decode()
    assert "提交太频繁" in body and "Too many submissions" in body and "第三次" in body
    assert Demand.objects.count() == 2
    # Another phone from the same address is not affected (a village shares one connection).
    other = client.post(reverse("demands:report"), report_data(tree, phone="13900000055", add_anyway="1"))
    assert other.status_code == 302


def test_report_is_rate_limited_per_ip_at_a_higher_rate(tree: Any, settings: Any) -> None:
    settings.WANGGE_REPORT_IP_RATE = "2/h"
    client = Client()
    for phone in ("13900000051", "13900000052"):
        assert client.post(reverse("demands:report"), report_data(tree, phone=phone, add_anyway="1")).status_code == 302
    resp = client.post(reverse("demands:report"), report_data(tree, phone="13900000053", add_anyway="1"))
    assert resp.status_code == 429 and Demand.objects.count() == 2
    other = Client(REMOTE_ADDR="10.0.0.9").post(reverse("demands:report"), report_data(tree, add_anyway="1"))
    assert other.status_code == 302


def test_form_errors_and_the_duplicate_offer_do_not_use_up_the_limit(tree: Any, settings: Any) -> None:
    settings.WANGGE_REPORT_RATE = "1/h"
    settings.WANGGE_REPORT_IP_RATE = "1/h"
    make_demand(grid=tree.grid, title="樟树枯死", description=report_data(tree)["description"])
    client = Client()
    for _ in range(3):
        assert client.post(reverse("demands:report"), report_data(tree, description="")).status_code == 400
    for _ in range(3):
        offered = client.post(reverse("demands:report"), report_data(tree))
        assert offered.status_code == 200 and 'data-testid="duplicates"' in offered.content.decode()
    assert client.post(reverse("demands:report"), report_data(tree, add_anyway="1")).status_code == 302
    assert client.post(reverse("demands:report"), report_data(tree, add_anyway="1")).status_code == 429


def test_report_needs_csrf(tree: Any) -> None:
    resp = Client(enforce_csrf_checks=True).post(reverse("demands:report"), report_data(tree))
    assert resp.status_code == 403
    assert Demand.objects.count() == 0


def test_parse_rate_and_forwarded_ip(rf: Any, settings: Any) -> None:
    assert ratelimit.parse_rate("10/h") == (10, 3600)
    assert ratelimit.parse_rate("5/10m") == (5, 600)
    request = rf.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8")
    settings.WANGGE_TRUST_X_FORWARDED_FOR = False
    assert ratelimit.client_ip(request) == "10.1.1.1"  # a client cannot pick its own bucket
    settings.WANGGE_TRUST_X_FORWARDED_FOR = True
    assert ratelimit.client_ip(request) == "5.6.7.8"


# --- the resident's tracking page -------------------------------------------------------------


def test_forged_token_is_not_found(tree: Any) -> None:
    demand = make_demand(grid=tree.grid)
    before = snapshot()
    forged = demand.tracking_token[:-2] + ("aa" if not demand.tracking_token.endswith("aa") else "bb")
    client = Client()
    assert client.get(reverse("demands:track", args=[forged])).status_code == 404
    resp = client.post(reverse("demands:track", args=[forged]), {"do": "comment", "comment-body": "你好"})
    assert resp.status_code == 404
    assert client.get(reverse("demands:track_photo", args=[forged, 1])).status_code == 404
    assert snapshot() == before


def test_public_timeline_shows_no_staff_names_or_phones(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    leader.phone = "13700007777"
    leader.save()
    demand = make_demand(grid=tree.grid)
    demand = services.demand_accept(demand=demand, actor=leader)
    services.demand_comment(demand=demand, body="内部：请联系张建国 13800001111", visibility="staff", actor=leader)
    services.demand_comment(demand=demand, body="已安排师傅，联系电话 13800001111", visibility="public", actor=leader)
    body = Client().get(reverse("demands:track", args=[demand.tracking_token])).content.decode()
    assert "已安排师傅" in body and "138****1111" in body
    assert "13800001111" not in body and "内部：" not in body
    for name in (leader.username, leader.display_name, "13700007777"):
        assert name not in body
    assert 'data-state="in_progress"' in body


def test_resident_adds_information_and_comments(tree: Any) -> None:
    demand = make_demand(grid=tree.grid)
    client = Client()
    url = reverse("demands:track", args=[demand.tracking_token])
    resp = client.post(url, {"do": "add_info", "info-text": "树下停着车", "info-photos": [photo()]})
    assert resp.status_code == 302
    resp = client.post(url, {"do": "comment", "comment-body": "请尽快处理"})
    assert resp.status_code == 302
    actions = list(demand.events.values_list("action", flat=True))
    assert actions[-2:] == ["add_info", "comment"]
    assert demand.photos.filter(by_resident=True).count() == 1
    body = client.get(url).content.decode()
    assert "树下停着车" in body and "请尽快处理" in body
    # The resident sees their photo through the token, never through a media URL.
    shot = demand.photos.order_by("-id").first()
    assert (
        client.get(reverse("demands:track_photo", args=[demand.tracking_token, shot.pk]))["Content-Type"]
        == "image/jpeg"
    )
    assert "/media/" not in body


def test_empty_add_info_is_refused(tree: Any) -> None:
    demand = make_demand(grid=tree.grid)
    before = snapshot()
    resp = Client().post(reverse("demands:track", args=[demand.tracking_token]), {"do": "add_info", "info-text": ""})
    assert resp.status_code == 400
    assert "请填写补充内容" in error_of(resp.content.decode(), "text")
    assert snapshot() == before


def test_photo_of_another_demand_is_not_served_by_my_token(tree: Any) -> None:
    mine = make_demand(grid=tree.grid)
    other = make_demand(grid=tree.grid, photos=[photo()])
    resp = Client().get(reverse("demands:track_photo", args=[mine.tracking_token, other.photos.get().pk]))
    assert resp.status_code == 404


def _resolved(tree: Any, personas: Any) -> Demand:
    leader = personas[Role.GRID_LEADER]
    demand = services.demand_accept(demand=make_demand(grid=tree.grid), actor=leader)
    return services.demand_resolve(demand=demand, actor=leader, result="已清理枯树")


def test_rating_unsatisfied_needs_a_reason(tree: Any, personas: Any) -> None:
    demand = _resolved(tree, personas)
    before = snapshot()
    url = reverse("demands:track", args=[demand.tracking_token])
    resp = Client().post(url, {"do": "rate", "rate-satisfaction": "unsatisfied", "rate-reason": ""})
    assert resp.status_code == 400
    assert "请说明原因" in error_of(resp.content.decode(), "reason")
    assert snapshot() == before
    assert Demand.objects.get(pk=demand.pk).state == State.RESOLVED


def test_rating_basic_closes_the_demand(tree: Any, personas: Any) -> None:
    demand = _resolved(tree, personas)
    url = reverse("demands:track", args=[demand.tracking_token])
    assert Client().post(url, {"do": "rate", "rate-satisfaction": "basic"}).status_code == 302
    demand.refresh_from_db()
    assert demand.satisfaction == "basic" and demand.state == State.CLOSED


def test_rating_keeps_the_first_answer_to_is_it_solved(tree: Any, personas: Any) -> None:
    """问题是否解决？ is optional, kept with the first rating only (解决率 counts the first answer)."""
    demand = _resolved(tree, personas)
    url = reverse("demands:track", args=[demand.tracking_token])
    assert 'name="rate-solved"' in Client().get(url).content.decode()
    form = {"do": "rate", "rate-satisfaction": "unsatisfied", "rate-reason": "还没修好", "rate-solved": "no"}
    assert Client().post(url, form).status_code == 302
    demand.refresh_from_db()
    assert demand.rated_solved is False and demand.state == State.REOPENED
    leader = personas[Role.GRID_LEADER]
    services.demand_accept(demand=demand, actor=leader)
    services.demand_resolve(demand=Demand.objects.get(pk=demand.pk), actor=leader, result="已修好")
    # The second rating says "solved": the first answer stays.
    assert Client().post(url, {"do": "rate", "rate-satisfaction": "satisfied", "rate-solved": "yes"}).status_code == 302
    demand.refresh_from_db()
    assert demand.rated_solved is False and demand.state == State.CLOSED
    # No answer is no answer; anything but yes or no is refused.
    other = _resolved(tree, personas)
    other_url = reverse("demands:track", args=[other.tracking_token])
    bad = {"do": "rate", "rate-satisfaction": "satisfied", "rate-solved": "maybe"}
    assert Client().post(other_url, bad).status_code == 400
    assert Client().post(other_url, {"do": "rate", "rate-satisfaction": "satisfied"}).status_code == 302
    assert Demand.objects.get(pk=other.pk).rated_solved is None


def test_rating_an_open_demand_changes_nothing(tree: Any) -> None:
    demand = make_demand(grid=tree.grid)
    url = reverse("demands:track", args=[demand.tracking_token])
    assert 'data-testid="rate"' not in Client().get(url).content.decode()
    before = snapshot()
    resp = Client().post(url, {"do": "rate", "rate-satisfaction": "satisfied"})
    assert resp.status_code in (400, 409)
    assert snapshot() == before
    assert Demand.objects.get(pk=demand.pk).satisfaction is None


# --- staff pages ------------------------------------------------------------------------------


def test_list_shows_my_queue_and_filters(tree: Any, personas: Any) -> None:
    mine = make_demand(grid=tree.grid, title="樟树枯死")
    theirs = make_demand(grid=tree.other_grid, title="北正路灯")
    client = login(personas[Role.GRID_LEADER])
    body = client.get(reverse("demands:list")).content.decode()
    assert mine.code in body and theirs.code not in body
    queue = body.split('data-testid="my-queue"')[1].split("</section>")[0]
    assert mine.code in queue
    assert PHONE not in body and "13900001234" not in body  # phones masked on lists
    filtered = client.get(reverse("demands:list"), {"state": "closed"}).content.decode()
    assert mine.code not in filtered.split('data-testid="demands"')[1]
    fragment = client.get(reverse("demands:list"), {"q": "樟树"}, HTTP_HX_REQUEST="true").content.decode()
    assert mine.code in fragment and "<html" not in fragment


def test_detail_offers_only_the_moves_the_user_may_make(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    leader_body = login(personas[Role.GRID_LEADER]).get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert 'data-testid="move-accept"' in leader_body and 'data-testid="move-escalate"' in leader_body
    assert "13900001234" in leader_body  # the holder may call the resident back
    village_body = login(personas[Role.VILLAGE]).get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert 'data-testid="move-accept"' not in village_body and 'data-testid="move-comment"' in village_body
    assert "13900001234" not in village_body and "139****1234" in village_body


def test_move_by_someone_who_does_not_hold_the_demand_is_forbidden(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    before = snapshot()
    client = login(personas[Role.VILLAGE])  # sees the demand, does not hold it
    resp = client.post(reverse("demands:move", args=[demand.pk, "accept"]), {"accept-version": demand.version})
    assert resp.status_code == 403
    body = resp.content.decode()
    assert "不是该诉求的当前承办人" in body and "do not hold this demand" in body
    resp = client.post(
        reverse("demands:move", args=[demand.pk, "reject"]), {"reject-version": demand.version, "reject-reason": "x"}
    )
    assert resp.status_code == 403
    assert snapshot() == before
    fresh = Demand.objects.get(pk=demand.pk)
    assert (fresh.state, fresh.version) == (State.SUBMITTED, demand.version)


def test_move_outside_scope_is_not_found(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    before = snapshot()
    resp = login(personas["outsider"]).post(reverse("demands:move", args=[demand.pk, "accept"]), {})
    assert resp.status_code == 404
    assert snapshot() == before


def test_stale_page_gets_the_conflict_message(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    demand = make_demand(grid=tree.grid)
    shown_version = demand.version
    services.demand_accept(demand=demand, actor=leader)  # someone else (another tab) moved it first
    before = snapshot()
    client = login(leader)
    resp = client.post(reverse("demands:move", args=[demand.pk, "accept"]), {"accept-version": shown_version})
    assert resp.status_code == 409
    body = resp.content.decode()
    assert 'data-testid="conflict"' in body
    # A move still allowed (escalate) but posted with the old version is a lost race, too.
    resp = client.post(
        reverse("demands:move", args=[demand.pk, "escalate"]),
        {"escalate-version": shown_version, "escalate-reason": "需要村里协调"},
    )
    assert resp.status_code == 409
    assert snapshot() == before


def test_escalate_without_reason_is_refused(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    before = snapshot()
    resp = login(personas[Role.GRID_LEADER]).post(
        reverse("demands:move", args=[demand.pk, "escalate"]),
        {"escalate-version": demand.version, "escalate-reason": ""},
    )
    assert resp.status_code == 400
    message = error_of(resp.content.decode(), "reason")
    assert "请填写上报原因" in message and "reason to escalate" in message
    assert snapshot() == before


def test_resolve_with_a_non_image_is_refused(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    demand = services.demand_accept(demand=make_demand(grid=tree.grid), actor=leader)
    before = snapshot()
    fake = SimpleUploadedFile("done.jpg", b"not an image at all" * 20, content_type="image/jpeg")
    resp = login(leader).post(
        reverse("demands:move", args=[demand.pk, "resolve"]),
        {"resolve-version": demand.version, "resolve-result": "已处理", "resolve-photos": [fake]},
    )
    assert resp.status_code == 400
    assert "不是图片" in error_of(resp.content.decode(), "photos")
    assert snapshot() == before
    assert Demand.objects.get(pk=demand.pk).state == State.IN_PROGRESS


def test_accept_then_escalate_through_the_pages(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    client = login(personas[Role.GRID_LEADER])
    resp = client.post(reverse("demands:move", args=[demand.pk, "accept"]), {"accept-version": demand.version})
    assert resp.status_code == 302 and resp["Location"] == reverse("demands:detail", args=[demand.pk])
    demand.refresh_from_db()
    assert demand.state == State.IN_PROGRESS
    resp = client.post(
        reverse("demands:move", args=[demand.pk, "escalate"]),
        {"escalate-version": demand.version, "escalate-reason": "需要村里协调"},
    )
    assert resp.status_code == 302
    demand.refresh_from_db()
    assert demand.state == State.ESCALATED and demand.holder_area == tree.branch


def at_village(tree: Any, personas: Any) -> Demand:
    """A demand escalated grid → branch → village, the way the story goes."""
    demand = make_demand(grid=tree.grid)
    demand = services.demand_escalate(demand=demand, actor=personas[Role.GRID_LEADER], reason="需要协调")
    demand = services.demand_escalate(demand=demand, actor=personas[Role.BRANCH], reason="需要村里协调")
    assert demand.holder_area == tree.village
    return demand


def test_dispatch_to_an_unknown_department_is_refused(tree: Any, personas: Any) -> None:
    village = personas[Role.VILLAGE]
    demand = at_village(tree, personas)
    before = snapshot()
    resp = login(village).post(
        reverse("demands:move", args=[demand.pk, "dispatch"]),
        {"dispatch-version": demand.version, "dispatch-department": "999999"},
    )
    assert resp.status_code == 400
    assert "没有这个部门" in error_of(resp.content.decode(), "department")
    assert snapshot() == before


def test_merge_into_an_unknown_code_is_refused(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    before = snapshot()
    resp = login(personas[Role.GRID_LEADER]).post(
        reverse("demands:move", args=[demand.pk, "merge"]),
        {"merge-version": demand.version, "merge-into": "LY-19990101-000001"},
    )
    assert resp.status_code == 400
    assert "找不到该编号" in error_of(resp.content.decode(), "into")
    assert snapshot() == before


def test_staff_files_what_a_resident_said(tree: Any, personas: Any) -> None:
    client = login(personas[Role.VILLAGE])
    data = {
        "channel": "wechat_group",
        "kind": "help",
        "urgency": "normal",
        "category": "0102",
        "description": "群里有人说金沙路的路灯三天不亮了",
        "reporter_name": "赵六",
        "reporter_phone": "13700001111",
        "area": tree.grid.pk,
        "idempotency_key": str(uuid.uuid4()),
    }
    resp = client.post(reverse("demands:new"), data)
    assert resp.status_code == 302, resp.content.decode()[:3000]
    demand = Demand.objects.get()
    assert demand.channel == "wechat_group" and demand.created_by == personas[Role.VILLAGE]
    assert demand.area == tree.grid and demand.title.startswith("群里有人说")
    assert resp["Location"] == reverse("demands:detail", args=[demand.pk])


@pytest.mark.parametrize(
    ("change", "field", "zh"),
    [
        ({"description": ""}, "description", "请填写诉求内容"),
        ({"category": "nope"}, "category", "未知的诉求类别"),
        ({"reporter_phone": "abc"}, "reporter_phone", "电话号码格式不正确"),
        ({"area": "OUTSIDE"}, "area", "不在您的范围内"),
    ],
)
def test_staff_bad_input_changes_nothing(tree: Any, personas: Any, change: dict[str, Any], field: str, zh: str) -> None:
    if change.get("area") == "OUTSIDE":
        change = {"area": tree.other_grid.pk}
    data = {
        "channel": "visit",
        "kind": "help",
        "urgency": "normal",
        "description": "走访时听到的问题",
        "area": tree.grid.pk,
    }
    data.update(change)
    before = snapshot()
    resp = login(personas[Role.VILLAGE]).post(reverse("demands:new"), data)
    assert resp.status_code == 400
    assert zh in error_of(resp.content.decode(), field)
    assert snapshot() == before


def test_auditor_cannot_file(personas: Any) -> None:
    assert login(personas[Role.AUDITOR]).get(reverse("demands:new")).status_code == 403


def test_photos_are_served_only_inside_scope(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid, photos=[photo()])
    url = reverse("demands:photo", args=[demand.photos.get().pk])
    ok = login(personas[Role.GRID_LEADER]).get(url)
    assert (
        ok.status_code == 200
        and ok["Content-Type"] == "image/jpeg"
        and b"".join(ok.streaming_content)[:2] == b"\xff\xd8"
    )
    assert login(personas["outsider"]).get(url).status_code == 404
    assert login(personas[Role.DEPARTMENT]).get(url).status_code == 404
    assert Client().get(url).status_code == 302


# --- every move form, used the way a holder uses it -------------------------------------------


def post_move(client: Client, demand: Demand, move: str, **fields: Any) -> Any:
    data = {f"{move}-version": demand.version, **{f"{move}-{k}": v for k, v in fields.items()}}
    return client.post(reverse("demands:move", args=[demand.pk, move]), data)


def test_village_dispatches_and_the_department_returns_it(tree: Any, personas: Any) -> None:
    demand = at_village(tree, personas)
    village = login(personas[Role.VILLAGE])
    form = village.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert tree.department.name in form and tree.other_department.name in form
    assert post_move(village, demand, "dispatch", department=tree.department.pk, note="请配合").status_code == 302
    demand.refresh_from_db()
    assert demand.holder_department == tree.department
    department = login(personas[Role.DEPARTMENT])
    body = department.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert 'data-testid="move-return_"' in body
    resp = post_move(department, demand, "return_", instructions="不属于本部门职责")
    assert resp.status_code == 302, resp.content.decode()[:2000]
    demand.refresh_from_db()
    assert demand.holder_department is None and demand.holder_area == tree.village


def test_village_returns_to_the_grid_with_instructions(tree: Any, personas: Any) -> None:
    demand = at_village(tree, personas)
    village = login(personas[Role.VILLAGE])
    body = village.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    options = body.split('name="return_-to_area"')[1].split("</select>")[0]
    assert f'<option value="{tree.grid.pk}"' in options and f'<option value="{tree.branch.pk}"' in options
    assert f'<option value="{tree.village.pk}"' not in options  # not to itself, only down
    resp = post_move(village, demand, "return_", to_area=tree.grid.pk, instructions="请网格长先上门核实")
    assert resp.status_code == 302
    demand.refresh_from_db()
    assert demand.holder_area == tree.grid and demand.state == State.IN_PROGRESS
    missing = post_move(village, at_village(tree, personas), "return_", to_area=tree.grid.pk, instructions="")
    assert missing.status_code == 400
    assert "请写明办理要求" in error_of(missing.content.decode(), "instructions")


def test_reassign_to_a_colleague_of_the_same_grid(tree: Any, personas: Any) -> None:
    from wangge.registry.testing import make_user

    colleague = make_user(role=Role.GRID_LEADER, areas=[tree.grid], username="grid_colleague")
    demand = make_demand(grid=tree.grid)
    client = login(personas[Role.GRID_LEADER])
    body = client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert colleague.display_name in body
    assert post_move(client, demand, "reassign", to_user=colleague.pk, note="你熟悉这户").status_code == 302
    demand.refresh_from_db()
    assert demand.holder_user == colleague


def test_reject_needs_a_reason_and_then_ends_it(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    client = login(personas[Role.GRID_LEADER])
    assert post_move(client, demand, "reject", reason="").status_code == 400
    assert Demand.objects.get(pk=demand.pk).state == State.SUBMITTED
    assert post_move(client, demand, "reject", reason="属于私人财产纠纷，已告知走司法途径").status_code == 302
    assert Demand.objects.get(pk=demand.pk).state == State.REJECTED


def test_merge_a_duplicate_by_its_code(tree: Any, personas: Any) -> None:
    first = make_demand(grid=tree.grid)
    duplicate = make_demand(grid=tree.grid)
    client = login(personas[Role.GRID_LEADER])
    assert post_move(client, duplicate, "merge", into=first.code.lower()).status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.state == State.MERGED and duplicate.merged_into == first
    other = make_demand(grid=tree.other_grid)  # outside the leader's scope: as unknown as a typo
    resp = post_move(client, make_demand(grid=tree.grid), "merge", into=other.code)
    assert resp.status_code == 400


def test_staff_comment_visibility(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    village = login(personas[Role.VILLAGE])  # may comment without holding the demand
    assert post_move(village, demand, "comment", body="内部备注：注意安全", visibility="staff").status_code == 302
    assert post_move(village, demand, "comment", body="已联系物业", visibility="public").status_code == 302
    staff_page = village.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert "内部备注：注意安全" in staff_page and "已联系物业" in staff_page
    public_page = Client().get(reverse("demands:track", args=[demand.tracking_token])).content.decode()
    assert "已联系物业" in public_page and "内部备注" not in public_page
    auditor = login(personas[Role.AUDITOR])
    assert 'data-testid="moves"' not in auditor.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert post_move(auditor, demand, "comment", body="x", visibility="staff").status_code == 403


def test_resolve_with_a_photo_through_the_page(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    demand = services.demand_accept(demand=make_demand(grid=tree.grid), actor=leader)
    client = login(leader)
    data = {"resolve-version": demand.version, "resolve-result": "已修好", "resolve-photos": [photo("done.jpg")]}
    assert client.post(reverse("demands:move", args=[demand.pk, "resolve"]), data).status_code == 302
    demand.refresh_from_db()
    assert demand.state == State.RESOLVED and demand.photos.filter(by_resident=False).count() == 1
    event = demand.events.get(action="resolve")
    assert event.attachments.count() == 1


def test_unknown_move_and_get_are_refused(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    client = login(personas[Role.GRID_LEADER])
    assert client.post(reverse("demands:move", args=[demand.pk, "teleport"]), {}).status_code == 404
    assert client.get(reverse("demands:move", args=[demand.pk, "accept"])).status_code == 405

"""What the public sees of a demand (demands.public): the coarse place, the redaction, the text rules, and
every public page checked with a demand full of personal data; consent at intake (page and API)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.demands import routing, services
from wangge.demands.models import Demand
from wangge.demands.public import coarse_address, proposed_text, public_distance, public_view, redact
from wangge.demands.testing import make_demand
from wangge.registry.testing import make_household

# (address, village) → what the public reads: the village or community and the road, never a number.
COARSE = [
    ("金沙北路128号3栋2单元201室", "金沙社区", "金沙社区金沙北路"),
    ("浏阳市集里街道金沙社区金沙北路128号", "金沙社区", "金沙社区金沙北路"),
    ("湖南省浏阳市淮川街道人民中路22号附近", "北正社区", "北正社区人民中路"),
    ("金沙社区3栋201", "金沙社区", "金沙社区"),
    ("关口街道长兴村石板组15号", "长兴村", "长兴村"),
    ("长兴村人民路三号", "长兴村", "长兴村人民路"),
    ("荷花街道新村路5号楼", "新村社区", "新村社区新村路"),
    ("金阳大道与人民路交叉口", "金沙社区", "金沙社区金阳大道"),
    ("集里街道 金沙北路 128", "金沙社区", "金沙社区金沙北路"),
    ("北正街１２号", "北正社区", "北正社区北正街"),
    ("解放西路188弄3号", "沿江社区", "沿江社区解放西路"),
    ("金沙社区金沙北路3-2-201", "金沙社区", "金沙社区金沙北路"),
    ("沿江路东段", "沿江社区", "沿江社区沿江路"),
    ("电话13911112222 金沙北路", "金沙社区", "金沙社区金沙北路"),
    ("身份证430181199001011234", "金沙社区", "金沙社区"),
    ("花园小区12栋", "", ""),
    ("", "金沙社区", "金沙社区"),
]


@pytest.mark.parametrize(("address", "village", "expected"), COARSE)
def test_coarse_address(address: str, village: str, expected: str) -> None:
    assert coarse_address(address, village=village) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我叫王五，电话13911112222，路灯不亮", "我叫**，电话**，路灯不亮"),
        ("身份证430181199001011234，住金沙北路128号3栋201室", "身份证**，住金沙北路**"),
        ("固话0731-83612345，王先生家门口积水", "固话**，某先生家门口积水"),
        ("联系人：李四 井盖丢了3天", "联系人：** 井盖丢了3天"),
        ("赵铁柱反映下水道堵了", "**反映下水道堵了"),  # the reporter's own name, given
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text, names=["赵铁柱"]) == expected


# A demand full of personal data: name, phone, ID number, house number, a point at the door.
PII = {
    "reporter_name": "赵铁柱",
    "reporter_phone": "13877776666",
    "address": "集里街道金沙社区金沙北路128号3栋2单元201室",
    "title": "赵铁柱家楼下井盖丢了",
    "description": "我叫赵铁柱，电话13877776666，身份证430181198802023456，金沙北路128号3栋楼下井盖丢了",
    "lat": 28.1523456,
    "lng": 113.6412345,
}
MARKERS = ("赵铁柱", "13877776666", "7776666", "430181198802023456", "128号", "3栋", "2单元", "201室", "28.1523")


def assert_no_pii(text: str) -> None:
    for marker in MARKERS:
        assert marker not in text, marker


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    for name in ("WANGGE_REPORT_RATE", "WANGGE_REPORT_IP_RATE", "WANGGE_FOLLOW_RATE", "WANGGE_TRACK_RATE"):
        setattr(settings, name, "100/h")
    cache.clear()
    yield
    cache.clear()
    routing.clear_cache()


@pytest.mark.django_db
def test_public_view_without_consent_is_the_neutral_sentence(tree: Any) -> None:
    demand = make_demand(grid=tree.grid, category="0101", **PII)
    seen = public_view(demand)
    assert seen.source == "neutral"
    assert seen.title == seen.description == "反映了一件「道路破损」类诉求"
    assert seen.place == "金沙社区金沙北路" and seen.address == "金沙北路，金沙社区，集里街道"
    assert seen.village == tree.village
    assert (seen.lat, seen.lng) == (28.152, 113.641)
    assert_no_pii(repr(seen))


@pytest.mark.django_db
def test_public_view_with_consent_is_the_reporters_words_redacted(tree: Any) -> None:
    household = make_household(grid=tree.grid, head_name="钱大户", address="金沙北路128号")
    demand = make_demand(
        grid=tree.grid,
        publish_consent=True,
        household=household,
        **PII | {"description": PII["description"] + "钱大户家也是"},
    )
    seen = public_view(demand)
    assert seen.source == "consent"
    assert "井盖丢了" in seen.description and "**家也是" in seen.description  # the household head's name too
    assert seen.title == "**家楼下井盖丢了"
    assert_no_pii(repr(seen))
    assert "钱大户" not in repr(seen)


@pytest.mark.django_db
def test_approved_text_wins_and_withholding_wins_over_consent(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid, category="0101", publish_consent=True, **PII)
    town = personas[Role.TOWN]
    services.demand_publish_approve(demand=demand, actor=town, text="金沙北路一处井盖丢失\n已通知城管")
    seen = public_view(Demand.objects.get(pk=demand.pk))
    assert seen.source == "approved" and seen.title == "金沙北路一处井盖丢失"
    assert seen.description == "金沙北路一处井盖丢失\n已通知城管"
    services.demand_publish_withdraw(demand=demand, actor=town)
    seen = public_view(Demand.objects.get(pk=demand.pk))
    assert seen.source == "neutral" and "井盖" not in seen.description


@pytest.mark.django_db
def test_a_demand_without_village_or_point_shows_its_town(tree: Any) -> None:
    demand = make_demand(area=tree.town, address="")
    seen = public_view(demand)
    assert seen.place == "集里街道" and seen.village is None and seen.lat is None


# --- public pages --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_follower_page_shows_the_public_view_and_no_other_residents_words(tree: Any) -> None:
    demand = make_demand(grid=tree.grid, category="0101", **PII)
    services.demand_add_info(demand=demand, token=demand.tracking_token, text="我是赵铁柱，门牌128号", photos=[])
    follower = services.demand_follow(demand=demand, phone="13700007777")
    body = Client().get(reverse("demands:follow_track", args=[follower.token])).content.decode()
    assert_no_pii(body)
    assert "井盖" not in body  # no consent: not even the words
    assert "反映了一件「道路破损」类诉求" in body and "金沙社区金沙北路" in body
    # The reporter's own page still shows them everything they wrote.
    own = Client().get(reverse("demands:track", args=[demand.tracking_token])).content.decode()
    assert "井盖丢了" in own and "我是赵铁柱" in own


@pytest.mark.django_db
def test_the_duplicate_offer_on_the_report_page_shows_the_public_title_only(tree: Any) -> None:
    words = "金沙北路128号3栋楼下井盖丢了，我叫赵铁柱，电话13877776666，晚上很危险"
    first = make_demand(grid=tree.grid, **(PII | {"description": words, "title": words[:30]}))
    data = {
        "phone": "13912345678",
        "description": "金沙北路3栋楼下的井盖丢了，晚上很危险，请尽快处理",
        "grid": tree.sibling_grid.code,
        "kind": "help",
        "idempotency_key": str(uuid.uuid4()),
    }
    body = Client().post(reverse("demands:report"), data).content.decode()
    if first.code not in body:
        pytest.fail("the same problem nearby was not offered; the check below would prove nothing")
    offered = body.split('data-testid="duplicates"')[1].split("</article>")[0]
    assert_no_pii(offered)
    assert "反映了一件" in offered


# --- consent at intake ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("ticked", [False, True])
def test_the_report_page_asks_for_consent_unticked(tree: Any, ticked: bool) -> None:
    page = Client().get(reverse("demands:report")).content.decode()
    box = page.split('name="publish_consent"')[1].split(">")[0]
    assert "checked" not in box and "同意公开我的诉求内容（不含姓名、电话和门牌号）" in page
    data = {
        "phone": "13912345678",
        "description": "小区门口的樟树枯死了，树枝随时会掉下来",
        "grid": tree.grid.code,
        "kind": "help",
        "category": "0401",
        "idempotency_key": str(uuid.uuid4()),
        "add_anyway": "1",
    }
    if ticked:
        data["publish_consent"] = "on"
    resp = Client().post(reverse("demands:report"), data)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert Demand.objects.get().publish_consent is ticked


@pytest.mark.django_db
def test_the_api_takes_consent_and_defaults_to_none(tree: Any, personas: Any) -> None:
    _token, raw = api_token_create(user=personas[Role.GRID_LEADER], name="test")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def post(**extra: Any) -> Any:
        body = {"description": "楼道灯坏了", "title": "楼道灯", "grid": tree.grid.code, "reporter_phone": "13900001234"}
        return client.post("/api/v1/demands", json.dumps(body | extra), content_type="application/json")

    plain, agreed = post(), post(publish_consent=True)
    assert plain.status_code == agreed.status_code == 201
    assert plain.json()["publish_consent"] is False and agreed.json()["publish_consent"] is True
    assert Demand.objects.get(code=agreed.json()["code"]).publish_consent is True
    assert Demand.objects.get(code=plain.json()["code"]).publish_consent is False


@pytest.mark.django_db
def test_other_channels_default_to_no_consent(tree: Any) -> None:
    for channel in ("wechat", "hotline"):
        assert make_demand(grid=tree.grid, channel=channel).publish_consent is False


@pytest.mark.django_db
def test_proposed_text_is_what_a_moderator_starts_from(tree: Any) -> None:
    demand = make_demand(grid=tree.grid, **PII)
    proposed = proposed_text(demand)
    assert_no_pii(proposed)
    assert proposed.endswith("楼下井盖丢了")


def test_a_public_distance_is_as_coarse_as_the_public_point() -> None:
    assert public_distance(None) is None
    assert [public_distance(m) for m in (0, 40, 149, 150, 449, 450, 1234)] == [100, 100, 100, 200, 400, 500, 1200]

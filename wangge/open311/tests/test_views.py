"""Open311 GeoReport v2 through the Django test client: formats, errors, scope, filters, the life of a request."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.test import Client

from wangge.accounts.models import Role
from wangge.demands import selectors as demand_selectors
from wangge.demands.models import Demand
from wangge.demands.services import demand_accept
from wangge.demands.testing import make_demand
from wangge.open311.models import Open311Submission
from wangge.open311.testing import make_api_key
from wangge.open311.tests.conftest import parse_xml, validate

BASE = "/open311/v2"
pytestmark = pytest.mark.django_db


def post(client: Client, fmt: str = "json", **data: Any) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", data)


def errors_of(resp: Any) -> list[dict[str, Any]]:
    body = resp.json()
    assert isinstance(body, list) and body, body
    for row in body:
        assert set(row) == {"code", "description"}
    return body


def test_discovery_in_both_formats(client: Client) -> None:
    resp = client.get(f"{BASE}/discovery.json")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/json"
    data = resp.json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(data)
    (endpoint,) = data["endpoints"]
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    xml = client.get(f"{BASE}/discovery.xml")
    assert xml["Content-Type"] == "text/xml"
    root = parse_xml(xml.content)
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]
    assert "Open311" in client.get(f"{BASE}/discovery.html").content.decode()


def test_services_match_the_catalogue_and_the_schema(client: Client) -> None:
    from wangge.demands.models import Category

    data = client.get(f"{BASE}/services.json").json()
    validate(data, "services.json")
    filed_under = Category.objects.filter(is_active=True, parent__isnull=False).count()
    assert len(data) == filed_under > 10
    road = next(s for s in data if s["service_code"] == "0101")
    assert road["group"] == "道路与照明" and road["metadata"] is True and road["type"] == "realtime"
    root = parse_xml(client.get(f"{BASE}/services.xml").content)
    assert root.tag == "services" and len(root.findall("service")) == len(data)
    assert root.find("service/metadata").text == "true"


def test_service_definition_with_urgency_list(client: Client) -> None:
    data = client.get(f"{BASE}/services/0101.json").json()
    validate(data, "service-definition.json")
    assert data["service_code"] == "0101"
    urgency = next(a for a in data["attributes"] if a["code"] == "urgency")
    assert urgency["datatype"] == "singlevaluelist"
    assert [v["key"] for v in urgency["values"]] == ["normal", "urgent"]
    orders = [a["order"] for a in data["attributes"]]
    assert orders == sorted(set(orders)) and orders[0] == 1
    info = next(a for a in data["attributes"] if not a["variable"])
    assert "受理时限" in info["description"]
    root = parse_xml(client.get(f"{BASE}/services/0101.xml").content)
    assert root.tag == "service_definition"
    assert [v.text for v in root.findall("attributes/attribute/values/value/key")][:2] == ["normal", "urgent"]
    missing = client.get(f"{BASE}/services/9999.json")
    assert missing.status_code == 404 and errors_of(missing)[0]["code"] == 404
    xml_missing = client.get(f"{BASE}/services/9999.xml")
    assert xml_missing.status_code == 404 and parse_xml(xml_missing.content).find("error/code").text == "404"


def test_bad_extension_and_unknown_jurisdiction(client: Client, settings: Any) -> None:
    settings.OPEN311_JURISDICTION_ID = "liuyang.gov.cn"
    bad = client.get(f"{BASE}/services.csv")
    assert bad.status_code == 404 and b"Bad extension" in bad.content
    assert client.get(f"{BASE}/services.json", {"jurisdiction_id": "liuyang.gov.cn"}).status_code == 200
    assert client.get(f"{BASE}/services.json", {"jurisdiction_id": ""}).status_code == 200  # empty = absent
    nowhere = client.get(f"{BASE}/services.json", {"jurisdiction_id": "elsewhere.gov"})
    assert nowhere.status_code == 404 and "jurisdiction" in errors_of(nowhere)[0]["description"]


def test_post_files_a_demand_into_the_grid_leaders_queue(
    client: Client, tree: Any, personas: Any, town_key: Any
) -> None:
    key, raw = town_key
    resp = post(
        client,
        api_key=raw,
        service_code="0101",
        description="集里路口路面塌陷，请尽快处理",
        address_id=tree.grid.code,
        first_name="三",
        last_name="张",
        phone="13912345678",
        email="zhang@example.com",
        media_url="https://img.example.com/a.jpg",
        **{"attribute[urgency]": "urgent", "attribute[fixmystreet_id]": "77"},
    )
    assert resp.status_code == 200, resp.content
    (row,) = resp.json()
    assert set(row) == {"service_request_id", "service_notice"}
    demand = Demand.objects.get(code=row["service_request_id"])
    assert demand.channel == "api" and demand.urgency == "urgent" and demand.area == tree.grid
    assert demand.reporter_name == "张三" and demand.created_by == key.account
    assert demand.category.code == "0101"
    submission = demand.open311_submission
    assert submission.api_key == key and submission.media_urls == ["https://img.example.com/a.jpg"]
    assert submission.email == "zhang@example.com"
    assert demand in demand_selectors.my_queue(user=personas[Role.GRID_LEADER])
    # The same FixMyStreet report posted again gives the same id, not a second demand.
    again = post(
        client,
        api_key=raw,
        service_code="0101",
        description="x",
        address_id=tree.grid.code,
        **{"attribute[fixmystreet_id]": "77"},
    )
    assert again.json()[0]["service_request_id"] == demand.code
    assert Demand.objects.count() == 1


def test_post_in_xml_and_by_address(client: Client, tree: Any, town_key: Any) -> None:
    _key, raw = town_key
    resp = post(
        client, "xml", api_key=raw, service_code="0301", description="垃圾没人收", address_string="集里街道金沙社区3栋"
    )
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    code = root.find("request/service_request_id").text
    assert root.find("request/token") is None
    assert Demand.objects.get(code=code).area == tree.village


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({"service_code": "0101", "address_id": "GRID"}, 403, "api_key"),  # no key
        ({"api_key": "wgk_forged", "service_code": "0101", "address_id": "GRID"}, 403, "api_key"),
        ({"api_key": "KEY", "address_id": "GRID"}, 400, "service_code"),
        ({"api_key": "KEY", "service_code": "01", "address_id": "GRID"}, 404, "service_code"),  # a group, not a service
        ({"api_key": "KEY", "service_code": "0101"}, 400, "lat"),  # no location
        ({"api_key": "KEY", "service_code": "0101", "lat": "28.1"}, 400, "lat"),  # lat without long
        ({"api_key": "KEY", "service_code": "0101", "address_id": "000"}, 400, "address_id"),
        ({"api_key": "KEY", "service_code": "0101", "address_id": "GRID", "media_url": "ftp://x/y"}, 400, "media_url"),
        ({"api_key": "KEY", "service_code": "0101", "address_id": "GRID", "email": "not-mail"}, 400, "email"),
        ({"api_key": "KEY", "service_code": "0101", "address_id": "GRID", "attribute[urgency]": "now"}, 400, "urgency"),
        ({"api_key": "KEY", "service_code": "0101", "address_id": "GRID", "phone": "12"}, 400, "reporter_phone"),
        (
            {"api_key": "KEY", "service_code": "0101", "address_id": "GRID", "description": "长" * 4001},
            400,
            "description",
        ),
        ({"api_key": "KEY", "service_code": "0101", "address_id": "OTHER_GRID"}, 403, "area"),  # outside the key
        (
            {"api_key": "KEY", "service_code": "0101", "address_id": "GRID", "jurisdiction_id": "x.gov"},
            404,
            "jurisdiction",
        ),
    ],
)
def test_post_errors(client: Client, tree: Any, town_key: Any, data: dict[str, str], status: int, field: str) -> None:
    _key, raw = town_key
    swap = {"KEY": raw, "GRID": tree.grid.code, "OTHER_GRID": tree.other_grid.code}
    data = {k: swap.get(v, v) for k, v in data.items()}
    resp = post(client, **data)
    assert resp.status_code == status, resp.content
    (error,) = errors_of(resp)
    assert error["code"] == status and field in error["description"]
    assert Demand.objects.count() == 0


def test_key_without_open311_permission_is_refused(client: Client, tree: Any) -> None:
    from wangge.open311.testing import make_api_key

    _key, raw = make_api_key(areas=[tree.town], permissions=["demands:read"])
    resp = post(client, api_key=raw, service_code="0101", address_id=tree.grid.code, description="x")
    assert resp.status_code == 403 and "open311" in errors_of(resp)[0]["description"].lower()


def test_anonymous_post_when_allowed_is_rate_limited_per_ip(client: Client, tree: Any, settings: Any) -> None:
    settings.OPEN311_ANONYMOUS_POST = True
    settings.OPEN311_ANONYMOUS_RATE = "2/h"
    for _ in range(2):
        assert post(client, service_code="0101", address_id=tree.grid.code, description="路灯坏").status_code == 200
    third = post(client, service_code="0101", address_id=tree.grid.code, description="路灯坏")
    assert third.status_code == 429 and third["Retry-After"] == "60"
    assert Demand.objects.filter(created_by__isnull=True).count() == 2


def test_key_rate_limit(client: Client, tree: Any) -> None:
    from wangge.open311.testing import make_api_key

    _key, raw = make_api_key(areas=[tree.town], rate_limit_per_minute=2)
    # One minute's window: the three requests must not straddle its end on a slow machine.
    with time_machine.travel(dt.datetime(2026, 4, 15, 9, 30, 10, tzinfo=dt.UTC), tick=False):
        codes = [client.get(f"{BASE}/requests.json", {"api_key": raw}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def _world_demands(tree: Any) -> tuple[Demand, Demand]:
    inside = make_demand(
        grid=tree.grid,
        title="内路灯",
        description="路灯不亮，联系我13911112222，身份证430181199001011234",
        address="金沙社区3栋201",
        reporter_name="王五",
        reporter_phone="13911112222",
    )
    outside = make_demand(grid=tree.other_grid, title="外路灯", description="北正路灯不亮", category="0101")
    return inside, outside


def test_public_read_shows_no_personal_data(client: Client, tree: Any) -> None:
    inside, outside = _world_demands(tree)
    hidden = make_demand(grid=tree.grid, kind="report", description="举报：某处违建")
    resp = client.get(f"{BASE}/requests.json")
    data = resp.json()
    validate(data, "requests.json")
    codes = {r["service_request_id"] for r in data}
    assert codes == {inside.code, outside.code}  # reports (举报) are never published
    assert hidden.code not in codes
    text = json.dumps(data, ensure_ascii=False)
    for personal in ("13911112222", "2222", "王五", "430181199001011234", "3栋201", inside.tracking_token, "路灯不亮"):
        assert personal not in text  # no consent, nothing approved: not even the words
    mine = next(r for r in data if r["service_request_id"] == inside.code)
    assert mine["description"] == "反映了一件诉求（尚未分类） / A demand (not yet classified)"
    assert mine["status"] == "open" and mine["address"] == "金沙社区，集里街道"  # the village, not the grid
    assert mine["address_id"] == tree.village.code
    assert mine["agency_responsible"] == "金沙1号微网格"
    theirs = next(r for r in data if r["service_request_id"] == outside.code)
    assert theirs["description"].startswith("反映了一件「") and "」类诉求 / A demand about “" in theirs["description"]
    root = parse_xml(client.get(f"{BASE}/requests.xml").content)
    assert root.tag == "service_requests" and len(root.findall("request")) == 2


PII = {
    "reporter_name": "赵铁柱",
    "reporter_phone": "13877776666",
    "address": "集里街道金沙社区金沙北路128号3栋2单元201室",
    "description": "我叫赵铁柱，电话13877776666，身份证430181198802023456，金沙北路128号3栋楼下井盖丢了",
    "lat": 28.1523456,
    "lng": 113.6412345,
}
PII_MARKERS = (
    "赵铁柱",
    "13877776666",
    "6666",
    "430181198802023456",
    "128号",
    "3栋",
    "2单元",
    "201室",
    "28.1523",
    "113.6412",
)


def _feed_text(client: Client, demand: Demand) -> str:
    parts = [
        client.get(f"{BASE}/requests.json").content.decode(),
        client.get(f"{BASE}/requests.xml").content.decode(),
        client.get(f"{BASE}/requests/{demand.code}.json").content.decode(),
        client.get(f"{BASE}/requests/{demand.code}.xml").content.decode(),
        client.get(f"{BASE}/servicerequestupdates.json").content.decode(),
    ]
    return json.dumps([json.loads(parts[0]), json.loads(parts[2])], ensure_ascii=False) + "".join(parts)


@pytest.mark.parametrize("consent", [False, True])
def test_the_feed_never_carries_a_name_phone_or_house_number(
    client: Client, tree: Any, personas: Any, consent: bool
) -> None:
    demand = make_demand(grid=tree.grid, category="0101", publish_consent=consent, **PII)
    text = _feed_text(client, demand)
    for marker in PII_MARKERS:
        assert marker not in text, marker
    (row,) = client.get(f"{BASE}/requests/{demand.code}.json").json()
    assert row["address"] == "金沙北路，金沙社区，集里街道"
    assert (row["lat"], row["long"]) == (28.152, 113.641)
    if consent:  # the reporter's words, redacted
        assert "井盖丢了" in row["description"] and "我叫**" in row["description"]
    else:
        assert "井盖" not in row["description"] and row["description"].startswith("反映了一件「")


def test_approved_text_is_what_the_feed_shows(client: Client, tree: Any, personas: Any) -> None:
    from wangge.demands.services import demand_publish_approve, demand_publish_withdraw

    demand = make_demand(grid=tree.grid, category="0101", publish_consent=True, **PII)
    demand_publish_approve(demand=demand, actor=personas[Role.TOWN], text="金沙北路一处井盖丢失，已安排更换")
    (row,) = client.get(f"{BASE}/requests/{demand.code}.json").json()
    assert row["description"] == "金沙北路一处井盖丢失，已安排更换"
    one = parse_xml(client.get(f"{BASE}/requests/{demand.code}.xml").content)
    assert one.find("request/description").text == "金沙北路一处井盖丢失，已安排更换"
    # Withheld: not even the consented words.
    demand_publish_withdraw(demand=demand, actor=personas[Role.TOWN])
    (row,) = client.get(f"{BASE}/requests/{demand.code}.json").json()
    assert "井盖" not in row["description"] and row["description"].startswith("反映了一件「")
    assert "井盖" not in _feed_text(client, demand)
    # A keyed reader of the town (staff scope) still reads the demand as filed.
    _key, raw = make_api_key(areas=[tree.town])
    keyed = client.get(f"{BASE}/requests/{demand.code}.json", {"api_key": raw}).json()
    assert "13877776666" in keyed[0]["description"]


def test_public_read_can_be_turned_off(client: Client, tree: Any, settings: Any, town_key: Any) -> None:
    settings.OPEN311_PUBLIC_READ = False
    inside, _outside = _world_demands(tree)
    resp = client.get(f"{BASE}/requests.json")
    assert resp.status_code == 403 and "api_key" in errors_of(resp)[0]["description"]
    assert client.get(f"{BASE}/requests/{inside.code}.json").status_code == 403
    _key, raw = town_key
    keyed = client.get(f"{BASE}/requests.json", {"api_key": raw})
    assert [r["service_request_id"] for r in keyed.json()] == [inside.code]
    assert keyed.json()[0]["address"] == "金沙社区3栋201"  # a key of the town reads the full address


def test_a_key_reads_only_inside_its_scope(client: Client, tree: Any, outsider_key: Any) -> None:
    inside, outside = _world_demands(tree)
    _key, raw = outsider_key
    listed = client.get(f"{BASE}/requests.json", {"api_key": raw}).json()
    assert [r["service_request_id"] for r in listed] == [outside.code]
    assert client.get(f"{BASE}/requests/{inside.code}.json", {"api_key": raw}).status_code == 404
    by_id = client.get(f"{BASE}/requests.json", {"api_key": raw, "service_request_id": f"{inside.code},{outside.code}"})
    assert [r["service_request_id"] for r in by_id.json()] == [outside.code]
    updates = client.get(f"{BASE}/servicerequestupdates.json", {"api_key": raw}).json()
    assert {u["service_request_id"] for u in updates} == {outside.code}


def test_filters_and_window(client: Client, tree: Any) -> None:
    with time_machine.travel(dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC), tick=False):
        old = make_demand(grid=tree.grid, category="0101")
    with time_machine.travel(dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC), tick=False):
        road = make_demand(grid=tree.grid, category="0101")
        water = make_demand(grid=tree.grid, category="0201")
        closed = make_demand(grid=tree.grid, category="0201")
        Demand.objects.filter(pk=closed.pk).update(state="closed")
    with time_machine.travel(dt.datetime(2026, 5, 2, 9, tzinfo=dt.UTC), tick=False):

        def codes(**params: str) -> set[str]:
            resp = client.get(f"{BASE}/requests.json", params)
            assert resp.status_code == 200, resp.content
            validate(resp.json(), "requests.json")
            return {r["service_request_id"] for r in resp.json()}

        assert codes() == {road.code, water.code, closed.code}  # the last 90 days by default
        assert codes(service_code="0101") == {road.code}
        assert codes(service_code="0101,0201", status="open") == {road.code, water.code}
        assert codes(status="closed") == {closed.code}
        assert codes(start_date="2026-01-01T00:00:00Z", end_date="2026-03-01T00:00:00+08:00") == {old.code}
        assert codes(service_request_id=old.code, status="closed") == {old.code}  # ids override the rest
        too_long = client.get(
            f"{BASE}/requests.json", {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"}
        )
        assert too_long.status_code == 400 and "90" in errors_of(too_long)[0]["description"]
        assert client.get(f"{BASE}/requests.json", {"start_date": "yesterday"}).status_code == 400
        assert client.get(f"{BASE}/requests.json", {"status": "pending"}).status_code == 400


def test_acceptance_shows_in_the_request_and_its_updates(
    client: Client, tree: Any, personas: Any, town_key: Any
) -> None:
    _key, raw = town_key
    code = post(client, api_key=raw, service_code="0101", description="井盖丢失", address_id=tree.grid.code).json()[0][
        "service_request_id"
    ]
    before = client.get(f"{BASE}/requests/{code}.json").json()
    assert isinstance(before, list) and len(before) == 1
    assert before[0]["status"] == "open" and "待受理" in before[0]["status_notes"]
    demand_accept(demand=Demand.objects.get(code=code), actor=personas[Role.GRID_LEADER])
    after = client.get(f"{BASE}/requests/{code}.json").json()
    validate(after, "requests.json")
    notes = after[0]["status_notes"]
    assert after[0]["status"] == "open" and "已受理" in notes and "accepted" in notes and "in_progress" in notes
    updates = client.get(f"{BASE}/servicerequestupdates.json").json()
    assert [(u["service_request_id"], u["status"]) for u in updates] == [(code, "open"), (code, "in_progress")]
    assert len({u["update_id"] for u in updates}) == 2
    root = parse_xml(client.get(f"{BASE}/servicerequestupdates.xml").content)
    assert root.tag == "service_request_updates" and len(root.findall("request_update")) == 2
    one = parse_xml(client.get(f"{BASE}/requests/{code}.xml").content)
    assert one.find("request/status").text == "open" and "已受理" in one.find("request/status_notes").text
    assert client.get(f"{BASE}/requests/LY-00000000-000000.json").status_code == 404


def test_batch_mode_answers_a_token(client: Client, tree: Any, town_key: Any, settings: Any) -> None:
    settings.OPEN311_SERVICE_TYPE = "batch"
    _key, raw = town_key
    assert client.get(f"{BASE}/services.json").json()[0]["type"] == "batch"
    (row,) = post(client, api_key=raw, service_code="0101", description="x", address_id=tree.grid.code).json()
    assert set(row) == {"token", "service_notice"}
    submission = Open311Submission.objects.get(token=row["token"])
    assert row["token"] != submission.demand.tracking_token
    found = client.get(f"{BASE}/tokens/{row['token']}.json").json()
    assert found == [{"service_request_id": submission.demand.code, "token": row["token"]}]
    assert client.get(f"{BASE}/tokens/nope.json").status_code == 404


def test_xml_stays_well_formed_whatever_residents_type(client: Client, tree: Any) -> None:
    demand = make_demand(grid=tree.grid, description='路灯 <坏了> & 不亮\x0b\x01 "急"', publish_consent=True)
    root = parse_xml(client.get(f"{BASE}/requests/{demand.code}.xml").content)
    assert root.find("request/description").text == '路灯 <坏了> & 不亮 "急"'
    assert client.get(f"{BASE}/requests/{demand.code}.json").json()[0]["description"].startswith("路灯 <坏了> &")

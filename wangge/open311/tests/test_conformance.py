"""Conformance: the third-party `georeport` client (PyPI, unmodified) against a running server.

georeport 0.3.1 reads (services, definitions, requests) but has no method to POST, so the POST is
made the way the spec describes it: form-urlencoded, with api_key and jurisdiction_id in the body.
Every JSON document is checked against the published Open311 schemas copied under tests/schemas.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from georeport import GeoReport

from wangge.accounts.models import Role
from wangge.demands import selectors as demand_selectors
from wangge.demands.models import Demand
from wangge.demands.services import demand_accept
from wangge.open311.testing import make_api_key
from wangge.open311.tests.conftest import validate

JURISDICTION = "liuyang.gov.cn"


@pytest.fixture
def endpoint(live_server: Any, settings: Any, monkeypatch: Any) -> str:
    settings.OPEN311_JURISDICTION_ID = JURISDICTION
    # The client must reach the live server directly, whatever proxy the machine is configured with.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return live_server.url + "/open311/v2"


def test_georeport_client_end_to_end(endpoint: str, tree: Any, personas: Any) -> None:
    _key, raw = make_api_key(name="12345热线", areas=[tree.city])
    json_client = GeoReport(endpoint, jurisdiction=JURISDICTION, output_format="json")
    xml_client = GeoReport(endpoint, jurisdiction=JURISDICTION, output_format="xml")

    services = json_client.get_service_list()
    validate(services, "services.json")
    codes = [s["service_code"] for s in services]
    assert "0101" in codes
    xml_services = xml_client.get_service_list()
    assert [s["service_code"] for s in xml_services] == codes

    definition = json_client.get_service_definition("0101")
    validate(definition, "service-definition.json")
    assert any(a["code"] == "urgency" and a["datatype"] == "singlevaluelist" for a in definition["attributes"])
    assert xml_client.get_service_definition("0101")["service_code"] == "0101"

    posted = requests.post(
        endpoint + "/requests.json",
        data={
            "api_key": raw,
            "jurisdiction_id": JURISDICTION,
            "service_code": "0101",
            "address_id": tree.grid.code,
            "description": "金沙路口路灯不亮三天了",
            "first_name": "Li",
            "last_name": "Si",
            "media_url": "https://img.example.com/lamp.jpg",
            "attribute[urgency]": "urgent",
        },
        timeout=30,
    )
    assert posted.status_code == 200, posted.text
    assert posted.headers["Content-Type"] == "application/json"
    (row,) = posted.json()
    code = row["service_request_id"]

    listed = json_client.get_service_requests()
    validate(listed, "requests.json")
    assert code in [r["service_request_id"] for r in listed]
    by_id = json_client.get_service_requests(service_request_id=code, status="open")
    validate(by_id, "requests.json")
    assert [r["service_request_id"] for r in by_id] == [code]
    assert json_client.get_service_requests(service_code="0201") == []

    one = json_client.get_service_request(code)
    validate([one], "requests.json")
    assert one["status"] == "open" and one["media_url"] == "https://img.example.com/lamp.jpg"
    assert "Li" not in str(one) and "Si " not in str(one)

    # It waits in the grid leader's workbench; accepting it shows through Open311.
    demand = Demand.objects.get(code=code)
    assert demand in demand_selectors.my_queue(user=personas[Role.GRID_LEADER])
    demand_accept(demand=demand, actor=personas[Role.GRID_LEADER])
    accepted = json_client.get_service_request(code)
    validate([accepted], "requests.json")
    assert accepted["status"] == "open" and "已受理" in accepted["status_notes"]
    from_xml = xml_client.get_service_request(code)
    assert from_xml["service_request_id"] == code and "accepted" in from_xml["status_notes"]

    updates = requests.get(
        endpoint + "/servicerequestupdates.json", params={"jurisdiction_id": JURISDICTION}, timeout=30
    )
    assert [u["status"] for u in updates.json()] == ["open", "in_progress"]

"""Reach, end to end: a resident reports through the WeChat official account, the grid leader is pushed a
WeCom text card and accepts from its link on a phone, the resident gets a template message on resolve and
rates through the link; a hotline demand is closed by a recorded call back (回访) that moves 满意率.

WeChat and WeCom are the local gateway of wangge/notifications/testing.py speaking their wire formats;
the callback is signed the way WeChat signs it. Every link is built on WANGGE_PUBLIC_BASE_URL, here the
live server, so the links the messages carry are the ones the browser opens.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import xmltodict
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.accounts.services import user_import_wecom_ids
from wangge.dashboards import selectors as dashboard_selectors
from wangge.dashboards import services as dashboard_services
from wangge.demands import routing, services
from wangge.demands.models import Channel, Demand, State
from wangge.demands.testing import make_demand
from wangge.notifications.services import outbox_pass
from wangge.notifications.testing import BACKENDS, Gateway, local_gateway
from wangge.registry.models import Area

pytestmark = pytest.mark.browser

TOKEN = "story-wechat-token"
OPENID = "oRESIDENT0001"  # a follower of the gateway's official account


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def gateway(settings: Any, tree: Any, live_server: Any) -> Iterator[Gateway]:
    for area, shape in (
        (tree.city, square(113.0, 27.9, 114.0, 28.5)),
        (tree.town, square(113.0, 27.9, 113.6, 28.3)),
        (tree.village, square(113.0, 27.95, 113.6, 28.25)),
        (tree.grid, square(113.0, 28.0, 113.5, 28.2)),
    ):
        Area.objects.filter(pk=area.pk).update(boundary=shape)
    routing.clear_cache()
    with local_gateway() as gw:
        settings.WANGGE_PUBLIC_BASE_URL = live_server.url
        settings.WANGGE_WECHAT_TOKEN = TOKEN
        settings.WANGGE_WECHAT_AES_KEY = ""
        settings.WANGGE_WECHAT_APP_ID = gw.wechat_app_id
        settings.WANGGE_WECHAT_APP_SECRET = gw.wechat_secret
        settings.WANGGE_WECHAT_TEMPLATE_STATE = "TPL-STATE-1"
        settings.NOTIFY_WECHAT_BASE_URL = gw.url
        settings.NOTIFY_WECOM_BASE_URL = gw.url
        settings.NOTIFY_WECOM_CORP_ID = gw.wecom_corp_id
        settings.NOTIFY_WECOM_SECRET = gw.wecom_secret
        settings.NOTIFY_WECOM_AGENT_ID = "1000002"
        settings.NOTIFY_TIMEOUT = 2
        settings.NOTIFY_BACKENDS = {
            **settings.NOTIFY_BACKENDS,
            "wecom": BACKENDS + "WeComBackend",
            "wechat_mp": BACKENDS + "wechat_mp.WeChatOfficialBackend",
        }
        cache.clear()
        yield gw
        cache.clear()
    routing.clear_cache()


def wechat_says(client: Client, msg_type: str, msg_id: str, **fields: Any) -> str:
    """What the resident's phone shows after WeChat forwards one message to our callback."""
    timestamp, nonce = "1765000000", "n0nce"
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    inner = "".join(
        f"<{k}><![CDATA[{v}]]></{k}>" if isinstance(v, str) else f"<{k}>{v}</{k}>" for k, v in fields.items()
    )
    body = (
        f"<xml><ToUserName><![CDATA[gh_county]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{inner}"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )
    query = urllib.parse.urlencode({"signature": signature, "timestamp": timestamp, "nonce": nonce})
    response = client.post(f"{reverse('wechat:callback')}?{query}", body, content_type="text/xml")
    assert response.status_code == 200, response.content
    return str(xmltodict.parse(response.content)["xml"]["Content"])


def test_wechat_report_wecom_card_template_message_and_a_call_back(
    make_page: Any, live_server: Any, tree: Any, personas: Any, gateway: Gateway
) -> None:
    leader = personas[Role.GRID_LEADER]
    user_import_wecom_ids(rows=[["username", "wecom_userid"], [leader.username, "zhangjianguo"]])

    # 1. The resident writes to the official account: the problem, then where it is.
    client = Client()
    asked = wechat_says(client, "text", "70001", Content="金沙路12号门口的樟树枯死了，随时会倒")
    assert "位置" in asked and not Demand.objects.exists()
    reply = wechat_says(client, "location", "70002", Location_X=28.1, Location_Y=113.2, Scale=15, Label="金沙路12号")
    demand = Demand.objects.get()
    assert demand.channel == Channel.WECHAT and demand.area_id == tree.grid.pk
    short_link = f"{live_server.url}/t/{demand.short_code}"
    assert demand.code in reply and short_link in reply

    # 2. The worker's outbox pass pushes the grid leader a WeCom text card that links to the demand.
    outbox_pass()
    [card] = [r.json for r in gateway.wecom_sends() if r.json["touser"] == "zhangjianguo"]
    card_url = card["textcard"]["url"]
    assert card_url == f"{live_server.url}/demands/{demand.pk}/" and "樟树" in card["textcard"]["description"]

    # 3. He opens the card's link on his phone and takes the order (接单).
    phone = make_page("phone")
    login(phone, leader)
    phone.goto(card_url)
    assert phone.locator("[data-testid=code]").inner_text() == demand.code
    with phone.expect_navigation():
        phone.click("[data-testid=move-accept] button[type=submit]")
    assert phone.locator("[data-testid=state]").get_attribute("data-state") == State.IN_PROGRESS
    screenshot(phone, "wecom-card-accept")

    # 4. Resolved: the resident's template message carries the same short link.
    demand.refresh_from_db()
    services.demand_resolve(demand=demand, actor=leader, result="已联系园林所砍伐枯树")
    outbox_pass()
    sends = [r.json for r in gateway.wechat_sends() if r.json.get("touser") == OPENID]
    assert len(sends) >= 2 and all(s["url"] == short_link for s in sends)  # accepted, resolved (and filed)
    assert any("办结" in s["data"]["keyword2"]["value"] for s in sends), sends

    # 5. The resident opens the link from the message and rates the result.
    resident = make_page("phone")
    resident.goto(short_link)
    assert resident.locator("[data-testid=state]").get_attribute("data-state") == State.RESOLVED
    resident.check("input[name=rate-satisfaction][value=satisfied]")
    with resident.expect_navigation():
        resident.click("[data-testid=rate-submit]")
    assert resident.locator("[data-testid=state]").get_attribute("data-state") == State.CLOSED
    screenshot(resident, "wechat-rated")

    # 6. A hotline demand nobody rates: the branch calls back, and 满意率 counts the answer.
    hotline = make_demand(grid=tree.grid.code, channel="hotline", title="楼道灯坏了")
    services.demand_resolve(demand=hotline, actor=leader, result="已换灯")

    def satisfaction() -> tuple[int, float | None]:
        dashboard_services.rollup_refresh_recent()
        tally = dashboard_selectors.figures(
            subject=dashboard_selectors.Subject(area=tree.city), period=dashboard_selectors.period_from("month")
        )
        return tally.counts["rated"], tally.measures()["satisfaction_rate"]

    assert satisfaction() == (1, 1.0)  # only the WeChat resident's rating so far
    desk = make_page("desk")
    login(desk, personas[Role.BRANCH])
    desk.goto(reverse("demands:detail", args=[hotline.pk]))
    box = desk.locator("[data-testid=move-call_back]")
    box.locator("summary").click()
    box.locator("input[name=call_back-reached][value='1']").check()
    box.locator("select[name=call_back-solved]").select_option("1")
    box.locator("select[name=call_back-satisfaction]").select_option("unsatisfied")
    box.locator("textarea[name=call_back-note]").fill("灯修好了，但等了三天")
    with desk.expect_navigation():
        desk.click("[data-testid=move-call_back] button[type=submit]")
    assert satisfaction() == (2, 0.5)  # the call back's answer is counted beside the rating

"""Texts people read come from the one catalogue: errors in both languages, messages and notes in Chinese."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from wangge.accounts.models import Role
from wangge.core.errors import Conflict
from wangge.demands import services
from wangge.demands.models import DemandEvent
from wangge.demands.testing import make_demand
from wangge.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_messages_and_notes_are_chinese_whatever_the_actors_language(tree: Any, personas: Any, settings: Any) -> None:
    settings.WANGGE_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    with translation.override("en"):
        demand = make_demand(grid=tree.grid, reporter_phone="13900001234")
        demand = services.demand_accept(demand=demand, actor=personas[Role.GRID_LEADER])
        demand = services.demand_resolve(demand=demand, actor=personas[Role.GRID_LEADER], result="已修好")
        services.demand_rate(demand=demand, satisfaction="basic", reason="慢了点", token=demand.tracking_token)
    sms = list(OutboxMessage.objects.filter(recipient="13900001234").order_by("id").values_list("subject", "body"))
    link = f"详情：http://127.0.0.1:8000/t/{demand.short_code}"
    assert sms[0] == (f"诉求 {demand.code}", f"您的诉求已登记，编号 {demand.code}，由{tree.grid.name}办理。{link}")
    assert sms[1][1] == f"您的诉求 {demand.code} 已由{tree.grid.name}受理，正在办理。{link}"
    assert sms[2][1] == f"您的诉求 {demand.code} 已办结：已修好。请通过跟踪链接评价。{link}"
    staff = OutboxMessage.objects.get(kind="demand.arrival")
    assert staff.subject == f"新诉求待受理 {demand.code}" and staff.body.startswith("新诉求：")
    assert DemandEvent.objects.get(demand=demand, action="rate").note == "基本满意。慢了点"


def test_a_move_the_state_refuses_names_state_and_move_in_each_language(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    services.demand_reject(demand=demand, actor=personas[Role.GRID_LEADER], reason="重复")
    with pytest.raises(Conflict) as refused:
        services.demand_accept(demand=demand, actor=personas[Role.GRID_LEADER])
    assert refused.value.zh == "诉求当前状态为「已驳回」，不能接单"
    assert refused.value.en == "This demand is “Rejected” now, so “Accept” is not possible."


def test_a_new_demand_reaches_the_grid_leaders_wecom_once(tree: Any, personas: Any, settings: Any) -> None:
    """Filed in a grid whose leader has a WeCom id: one text card row, delivered by the worker, never twice."""
    from django.core.cache import cache

    from wangge.accounts.services import user_import_wecom_ids
    from wangge.core.worker import run_pass
    from wangge.notifications.models import State
    from wangge.notifications.testing import BACKENDS, local_gateway

    settings.WANGGE_PUBLIC_BASE_URL = "https://wangge.example.cn"
    settings.WANGGE_WORKER_HOOKS = ["wangge.notifications.services.outbox_pass"]
    user_import_wecom_ids(rows=[["username", "wecom_userid"], ["p_grid", "zhangjianguo"]])
    d = make_demand(grid=tree.grid, title="樟树枯死")

    [row] = OutboxMessage.objects.filter(channel="wecom")
    assert row.recipient == "wecom:zhangjianguo" and row.kind == "demand.arrival"
    assert row.payload["textcard"]["url"] == f"https://wangge.example.cn/demands/{d.pk}/"
    assert not OutboxMessage.objects.filter(recipient=f"user:{personas[Role.GRID_LEADER].pk}").exists()

    with local_gateway() as wecom:
        settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "wecom": BACKENDS + "WeComBackend"}
        settings.NOTIFY_WECOM_BASE_URL = wecom.url
        settings.NOTIFY_WECOM_CORP_ID = wecom.wecom_corp_id
        settings.NOTIFY_WECOM_SECRET = wecom.wecom_secret
        settings.NOTIFY_WECOM_AGENT_ID = "1000002"
        cache.clear()
        [first] = run_pass()
        [second] = run_pass()
        cache.clear()
    # Everything due went out in the first pass (the card and the resident's SMS, kept locally).
    assert (first.error, first.result["sent"]) == (None, OutboxMessage.objects.count())
    assert (second.error, second.result["claimed"]) == (None, 0)
    [sent] = wecom.wecom_sends()  # the second pass sent nothing again
    card = sent.json["textcard"]
    assert sent.json["touser"] == "zhangjianguo" and sent.json["agentid"] == 1000002
    assert card["url"] == f"https://wangge.example.cn/demands/{d.pk}/" and "樟树枯死" in card["description"]
    row.refresh_from_db()
    assert row.state == State.SENT and row.attempts == 1


def test_every_message_of_an_intake_names_its_final_code_and_never_the_provisional_one(
    tree: Any, personas: Any
) -> None:
    """On PostgreSQL intake writes its messages before the number (codes.py) and the numbering statement
    puts the code into them: the SMS, the WeChat template message and the staff's WeCom card alike."""
    from wangge.accounts.services import user_import_wecom_ids

    user_import_wecom_ids(rows=[["p_grid", "zhangjianguo"]])
    demand = make_demand(grid=tree.grid, reporter_phone="13900001234", reporter_wechat_openid="o-resident-1")
    rows = list(OutboxMessage.objects.filter(payload__demand_id=demand.pk))
    assert {r.channel for r in rows} == {"sms", "wechat_mp", "wecom"}
    provisional = "~" + demand.tracking_token[:31]
    for row in rows:
        texts = f"{row.subject} {row.body} {row.payload}"
        assert provisional not in texts and "~" not in texts, texts
        assert row.payload["code"] == demand.code
        assert demand.code in row.subject
    card = next(r for r in rows if r.channel == "wecom").payload["textcard"]
    assert f"编号：{demand.code}" in card["description"] and demand.code in card["title"]

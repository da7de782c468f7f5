"""What people see on the demand pages after the moves of "Reach people where they are" (issue items 6, 9):
the dispatched badge, the result after a reopen, which reasons a resident reads, and the call back (回访)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.browser.conftest import login, screenshot
from tests.browser.test_demand_story import state_of, submit
from wangge.accounts.models import Role
from wangge.core.clock import local_tz
from wangge.demands import services
from wangge.demands.models import CallBack, Demand, State
from wangge.demands.testing import make_demand

pytestmark = pytest.mark.browser


def test_a_dispatched_demand_says_dispatched_everywhere(desk_page: Any, tree: Any, personas: Any) -> None:
    d = make_demand(area=tree.village)
    d = services.demand_dispatch(demand=d, actor=personas[Role.VILLAGE], department=tree.department)
    assert d.state == State.ESCALATED  # the state is the same as an escalation's; the words are not
    login(desk_page, personas[Role.DEPARTMENT])
    desk_page.goto(reverse("demands:list"))
    badges = desk_page.locator("[data-testid=my-queue] .badge").all_inner_texts()
    assert "已派发" in badges and "已上报" not in badges, badges
    table = desk_page.locator("#demand-table").inner_text()
    assert "已派发" in table and "已上报" not in table
    desk_page.goto(reverse("demands:detail", args=[d.pk]))
    assert desk_page.locator("[data-testid=state]").inner_text() == "已派发"
    desk_page.goto(reverse("demands:track", args=[d.tracking_token]))
    assert desk_page.locator("[data-testid=state]").inner_text() == "已派发"


def test_after_a_reopen_the_result_is_the_earlier_attempt_and_the_due_time_is_new(
    make_page: Any, tree: Any, personas: Any
) -> None:
    d = make_demand(grid=tree.grid.code)
    d = services.demand_resolve(demand=d, actor=personas[Role.GRID_LEADER], result="灯泡已更换")
    # Resolved long ago: its old limit is in the past, so a new one cannot be mistaken for it.
    old_due = timezone.now() - dt.timedelta(days=20)
    Demand.objects.filter(pk=d.pk).update(resolve_due_at=old_due)
    services.demand_rate(demand=d, satisfaction="unsatisfied", reason="还是不亮", token=d.tracking_token)
    d.refresh_from_db()
    assert d.state == State.REOPENED and d.resolve_due_at > timezone.now()
    new_due = d.resolve_due_at.astimezone(local_tz()).strftime("%Y-%m-%d %H:%M")
    old_text = old_due.astimezone(local_tz()).strftime("%Y-%m-%d %H:%M")

    resident = make_page("phone")
    resident.goto(reverse("demands:track", args=[d.tracking_token]))
    assert resident.locator("[data-testid=resolution]").count() == 0  # no green "Result" box
    earlier = resident.locator("[data-testid=earlier-result]")
    assert "灯泡已更换" in earlier.inner_text() and "上次办理结果" in earlier.inner_text()
    facts = resident.locator("dl.facts").inner_text()
    assert new_due in facts and old_text not in facts, facts
    screenshot(resident, "track-reopened")

    staff = make_page("desk")
    login(staff, personas[Role.GRID_LEADER])
    staff.goto(reverse("demands:detail", args=[d.pk]))
    assert staff.locator(".flash.success:has-text('灯泡已更换')").count() == 0
    assert "灯泡已更换" in staff.locator("[data-testid=earlier-result]").inner_text()
    facts = staff.locator("[data-testid=facts]").inner_text()
    assert new_due in facts and old_text not in facts, facts

    # Resolved again: the new result is the current one.
    services.demand_resolve(demand=d, actor=personas[Role.GRID_LEADER], result="线路已重接")
    resident.reload()
    assert "线路已重接" in resident.locator("[data-testid=resolution]").inner_text()
    assert resident.locator("[data-testid=earlier-result]").count() == 0


def test_the_resident_reads_only_the_reasons_staff_chose_to_show(make_page: Any, tree: Any, personas: Any) -> None:
    d = make_demand(grid=tree.grid.code)
    leader = make_page("phone")
    login(leader, personas[Role.GRID_LEADER])
    leader.goto(reverse("demands:detail", args=[d.pk]))
    box = leader.locator("[data-testid=move-escalate]")
    box.locator("summary").click()
    assert not box.locator("input[name=escalate-public]").is_checked()  # not shown unless chosen
    box.locator("textarea[name=escalate-reason]").fill("网格长与物业有矛盾，内部协调")
    submit(leader, "[data-testid=move-escalate] button[type=submit]")

    branch = make_page("desk")
    login(branch, personas[Role.BRANCH])
    branch.goto(reverse("demands:detail", args=[d.pk]))
    box = branch.locator("[data-testid=move-return_]")
    box.locator("summary").click()
    box.locator("select[name=return_-to_area]").select_option(label=tree.grid.name)
    box.locator("textarea[name=return_-instructions]").fill("请明天上午联系电工上门维修")
    box.locator("input[name=return_-public]").check()
    submit(branch, "[data-testid=move-return_] button[type=submit]")

    resident = make_page("phone")
    resident.goto(reverse("demands:track", args=[d.tracking_token]))
    timeline = resident.locator("[data-testid=timeline]")
    actions = timeline.locator("li").evaluate_all("els => els.map(e => e.dataset.action)")
    assert "escalate" in actions and "return_" in actions  # the moves are on the page…
    text = timeline.inner_text()
    assert "内部协调" not in text  # …the internal reason is not
    assert "请明天上午联系电工上门维修" in text  # the public one is
    branch.goto(reverse("demands:detail", args=[d.pk]))
    assert "内部协调" in branch.locator("[data-testid=timeline]").inner_text()  # staff see every reason


def test_call_back_from_the_detail_page_reopens_an_unsolved_hotline_demand(
    desk_page: Any, tree: Any, personas: Any
) -> None:
    d = make_demand(grid=tree.grid.code, channel="hotline")
    services.demand_resolve(demand=d, actor=personas[Role.GRID_LEADER], result="已清理")
    login(desk_page, personas[Role.BRANCH])
    desk_page.goto(reverse("demands:list") + "?call_back=1")
    assert d.code in desk_page.locator("#demand-table").inner_text()
    desk_page.goto(reverse("demands:detail", args=[d.pk]))
    assert desk_page.locator("[data-testid=reporter-phone]").count() == 1  # the number to dial
    box = desk_page.locator("[data-testid=move-call_back]")
    box.locator("summary").click()
    box.locator("input[name=call_back-reached][value='1']").check()
    box.locator("select[name=call_back-solved]").select_option("0")
    box.locator("select[name=call_back-satisfaction]").select_option("unsatisfied")
    box.locator("textarea[name=call_back-note]").fill("垃圾又堆起来了")
    submit(desk_page, "[data-testid=move-call_back] button[type=submit]")
    assert state_of(desk_page) == State.REOPENED
    actions = desk_page.locator("[data-testid=timeline] li").evaluate_all("els => els.map(e => e.dataset.action)")
    assert actions[-2:] == ["call_back", "reopen"]
    assert "回访" in desk_page.locator("[data-testid=timeline] li[data-action=call_back]").inner_text()
    call = CallBack.objects.get(demand=d)
    assert (call.reached, call.solved, call.satisfaction) == (True, False, "unsatisfied")
    desk_page.goto(reverse("demands:list") + "?call_back=1")
    assert d.code not in desk_page.locator("#demand-table").inner_text()

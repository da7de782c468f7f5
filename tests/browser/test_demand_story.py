"""The reference story end to end in a real browser (issue 3, "Done when").

A resident scans a grid's QR code and reports a dead camphor tree with a photo; the grid leader
accepts it on the phone and escalates; the party branch passes it up to the village; the village
dispatches it to a department; the department resolves it with a photo; the resident rates it
basically satisfied. Every step must be on the timeline (page and rows) and the resident must have
been told on acceptance and resolution (outbox rows).
"""

from __future__ import annotations

import io
from typing import Any

import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.demands.models import Demand, State
from wangge.demands.qrcodes import grid_qr_png
from wangge.notifications.models import OutboxMessage

pytestmark = pytest.mark.browser

RESIDENT_PHONE = "13912345678"


def jpeg(color: str) -> dict[str, Any]:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(buf, format="JPEG")
    return {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def open_detail(page: Any, demand: Demand) -> None:
    page.goto(reverse("demands:list"))
    submit(page, f"[data-testid=my-queue] a:text('{demand.code}')")
    assert page.locator("[data-testid=code]").inner_text() == demand.code


def move(page: Any, name: str, fields: dict[str, str] | None = None, files: dict[str, Any] | None = None) -> None:
    """Open the form of one move on the detail page, fill it and send it."""
    box = page.locator(f"[data-testid=move-{name}]")
    if name != "accept":
        box.locator("summary").click()
    for field, value in (fields or {}).items():
        target = box.locator(f"[name='{name}-{field}']")
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(label=value)
        else:
            target.fill(value)
    for field, value in (files or {}).items():
        box.locator(f"[name='{name}-{field}']").set_input_files(value)
    submit(page, f"[data-testid=move-{name}] button[type=submit]")


def fits_the_phone(page: Any) -> bool:
    """Nothing wider than the 360 px screen: no sideways scrolling in the WeChat browser."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def state_of(page: Any) -> str:
    return str(page.locator("[data-testid=state]").get_attribute("data-state"))


def test_dead_camphor_tree_story(make_page: Any, live_server: Any, tree: Any, personas: Any, settings: Any) -> None:
    settings.WANGGE_PUBLIC_BASE_URL = live_server.url

    # 1. The resident scans the grid's QR code printed on the sheet by the door.
    scanned = zxingcpp.read_barcodes(Image.open(io.BytesIO(grid_qr_png(tree.grid))).convert("L"))[0].text
    assert scanned == f"{live_server.url}/demands/report/?grid={tree.grid.code}"
    resident = make_page("phone")
    resident.goto(scanned)
    assert tree.grid.name in resident.locator("[data-testid=chosen-grid]").inner_text()
    resident.fill("textarea[name=description]", "小区门口那棵枯死的樟树，树枝随时可能砸到人和电线，请尽快处理。")
    resident.set_input_files("input[name=photos]", jpeg("saddlebrown"))
    resident.select_option("select[name=category]", "0401")
    resident.check("input[name=urgent]")
    resident.fill("input[name=phone]", RESIDENT_PHONE)
    resident.fill("input[name=name]", "王阿姨")
    screenshot(resident, "report")
    assert fits_the_phone(resident)
    desk_resident = make_page("desk")
    desk_resident.goto(scanned)
    screenshot(desk_resident, "report")
    submit(resident, "[data-testid=submit]")

    code = resident.locator("[data-testid=code]").inner_text()
    track_url = resident.locator("[data-testid=track-link]").get_attribute("href")
    demand = Demand.objects.get(code=code)
    assert demand.area == tree.grid and demand.urgency == "urgent" and demand.photos.count() == 1
    assert track_url.endswith(reverse("demands:track", args=[demand.tracking_token]))
    screenshot(resident, "track-submitted")

    # 2. The grid leader, on the phone, takes the order and escalates it.
    leader = make_page("phone")
    login(leader, personas[Role.GRID_LEADER])
    open_detail(leader, demand)
    assert leader.locator("[data-testid=photos] img").count() == 1
    move(leader, "accept")
    assert state_of(leader) == State.IN_PROGRESS
    move(leader, "escalate", {"reason": "树太大，需要村里协调专业队伍"})
    demand.refresh_from_db()
    assert demand.state == State.ESCALATED and demand.holder_area == tree.branch

    # 3. The party branch passes it on to the village (grid → branch → village, one step at a time).
    branch = make_page("desk")
    login(branch, personas[Role.BRANCH])
    open_detail(branch, demand)
    move(branch, "escalate", {"reason": "支部无力处理，报村（社区）"})
    demand.refresh_from_db()
    assert demand.holder_area == tree.village

    # 4. The village dispatches it to the department (the tree leans on a power line).
    village = make_page("desk")
    login(village, personas[Role.VILLAGE])
    open_detail(village, demand)
    move(village, "dispatch", {"department": tree.department.name, "note": "枯树压线，请供电公司配合砍伐"})
    demand.refresh_from_db()
    assert demand.holder_department == tree.department

    # 5. The department accepts and resolves it with a photo of the stump.
    department = make_page("desk")
    login(department, personas[Role.DEPARTMENT])
    open_detail(department, demand)
    move(department, "accept")
    move(department, "resolve", {"result": "已断电砍伐枯死樟树并清运，线路恢复正常"}, {"photos": jpeg("khaki")})
    assert state_of(department) == State.RESOLVED
    screenshot(department, "detail")
    phone_staff = make_page("phone")
    login(phone_staff, personas[Role.DEPARTMENT])
    phone_staff.goto(reverse("demands:detail", args=[demand.pk]))
    screenshot(phone_staff, "detail")

    # 6. The resident opens the tracking link and rates the result "basically satisfied".
    resident.goto(track_url)
    assert state_of(resident) == State.RESOLVED
    assert "已断电砍伐枯死樟树" in resident.locator("[data-testid=resolution]").inner_text()
    resident.check("input[name=rate-satisfaction][value=basic]")
    submit(resident, "[data-testid=rate-submit]")
    assert state_of(resident) == State.CLOSED
    assert resident.locator("[data-testid=rating]").count() == 1
    screenshot(resident, "track")
    assert fits_the_phone(resident)
    desk_resident.goto(track_url)
    screenshot(desk_resident, "track")

    # Every step is on the timeline: the rows, the staff page and the resident's page.
    demand.refresh_from_db()
    assert demand.state == State.CLOSED and demand.satisfaction == "basic"
    steps = ["submit", "accept", "escalate", "escalate", "dispatch", "accept", "resolve", "rate"]
    assert list(demand.events.exclude(action="comment").values_list("action", flat=True)) == steps
    village.goto(reverse("demands:detail", args=[demand.pk]))
    staff_actions = village.locator("[data-testid=timeline] li").evaluate_all("els => els.map(e => e.dataset.action)")
    assert [a for a in staff_actions if a != "comment"] == steps
    public_actions = resident.locator("[data-testid=timeline] li").evaluate_all("els => els.map(e => e.dataset.action)")
    assert public_actions[0] == "submit" and public_actions[-1] == "rate"
    assert {"accept", "dispatch", "resolve"} <= set(public_actions)
    public_text = resident.locator("[data-testid=timeline]").inner_text()
    for staff in personas.values():
        assert staff.display_name not in public_text and staff.username not in public_text
    # The resident's photos and the result photo are shown by token, never by a media URL.
    assert resident.locator("[data-testid=timeline] img").count() == 2
    assert "/media/" not in resident.content()

    # And in the outbox: the resident was told on acceptance (once: a later level taking it over is
    # internal) and on resolution; the holders were told when it arrived.
    told = OutboxMessage.objects.filter(recipient=RESIDENT_PHONE)
    kinds = list(told.values_list("kind", flat=True))
    assert kinds.count("demand.resident.accepted") == 1
    assert kinds.count("demand.resident.resolved") == 1
    assert all(code in m.body for m in told)
    accepted = told.get(kind="demand.resident.accepted")
    assert tree.grid.name in accepted.body  # told by the grid leader's acceptance, the first one
    for holder in (Role.GRID_LEADER, Role.BRANCH, Role.VILLAGE, Role.DEPARTMENT):
        arrivals = OutboxMessage.objects.filter(recipient=f"user:{personas[holder].pk}", kind="demand.arrival")
        assert arrivals.filter(body__contains=code).exists(), holder


def test_resident_picks_the_place_from_the_list(phone_page: Any, tree: Any) -> None:
    """No QR code: town → village → grid, each list filled by htmx from the one before."""
    phone_page.goto(reverse("demands:report"))
    phone_page.select_option("select[name=town]", label=tree.town.name)
    phone_page.wait_for_selector(f"select[name=village] option[value='{tree.village.pk}']", state="attached")
    phone_page.select_option("select[name=village]", label=tree.village.name)
    phone_page.wait_for_selector(f"select[name=grid] option[value='{tree.sibling_grid.code}']", state="attached")
    phone_page.select_option("select[name=grid]", label=tree.sibling_grid.name)
    phone_page.fill("textarea[name=description]", "楼道灯坏了一个星期")
    phone_page.fill("input[name=phone]", RESIDENT_PHONE)
    submit(phone_page, "[data-testid=submit]")
    code = phone_page.locator("[data-testid=code]").inner_text()
    assert Demand.objects.get(code=code).area == tree.sibling_grid


def test_bad_input_is_shown_next_to_the_field_and_kept(phone_page: Any, tree: Any) -> None:
    phone_page.goto(reverse("demands:report") + f"?grid={tree.grid.code}")
    phone_page.fill("input[name=phone]", "12345")
    phone_page.fill("input[name=name]", "王阿姨")
    submit(phone_page, "[data-testid=submit]")
    assert "请描述您遇到的问题" in phone_page.locator("[data-testid=error-description]").inner_text()
    assert "电话号码格式不正确" in phone_page.locator("[data-testid=error-phone]").inner_text()
    assert phone_page.input_value("input[name=name]") == "王阿姨"
    assert tree.grid.name in phone_page.locator("[data-testid=chosen-grid]").inner_text()
    assert Demand.objects.count() == 0
    screenshot(phone_page, "report-errors")


def test_use_my_location_fills_the_point(make_page: Any, tree: Any) -> None:
    page = make_page("phone", permissions=["geolocation"], geolocation={"latitude": 28.1543, "longitude": 113.6321})
    page.goto(reverse("demands:report"))
    page.click("[data-testid=locate]")
    page.wait_for_function("() => document.getElementById('lat').value !== ''")  # a function: the CSP refuses eval
    assert page.input_value("#lat") == "28.154300" and page.input_value("#lng") == "113.632100"

"""Triage on the staff pages: the category suggestion is confirmed or corrected by the holder (and kept as
training data), the intake form shows the suggestion, the hot issues page is scoped, the demo is not empty."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.demands import selectors as demand_selectors
from wangge.demands import services as demand_services
from wangge.demands.models import Category, Demand, DemandEvent
from wangge.demands.testing import make_demand
from wangge.triage import services
from wangge.triage.models import TrainingExample

LIGHT = "荷花小区路灯不亮，晚上很黑"


@pytest.fixture
def light_rule(db: Any) -> Any:
    """A keyword rule that explains itself; it suggests 0102 (路灯不亮) but is not applied by itself."""
    services.triage_settings_update(rules_auto_apply=False)
    return services.keyword_rule_create(pattern="路灯 不亮", category_code="0102")


def test_the_holder_confirms_the_suggestion_and_it_is_kept_as_training_data(
    tree: Any, personas: Any, light_rule: Any
) -> None:
    demand = make_demand(grid=tree.grid, title="荷花小区路灯不亮", description=LIGHT)
    assert demand.category is None and demand.suggested_category.code == "0102"
    shown = demand_selectors.demand_suggestion(demand=demand)
    assert shown is not None and shown.category.code == "0102" and shown.confidence == 1.0
    assert "命中关键词" in shown.explanation and "路灯" in shown.explanation

    leader = personas[Role.GRID_LEADER]
    demand = demand_services.demand_set_category(demand=demand, actor=leader, category="0102")
    assert demand.category.code == "0102" and demand.version == 2
    event = DemandEvent.objects.get(demand=demand, action="recategorise")
    assert not event.is_public and "确认智能建议" in event.note and event.actor == leader
    example = TrainingExample.objects.get(demand=demand)
    assert example.accepted and example.category_code == "0102" and example.suggested_category_code == "0102"
    assert example.actor == leader and example.title == "荷花小区路灯不亮"
    # Decided: the suggestion is no longer offered.
    assert demand_selectors.demand_suggestion(demand=demand) is None


def test_a_correction_is_kept_as_a_refused_suggestion(tree: Any, personas: Any, light_rule: Any) -> None:
    demand = make_demand(grid=tree.grid, title="荷花小区路灯不亮", description=LIGHT)
    demand = demand_services.demand_set_category(demand=demand, actor=personas[Role.GRID_LEADER], category="0103")
    assert demand.category.code == "0103"
    example = TrainingExample.objects.get(demand=demand)
    assert not example.accepted and example.category_code == "0103" and example.suggested_category_code == "0102"
    assert "更正智能建议" in DemandEvent.objects.get(demand=demand, action="recategorise").note


def test_only_the_holder_sets_the_category_and_bad_input_changes_nothing(
    tree: Any, personas: Any, light_rule: Any
) -> None:
    demand = make_demand(grid=tree.grid, title="荷花小区路灯不亮", description=LIGHT)
    for role in (Role.TOWN, Role.AUDITOR, "outsider"):
        with pytest.raises(PermissionDenied):
            demand_services.demand_set_category(demand=demand, actor=personas[role], category="0102")
    leader = personas[Role.GRID_LEADER]
    with pytest.raises(ValidationFailed) as unknown:
        demand_services.demand_set_category(demand=demand, actor=leader, category="nope")
    assert unknown.value.zh == "未知的诉求类别" and "unknown category" in unknown.value.en
    with pytest.raises(ValidationFailed) as empty:
        demand_services.demand_set_category(demand=demand, actor=leader, category="")
    assert empty.value.field == "category" and empty.value.zh and empty.value.en
    with pytest.raises(Conflict):
        demand_services.demand_set_category(demand=demand, actor=leader, category="0102", version=99)
    demand.refresh_from_db()
    assert demand.category is None and demand.version == 1
    assert not TrainingExample.objects.exists() and not DemandEvent.objects.filter(action="recategorise").exists()


def test_an_automatically_applied_category_still_asks_for_a_person(tree: Any, personas: Any) -> None:
    services.keyword_rule_create(pattern="路灯 不亮", category_code="0102")  # applied at intake by default
    demand = make_demand(grid=tree.grid, title="荷花小区路灯不亮", description=LIGHT)
    assert demand.category.code == "0102" == demand.suggested_category.code
    client = Client()
    client.force_login(personas[Role.GRID_LEADER])
    body = client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert 'data-testid="category-suggestion"' in body and 'data-testid="confirm-category"' in body
    assert "命中关键词" in body and "100%" in body


def test_the_detail_page_confirms_and_corrects_through_the_service(tree: Any, personas: Any, light_rule: Any) -> None:
    demand = make_demand(grid=tree.grid, title="荷花小区路灯不亮", description=LIGHT)
    url = reverse("demands:set_category", args=[demand.pk])
    town = Client()
    town.force_login(personas[Role.TOWN])
    body = town.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert 'data-testid="category-suggestion"' in body and 'data-testid="confirm-category"' not in body
    assert town.post(url, {"category": "0102", "version": demand.version}).status_code == 403

    leader = Client()
    leader.force_login(personas[Role.GRID_LEADER])
    assert leader.get(url).status_code == 405
    resp = leader.post(url, {"category": "nope", "version": demand.version})
    assert resp.status_code == 400 and "未知的诉求类别" in resp.content.decode()
    resp = leader.post(url, {"category": "0102", "version": demand.version})
    assert resp.status_code == 302
    demand.refresh_from_db()
    assert demand.category.code == "0102" and TrainingExample.objects.filter(demand=demand, accepted=True).exists()
    body = leader.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert 'data-testid="category-suggestion"' not in body
    # Outside the scope: not found, whatever the method.
    outsider = Client()
    outsider.force_login(personas["outsider"])
    assert outsider.post(url, {"category": "0101"}).status_code == 404


def test_the_intake_form_shows_the_suggestion_and_keeps_the_staff_choice(
    tree: Any, personas: Any, light_rule: Any, settings: Any, tmp_path: Any, no_default_rules: None
) -> None:
    settings.MEDIA_ROOT = tmp_path
    client = Client()
    client.force_login(personas[Role.GRID_LEADER])
    frag = client.get(reverse("demands:suggestion"), {"title": "", "description": LIGHT}).content.decode()
    assert 'data-testid="suggestion"' in frag and 'data-use-category="0102"' in frag and "命中关键词" in frag
    empty = client.get(reverse("demands:suggestion"), {"description": "孩子入学报名咨询"}).content.decode()
    assert 'data-testid="suggestion"' not in empty
    assert 'id="category-suggestion"' in client.get(reverse("demands:new")).content.decode()

    resp = client.post(
        reverse("demands:new"),
        {
            "channel": "wechat_group",
            "kind": "help",
            "urgency": "normal",
            "category": "0103",
            "description": LIGHT,
            "area": tree.grid.pk,
        },
    )
    assert resp.status_code == 302
    demand = Demand.objects.get()
    assert demand.category.code == "0103"
    example = TrainingExample.objects.get(demand=demand)
    assert not example.accepted and example.category_code == "0103" and example.suggested_category_code == "0102"
    assert demand_selectors.demand_suggestion(demand=demand) is None


def test_feedback_that_fails_never_undoes_the_category(
    tree: Any, personas: Any, light_rule: Any, settings: Any
) -> None:
    settings.WANGGE_TRIAGE_FEEDBACK = "wangge.triage.tests.test_pages.broken_feedback"
    demand = make_demand(grid=tree.grid, title="荷花小区路灯不亮", description=LIGHT)
    demand = demand_services.demand_set_category(demand=demand, actor=personas[Role.GRID_LEADER], category="0102")
    assert Demand.objects.get(pk=demand.pk).category == Category.objects.get(code="0102")
    assert not TrainingExample.objects.exists()


def broken_feedback(**kwargs: Any) -> None:
    raise RuntimeError("feedback store is down")


# --- hot issues ----------------------------------------------------------------------------------

LIGHTS = [
    "荷花小区路灯不亮好几天了",
    "荷花小区的路灯坏了晚上不亮",
    "荷花小区路灯晚上不亮请维修",
    "反映荷花小区路灯不亮的问题",
]


def test_hot_issues_page_is_scoped_to_the_users_areas(tree: Any, personas: Any) -> None:
    for i, text in enumerate(LIGHTS):
        make_demand(
            grid=tree.grid if i % 2 else tree.sibling_grid,
            title=text,
            description=text,
            reporter_phone=f"1390000{i:04d}",
        )
    for i, text in enumerate(["北正社区夜宵摊噪音扰民", "北正社区夜宵摊深夜噪音太大", "投诉北正社区夜宵摊噪音扰民"]):
        make_demand(grid=tree.other_grid, title=text, description=text, reporter_phone=f"1380000{i:04d}")
    url = reverse("triage:hot")

    def page(persona: str) -> str:
        client = Client()
        client.force_login(personas[persona])
        resp = client.get(url)
        assert resp.status_code == 200
        return resp.content.decode()

    town = page(Role.TOWN)
    assert town.count('data-testid="hot-issue"') == 1 and "路灯" in town and "夜宵" not in town
    light_codes = list(Demand.objects.filter(area__path__startswith=tree.village.path).values_list("code", "pk"))
    for code, pk in light_codes:
        assert code in town and reverse("demands:detail", args=[pk]) in town
    city = page(Role.CITY_ADMIN)
    assert city.count('data-testid="hot-issue"') == 2 and "路灯" in city and "夜宵" in city
    outsider = page("outsider")
    assert outsider.count('data-testid="hot-issue"') == 1 and "夜宵" in outsider and "路灯" not in outsider
    assert 'data-testid="hot-empty"' in page(Role.DEPARTMENT)  # no area of their own
    # The partial alone, as htmx (and the dashboard) asks for it.
    client = Client()
    client.force_login(personas[Role.TOWN])
    frag = client.get(url, {"days": "30"}, HTTP_HX_REQUEST="true").content.decode()
    assert frag.lstrip().startswith('<section class="hot-issues"') and "路灯" in frag


def test_hot_issues_panel_tag_renders_the_users_week(tree: Any, personas: Any, rf: Any) -> None:
    from django.template import Context, Template

    for i, text in enumerate(LIGHTS):
        make_demand(grid=tree.grid, title=text, description=text, reporter_phone=f"1390000{i:04d}")
    request = rf.get("/")
    request.user = personas[Role.VILLAGE]
    html = Template("{% load triage_tags %}{% hot_issues_panel %}").render(Context({"request": request}))
    assert html.count('data-testid="hot-issue"') == 1 and "路灯" in html
    request.user = personas["outsider"]
    html = Template("{% load triage_tags %}{% hot_issues_panel %}").render(Context({"request": request}))
    assert 'data-testid="hot-empty"' in html and "路灯" not in html


# --- demo ------------------------------------------------------------------------------------------


def test_demo_seed_makes_this_weeks_clusters(tree: Any, personas: Any) -> None:
    from wangge.triage.demo import seed
    from wangge.triage.selectors import hot_issues_for

    cache.clear()
    counts = seed(tree.city)
    assert counts["demands"] == 30 and counts["followers"] == 2 and counts["rules"] == 4
    assert Demand.objects.count() == 30
    issues = hot_issues_for(user=personas[Role.CITY_ADMIN], days=7)
    sizes = sorted((i.size for i in issues), reverse=True)
    assert sizes[:4] == [5, 4, 4, 3], [(i.name, i.size) for i in issues]
    assert any("路灯" in i.name for i in issues) and any("下水道" in i.name for i in issues)
    # The street light: rules suggested its category, and two neighbours follow it.
    light = Demand.objects.get(idempotency_key="demo-triage-light-0")
    assert light.suggested_category.code == "0102" and light.followers.count() == 2
    # A second run files nothing new.
    assert seed(tree.city) == {"demands": 0, "followers": 0, "rules": 0, "models": 0}
    assert Demand.objects.count() == 30

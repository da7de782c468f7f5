"""Models, the default catalogue and the back office (categories editable, demands read-only and scoped)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError
from django.test import Client

from wangge.accounts.models import Role
from wangge.demands.models import Category, Demand
from wangge.demands.testing import make_demand
from wangge.registry.testing import make_user

pytestmark = pytest.mark.django_db

FIRST_LEVEL = {
    "道路与照明",
    "供水供电",
    "环境卫生与厕所",
    "树木绿化",
    "邻里纠纷",
    "住房与电梯",
    "养老与社会救助",
    "教育",
    "医疗卫生",
    "停车与交通",
    "市场与物价",
    "安全隐患",
}


def test_default_catalogue_has_two_levels_with_limits() -> None:
    top = Category.objects.filter(parent__isnull=True)
    assert set(top.values_list("name", flat=True)) == FIRST_LEVEL
    for parent in top:
        assert parent.children.count() >= 2, parent.name
    gas = Category.objects.get(name="燃气泄漏")
    assert gas.resolve_unit == "hours" and gas.accept_hours_urgent == 1 and str(gas) == "安全隐患 / 燃气泄漏"


def test_demand_properties(tree: Any, personas: Any) -> None:
    d = make_demand(grid=tree.grid, reporter_phone="13912345678")
    assert d.reporter_phone_masked == "139****5678"
    assert d.is_open and d.holder_label == tree.grid.name and d.holder_kind == "grid"
    assert str(d).startswith(d.code)


def test_codes_and_tokens_are_unique(tree: Any) -> None:
    d = make_demand(grid=tree.grid)
    clone = Demand.objects.get(pk=d.pk)
    clone.pk = None
    clone.tracking_token = "other"
    with pytest.raises(IntegrityError):
        clone.save()


def test_admin_categories_editable_demands_read_only_scoped_and_masked(tree: Any, personas: Any) -> None:
    inside = make_demand(grid=tree.grid, reporter_phone="13912345678", title="内圈的诉求")
    make_demand(grid=tree.other_grid, title="外圈的诉求")
    staff = make_user(role=Role.TOWN, areas=[tree.town])
    staff.is_staff = True
    staff.save()
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_demand", "view_category", "change_category"])
    )
    client = Client()
    client.force_login(staff)
    page = client.get("/admin/demands/demand/").content.decode()
    assert "内圈的诉求" in page and "外圈的诉求" not in page
    assert "139****5678" in page and "13912345678" not in page
    detail = client.get(f"/admin/demands/demand/{inside.pk}/change/")
    assert detail.status_code == 200 and "13912345678" not in detail.content.decode()
    assert client.post(f"/admin/demands/demand/{inside.pk}/change/", {"title": "改"}).status_code == 403
    assert client.get("/admin/demands/demand/add/").status_code == 403
    lamp = Category.objects.get(code="0102")
    resp = client.get(f"/admin/demands/category/{lamp.pk}/change/")
    assert resp.status_code == 200 and "受理时限" in resp.content.decode()

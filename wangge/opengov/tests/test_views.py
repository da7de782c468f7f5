"""Open-government pages and API: the scoped staff catalogue, the editor, public pages with history, statistics."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.opengov import services
from wangge.opengov.models import DisclosureItem, ItemState
from wangge.opengov.testing import domain, make_item, pdf

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_staff_catalogue_is_scoped_and_flags_overdue_items(tree: Any, personas: Any) -> None:
    with time_machine.travel(T0, tick=False):
        ours = make_item(
            area=tree.village, user=personas[Role.VILLAGE], title="金沙社区财务公开", publish=True, frequency_days=30
        )
        make_item(area=tree.other_village, user=personas["outsider"], title="北正社区财务公开")
    out = io.StringIO()
    with time_machine.travel(T0 + dt.timedelta(days=31), tick=False):
        call_command("opengov_sweep", stdout=out)
    assert "1" in out.getvalue()
    ours.refresh_from_db()
    assert ours.overdue_since is not None
    body = client_for(personas[Role.TOWN]).get(reverse("opengov:catalogue")).content.decode()
    assert "金沙社区财务公开" in body and "北正社区财务公开" not in body
    assert f'data-testid="overdue-{ours.pk}"' in body and 'data-testid="overdue-total"' in body
    assert "金沙社区财务公开" not in client_for(personas["outsider"]).get(reverse("opengov:catalogue")).content.decode()
    assert client_for(personas["outsider"]).get(reverse("opengov:item", args=[ours.pk])).status_code == 404
    assert (
        "金沙社区财务公开"
        not in client_for(personas[Role.GRID_LEADER]).get(reverse("opengov:catalogue")).content.decode()
    )


def test_create_edit_and_publish_through_the_pages(tree: Any, personas: Any) -> None:
    staff = client_for(personas[Role.TOWN])
    relief = domain("社会救助")
    resp = staff.post(
        reverse("opengov:new"),
        {
            "area": tree.village.pk,
            "domain": relief.pk,
            "title": "低保对象公示",
            "content": "本月新增低保 3 户。",
            "responsible_unit": "社区居委会",
            "frequency_days": "30",
            "attachments": [pdf()],
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:800]
    item = DisclosureItem.objects.get()
    assert item.state == ItemState.DRAFT and item.attachments.count() == 1
    url = reverse("opengov:item", args=[item.pk])
    form = {
        "domain": relief.pk,
        "title": "低保对象公示（3月）",
        "content": "本月新增低保 3 户，退出 1 户。",
        "responsible_unit": "社区居委会",
        "frequency_days": "30",
    }
    assert staff.post(url, {**form, "action": "publish"}).status_code == 302
    item.refresh_from_db()
    assert item.state == ItemState.PUBLISHED and item.title == "低保对象公示（3月）" and item.versions.count() == 1
    # An attachment listed by the published version is public.
    att = item.attachments.get()
    assert Client().get(reverse("opengov:attachment", args=[att.pk])).status_code == 200


def test_form_errors_are_shown_next_to_the_field_and_nothing_is_written(tree: Any, personas: Any) -> None:
    staff = client_for(personas[Role.VILLAGE])
    resp = staff.post(
        reverse("opengov:new"),
        {
            "area": tree.village.pk,
            "domain": domain().pk,
            "title": "",
            "content": "x",
            "responsible_unit": "村委会",
            "frequency_days": "90",
        },
    )
    assert resp.status_code == 400 and 'data-field="title"' in resp.content.decode()
    resp = staff.post(
        reverse("opengov:new"),
        {
            "area": tree.town.pk,
            "domain": domain().pk,
            "title": "t",
            "content": "x",
            "responsible_unit": "u",
            "frequency_days": "90",
        },
    )
    assert resp.status_code == 400 and 'data-field="area"' in resp.content.decode()  # the town is above the village
    assert not DisclosureItem.objects.exists()
    assert client_for(personas[Role.GRID_LEADER]).get(reverse("opengov:new")).status_code == 403
    assert client_for(personas[Role.DEPARTMENT]).get(reverse("opengov:new")).status_code == 403


def test_a_save_and_publish_that_fails_publishes_nothing(tree: Any, personas: Any) -> None:
    item = make_item(area=tree.village, user=personas[Role.VILLAGE], publish=True, content="旧内容")
    resp = client_for(personas[Role.VILLAGE]).post(
        reverse("opengov:item", args=[item.pk]),
        {
            "action": "publish",
            "domain": item.domain_id,
            "title": "新标题",
            "content": "",
            "responsible_unit": "村委会",
            "frequency_days": "90",
        },
    )
    assert resp.status_code == 400 and 'data-field="content"' in resp.content.decode()
    item.refresh_from_db()
    assert item.versions.count() == 1 and item.title != "新标题"


def test_public_pages_show_published_versions_and_history_only(tree: Any, personas: Any) -> None:
    clerk = personas[Role.VILLAGE]
    item = make_item(
        area=tree.village, user=clerk, title="村级财务收支公开", content="一季度收入 10 万元。", publish=True
    )
    services.item_update(user=clerk, item=item, content="二季度收入 12 万元。")
    services.item_publish(user=clerk, item=item)
    services.item_update(user=clerk, item=item, content="三季度草稿，尚未发布")
    draft = make_item(area=tree.village, user=clerk, title="尚未发布的草稿")
    anonymous = Client()
    city = anonymous.get(reverse("opengov:public")).content.decode()
    assert tree.town.name in city  # the way down: city → towns
    town = anonymous.get(reverse("opengov:public"), {"area": tree.town.pk}).content.decode()
    assert tree.village.name in town
    village = anonymous.get(reverse("opengov:public"), {"area": tree.village.pk}).content.decode()
    assert "二季度收入 12 万元" in village and "三季度草稿" not in village and "尚未发布的草稿" not in village
    page = anonymous.get(reverse("opengov:public_item", args=[item.pk])).content.decode()
    assert "二季度收入 12 万元" in page and "一季度收入 10 万元" in page and 'data-version="1"' in page
    assert str(clerk) not in page and clerk.username not in page  # who published is not public
    assert anonymous.get(reverse("opengov:public_item", args=[draft.pk])).status_code == 404
    assert anonymous.get(reverse("opengov:public"), {"area": tree.grid.pk}).status_code == 404
    stats = anonymous.get(reverse("opengov:stats")).content.decode()
    assert 'data-testid="total">1<' in stats


def test_api_catalogue_publish_and_public(tree: Any, personas: Any) -> None:
    _t, raw = api_token_create(user=personas[Role.TOWN], name="t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    resp = api.post(
        "/api/v1/opengov/items",
        json.dumps(
            {
                "area_id": tree.village.pk,
                "domain_id": domain().pk,
                "title": "村务公开",
                "content": "内容",
                "responsible_unit": "村委会",
                "frequency_days": 30,
            }
        ),
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    item_id = resp.json()["id"]
    assert api.post(f"/api/v1/opengov/items/{item_id}/publish").json()["state"] == "published"
    updated = api.post(
        f"/api/v1/opengov/items/{item_id}/update", json.dumps({"content": "新内容"}), content_type="application/json"
    )
    assert updated.json()["has_changes"] is True
    public = Client().get(f"/api/v1/opengov/public/items?area_id={tree.village.pk}").json()
    assert [p["content"] for p in public] == ["内容"]
    bad = api.post(
        f"/api/v1/opengov/items/{item_id}/withdraw", json.dumps({"reason": ""}), content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["field"] == "reason"
    _t, raw = api_token_create(user=personas["outsider"], name="o")
    outsider = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert outsider.get(f"/api/v1/opengov/items/{item_id}").status_code == 404
    assert outsider.post(f"/api/v1/opengov/items/{item_id}/publish").status_code == 404
    assert len(Client().get("/api/v1/opengov/domains").json()) == 26
    assert Client().get("/api/v1/opengov/public/stats").json()["total"] == 1

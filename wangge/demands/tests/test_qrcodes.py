"""Grid QR codes: they decode to the resident page with the grid chosen, and print per grid."""

from __future__ import annotations

import io
from typing import Any

import pytest
import zxingcpp
from django.test import Client
from django.urls import reverse
from PIL import Image

from wangge.accounts.models import Role
from wangge.demands.qrcodes import grid_qr_png, grid_qr_svg, grid_report_url


def decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))]


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_url_is_absolute_and_names_the_grid(tree: Any, settings: Any) -> None:
    settings.WANGGE_PUBLIC_BASE_URL = "https://wangge.liuyang.example/"
    assert grid_report_url(tree.grid) == f"https://wangge.liuyang.example/demands/report/?grid={tree.grid.code}"


def test_png_decodes_to_the_report_url(tree: Any, settings: Any) -> None:
    settings.WANGGE_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    assert decode(grid_qr_png(tree.grid)) == [f"http://127.0.0.1:8000/demands/report/?grid={tree.grid.code}"]


def test_svg_is_inline_markup(tree: Any) -> None:
    svg = grid_qr_svg(tree.grid)
    assert svg.startswith("<svg") and "<path" in svg and "<?xml" not in svg


def test_grid_qr_page_for_staff_in_scope(tree: Any, personas: Any) -> None:
    url = reverse("demands:grid_qr", args=[tree.grid.pk])
    resp = login(personas[Role.GRID_LEADER]).get(url)
    assert resp.status_code == 200 and resp["Content-Type"] == "image/png"
    assert decode(resp.content)[0].endswith(f"/demands/report/?grid={tree.grid.code}")
    assert login(personas["outsider"]).get(url).status_code == 404
    assert (
        login(personas[Role.GRID_LEADER]).get(reverse("demands:grid_qr", args=[tree.sibling_grid.pk])).status_code
        == 404
    )
    assert login(personas[Role.VILLAGE]).get(reverse("demands:grid_qr", args=[tree.village.pk])).status_code == 404


def test_sheet_of_a_branch_has_one_page_per_grid(tree: Any, personas: Any) -> None:
    resp = login(personas[Role.BRANCH]).get(reverse("demands:grid_qr_sheet", args=[tree.branch.pk]))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert body.count('data-testid="qr-sheet"') == 2
    assert tree.grid.name in body and tree.sibling_grid.name in body
    assert "扫码向微网格长反映问题" in body
    assert "张建国" in body and "138****1111" in body and "13800001111" not in body
    assert "集里街道" in body and "金沙社区" in body
    assert tree.other_grid.name not in body


def test_sheet_of_a_town_is_refused_and_outsiders_get_nothing(tree: Any, personas: Any) -> None:
    resp = login(personas[Role.TOWN]).get(reverse("demands:grid_qr_sheet", args=[tree.town.pk]))
    assert resp.status_code == 400
    assert "请选择一个村（社区）或党支部" in resp.content.decode()
    assert login(personas["outsider"]).get(reverse("demands:grid_qr_sheet", args=[tree.branch.pk])).status_code == 404


@pytest.mark.parametrize("persona", [Role.GRID_LEADER, Role.VILLAGE])
def test_leaders_find_the_sheet_from_the_list(tree: Any, personas: Any, persona: str) -> None:
    body = login(personas[persona]).get(reverse("demands:list")).content.decode()
    assert reverse("demands:grid_qr_sheet", args=[personas[persona].scopes.get().area_id]) in body


def test_sheet_says_which_address_its_codes_point_to(tree: Any, personas: Any, settings: Any) -> None:
    settings.WANGGE_PUBLIC_BASE_URL = "https://wangge.liuyang.example"
    body = login(personas[Role.BRANCH]).get(reverse("demands:grid_qr_sheet", args=[tree.branch.pk])).content.decode()
    assert "本页二维码指向 https://wangge.liuyang.example" in body

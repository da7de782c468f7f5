"""The demo generator: the promised shape, valid codes, paths, counts and shapes, and working logins."""

from __future__ import annotations

import io
import random
import re
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F
from django.test import Client
from django.urls import reverse
from shapely import STRtree
from shapely.geometry import Point, shape

from wangge.accounts.management.commands.demo_logins import DEMO_LOGINS, DEMO_PASSWORD, demo_login_rows
from wangge.accounts.models import Role, User
from wangge.core.masking import decrypt, id_checksum_ok, lookup_hash
from wangge.core.phones import is_valid_phone
from wangge.registry.demo import (
    TOWN_NAMES,
    DemoPlan,
    build_demo,
    household_sizes,
    id_number,
    split_total,
    tile,
)
from wangge.registry.models import Area, CareTag, Department, Household, Level, Person
from wangge.registry.services import household_key, registry_recount

pytestmark = pytest.mark.django_db

SCALED = {"towns": 2, "villages": 6, "grids": 60, "households": 786}


def _seed(**options: Any) -> str:
    out = io.StringIO()
    options.setdefault("registry_only", True)  # the other apps' demo data have tests of their own
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def _levels() -> dict[str, int]:
    return dict(Area.objects.values_list("level").annotate(n=Count("id")).values_list("level", "n"))


def test_town_names_are_liuyangs_32() -> None:
    assert len(TOWN_NAMES) == len(set(TOWN_NAMES)) == 32
    assert sum(n.endswith("街道") for n in TOWN_NAMES) == 4


def test_small_builds_exactly_the_promised_shape_and_if_empty_keeps_it() -> None:
    out = _seed(scale="small")
    assert _levels() == {"city": 1, "town": 2, "village": 4, "branch": 8, "grid": 24}
    assert Household.objects.count() == 288
    for village in Area.objects.filter(level=Level.VILLAGE):
        assert village.children.count() == 2
    for branch in Area.objects.filter(level=Level.BRANCH):
        assert branch.children.count() == 3
    assert set(Area.objects.filter(level=Level.GRID).values_list("household_count", flat=True)) == {12}
    assert Area.objects.get(level=Level.CITY).household_count == 288
    assert {d.username for d in DEMO_LOGINS} <= set(User.objects.values_list("username", flat=True))
    assert Department.objects.filter(name="供电公司").exists()
    assert DEMO_PASSWORD in out and "demo only" in out

    again = _seed(scale="small", if_empty=True)
    assert "areas exist" in again
    assert _levels()["grid"] == 24 and Household.objects.count() == 288
    assert User.objects.count() == len(DEMO_LOGINS)


def test_seed_refuses_a_second_demo_city_without_if_empty() -> None:
    _seed(scale="small")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="already exists"):
        _seed(scale="small")


@pytest.fixture
def scaled(db: Any) -> None:
    _seed(scale="liuyang", seed=7, **SCALED)


def test_scaled_liuyang_codes_and_paths_follow_the_tree(scaled: None) -> None:
    assert _levels()["town"] == 2 and _levels()["village"] == 6 and _levels()["grid"] == 60
    widths = {Level.CITY: 6, Level.TOWN: 9, Level.VILLAGE: 12, Level.BRANCH: 14, Level.GRID: 17}
    areas = {a.pk: a for a in Area.objects.all()}
    for area in areas.values():
        assert re.fullmatch(r"\d+", area.code) and len(area.code) == widths[area.level], area.code
        parent = areas.get(area.parent_id)
        expected = (parent.path if parent else "") + area.code + "/"
        assert area.path == expected
        assert area.depth == expected.count("/") - 1
        if parent:
            assert area.code.startswith(parent.code)
    towns = Area.objects.filter(level=Level.TOWN).order_by("code")
    assert [t.name for t in towns] == ["淮川街道", "集里街道"]
    assert all(a.name.endswith(("社区", "村")) for a in Area.objects.filter(level=Level.VILLAGE))
    for grid in Area.objects.filter(level=Level.GRID).select_related("leader"):
        assert grid.leader is not None and grid.leader.is_party_member
        assert grid.path.startswith(grid.leader.area_path)


def test_scaled_liuyang_counts_equal_a_direct_count_and_no_grid_is_over_the_limit(scaled: None) -> None:
    assert Household.objects.count() == 786
    for area in Area.objects.all():
        assert area.household_count == Household.objects.filter(area_path__startswith=area.path).count(), area.name
    assert registry_recount() == 0  # nothing to correct
    per_grid = Household.objects.values("grid_id").annotate(n=Count("id"))
    assert max(row["n"] for row in per_grid) <= settings.GRID_HARD_MAX
    assert not Household.objects.exclude(area_path=F("grid__path")).exists()


def test_scaled_liuyang_households_are_plausible_and_keyed_like_the_services(scaled: None) -> None:
    households = list(Household.objects.select_related("grid", "grid__parent__parent__parent")[:300])
    with_id = [h for h in households if h.head_id_number_enc]
    assert with_id, "some heads carry an ID number"
    for h in households:
        village = h.grid.parent.parent
        town = village.parent
        assert h.address.startswith(town.name + village.name) and h.address.endswith("号") and "组" in h.address
        assert 1 <= h.members <= 7
        assert 2 <= len(h.head_name) <= 4
        assert not h.phone or is_valid_phone(h.phone)
        assert set(h.tag_list) <= set(CareTag.values)
        assert h.key == household_key(
            village_code=village.code, address=h.address, head_name=h.head_name, id_hash=h.head_id_number_hash
        )
    for h in with_id:
        plain = decrypt(h.head_id_number_enc)
        assert plain != h.head_id_number_enc and id_checksum_ok(plain)
        assert lookup_hash(plain) == h.head_id_number_hash
    leader = Person.objects.exclude(id_number_enc="").first()
    assert leader is not None and id_checksum_ok(decrypt(leader.id_number_enc))


def test_scaled_liuyang_shapes_are_valid_polygons_tiling_without_overlap(scaled: None) -> None:
    grids = list(Area.objects.filter(level=Level.GRID).select_related("parent__parent"))
    polygons = [shape(g.boundary) for g in grids]
    for grid, poly in zip(grids, polygons, strict=True):
        assert grid.boundary["type"] == "Polygon"
        assert poly.is_valid and poly.area > 0
        assert poly.contains(Point(grid.centre_lng, grid.centre_lat))
        village = shape(grid.parent.parent.boundary)
        assert village.buffer(1e-9).contains(poly)
    tree = STRtree(polygons)
    for i, poly in enumerate(polygons):
        for j in tree.query(poly):
            if j != i:
                assert poly.intersection(polygons[j]).area < 1e-12 * poly.area, (grids[i].name, grids[j].name)
    # The grids of a village cover it: point-in-polygon routing never falls into a gap.
    for village in Area.objects.filter(level=Level.VILLAGE):
        inside = [p for g, p in zip(grids, polygons, strict=True) if g.path.startswith(village.path)]
        assert sum(p.area for p in inside) == pytest.approx(shape(village.boundary).area, rel=1e-6)
    for area in Area.objects.filter(level__in=[Level.CITY, Level.TOWN, Level.VILLAGE, Level.BRANCH]):
        assert shape(area.boundary).is_valid
    lat, lng = Area.objects.get(level=Level.CITY).centre_lat, Area.objects.get(level=Level.CITY).centre_lng
    assert (lat, lng) == pytest.approx((28.15, 113.63), abs=0.01)


def test_the_generator_is_deterministic_for_a_seed() -> None:
    plan = DemoPlan(**SCALED)

    def fingerprint(seed: int) -> list[tuple[Any, ...]]:
        class Undo(Exception):
            pass

        rows: list[tuple[Any, ...]] = []
        try:
            with transaction.atomic():
                build_demo(plan, seed=seed)
                rows = list(
                    Household.objects.order_by("area_path", "address").values_list(
                        "area_path", "address", "head_name", "phone", "members", "care_tags", "head_id_number_hash"
                    )
                )
                rows += list(Area.objects.order_by("path").values_list("path", "name", "household_count"))
                raise Undo
        except Undo:
            pass
        return rows

    first = fingerprint(11)
    assert first and first == fingerprint(11)
    assert first != fingerprint(12)


def test_reference_sizes_are_mostly_advised_some_outside_never_over_30() -> None:
    sizes = household_sizes(32_000, 419_200, random.Random(2026))
    assert sum(sizes) == 419_200 and len(sizes) == 32_000
    assert max(sizes) <= 30 and min(sizes) >= 1
    advised = sum(10 <= s <= 15 for s in sizes)
    assert 0.9 * len(sizes) < advised < len(sizes)  # the "outside advised" report has something to show


def test_helpers_split_exactly_and_tile_without_gaps() -> None:
    parts = split_total(32_000, 325, random.Random(1), jitter=0.4, minimum=2)
    assert sum(parts) == 32_000 and min(parts) >= 2
    cells = tile((113.0, 28.0, 113.1, 28.1), 7)
    assert len(cells) == 7
    assert sum((e - w) * (n - s) for w, s, e, n in cells) == pytest.approx(0.01)
    assert all(id_checksum_ok(id_number(random.Random(i))) for i in range(200))


def test_every_demo_login_lands_on_its_own_area(db: Any) -> None:
    _seed(scale="small")
    other_town = Area.objects.filter(level=Level.TOWN).order_by("code").last()
    assert other_town is not None
    own = {
        "demo_grid": Level.GRID,
        "demo_branch": Level.BRANCH,
        "demo_village": Level.VILLAGE,
        "demo_town": Level.TOWN,
    }
    for login in DEMO_LOGINS:
        user = User.objects.get(username=login.username)
        client = Client()
        client.force_login(user)
        # follow=True: grid leaders are sent on to their workbench (visits app).
        body = client.get(reverse("core:home"), follow=True).content.decode()
        if login.username in own:
            area = Area.objects.get(user_scopes__user=user)
            assert area.level == own[login.username]
            assert area.name in body
            assert other_town.name not in body
        elif login.role == Role.DEPARTMENT:
            assert "供电公司" in body and other_town.name not in body
        else:
            assert "浏阳市" in body
    grid_user = User.objects.get(username="demo_grid")
    assert Person.objects.get(user=grid_user).led_areas.filter(level=Level.GRID).exists()
    # One real login through the login page, with the printed password.
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": "demo_town", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert other_town.name not in client.get(reverse("core:home")).content.decode()


def test_demo_logins_prints_only_existing_users_and_hides_changed_passwords(db: Any, settings: Any) -> None:
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    assert "no demo logins" in out.getvalue()

    _seed(scale="small")
    user = User.objects.get(username="demo_city")
    user.set_password("something-else-2026")
    user.save()
    rows = {r["username"]: r for r in demo_login_rows()}
    assert set(rows) == {d.username for d in DEMO_LOGINS}
    assert rows["demo_city"]["password"] == "(changed)"
    assert rows["demo_town"]["password"] == DEMO_PASSWORD
    assert rows["demo_town"]["role_zh"] == "乡镇（街道）工作人员" and rows["demo_town"]["role_en"] == "Town staff"
    assert rows["demo_dept"]["scope"] == "供电公司"

    out = io.StringIO()
    settings.WANGGE_PUBLIC_BASE_URL = "http://192.0.2.10:8765"  # printed at the address the demo serves on
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert "http://192.0.2.10:8765/accounts/login/" in text
    assert "demo_grid" in text and "(changed)" in text


def test_seed_demo_runs_every_app_hook(settings: Any) -> None:
    """Without --registry-only each app's demo hook runs once on the demo city."""
    calls: list[str] = []
    settings.WANGGE_DEMO_HOOKS = ["wangge.registry.tests.test_demo._record_hook"]
    _RECORDED.clear()
    _seed(scale="small", registry_only=False)
    calls.extend(_RECORDED)
    assert calls == ["430181"]


_RECORDED: list[str] = []


def _record_hook(city: Any) -> dict[str, int]:
    _RECORDED.append(city.code)
    return {"called": 1}

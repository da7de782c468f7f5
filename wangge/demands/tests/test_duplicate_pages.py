"""The report page asks for demands nearby that look the same before it makes a new one; the resident follows
one of them or still adds theirs. The staff page offers the same demands as a one-click merge."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.demands import forms as f
from wangge.demands import routing, services
from wangge.demands.models import Demand, DemandFollower, State
from wangge.demands.testing import make_demand
from wangge.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db

FIRST = "13900000001"
SECOND = "13912345678"
FIRST_WORDS = "文化广场路灯不亮，晚上一片漆黑，老人散步很危险。"
SAME_WORDS = "文化广场的路灯不亮，晚上一片漆黑，请派人修一下。"


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WANGGE_REPORT_RATE = "100/h"
    settings.WANGGE_FOLLOW_RATE = "100/h"
    settings.WANGGE_TRACK_RATE = "100/h"
    cache.clear()
    yield
    cache.clear()
    routing.clear_cache()


def first_report(tree: Any, **overrides: Any) -> Demand:
    data = {
        "title": f.make_title(FIRST_WORDS),
        "description": FIRST_WORDS,
        "reporter_phone": FIRST,
        "reporter_name": "赵六",
    }
    data.update(overrides)
    return make_demand(grid=tree.grid, **data)


def report_data(tree: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "phone": SECOND,
        "name": "王五",
        "description": SAME_WORDS,
        "grid": tree.sibling_grid.code,  # a neighbouring grid of the same village
        "kind": "help",
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def follow_values(body: str) -> list[str]:
    return re.findall(r'name="follow" value="([^"]+)"', body)


def test_same_problem_nearby_is_offered_before_a_new_demand_is_made(tree: Any) -> None:
    first = first_report(tree)
    resp = Client().post(reverse("demands:report"), report_data(tree))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert 'data-testid="duplicates"' in body and "已有居民反映过相同问题" in body
    assert first.code in body and first.get_state_display() in body
    # No personal data of the first resident: not their phone (even masked), name or words: they did
    # not agree to publish them, so the offer reads as the public does (demands.public).
    assert FIRST not in body and "139****0001" not in body and "赵六" not in body
    assert first.title not in body and "反映了一件" in body
    # What was typed is kept, and the resident can still add theirs.
    assert SAME_WORDS in body and 'value="王五"' in body and 'name="add_anyway"' in body
    assert len(follow_values(body)) == 1
    assert Demand.objects.count() == 1


def test_follow_path_sends_the_resident_to_their_own_tracking_page(tree: Any, personas: Any) -> None:
    first = first_report(tree)
    client = Client()
    offer = follow_values(client.post(reverse("demands:report"), report_data(tree)).content.decode())[0]
    resp = client.post(reverse("demands:report"), {**report_data(tree), "follow": offer})
    follower = DemandFollower.objects.get()
    assert follower.demand == first and follower.phone == SECOND
    assert resp.status_code == 302
    assert resp["Location"] == reverse("demands:follow_track", args=[follower.token]) + "?new=1"
    assert Demand.objects.count() == 1  # no duplicate was filed

    page = client.get(resp["Location"])
    body = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store, private"
    assert first.code in body and 'data-state="submitted"' in body and 'data-testid="followed"' in body
    assert FIRST not in body and "赵六" not in body and "13900000001" not in body  # public parts only
    assert 'data-testid="rate"' not in body and "rate-satisfaction" not in body  # the reporter rates, not followers

    # A public comment by the follower's token.
    resp = client.post(reverse("demands:follow_track", args=[follower.token]), {"comment-body": "我家楼下也不亮"})
    assert resp.status_code == 302
    assert first.events.filter(action="comment", follower=follower, is_public=True).exists()

    # Resolved: the follower is told and sees it on their page.
    services.demand_resolve(demand=first, actor=personas[Role.GRID_LEADER], result="已更换灯泡")
    assert OutboxMessage.objects.filter(recipient=SECOND, kind="demand.follower.resolved").count() == 1
    body = client.get(reverse("demands:follow_track", args=[follower.token])).content.decode()
    assert 'data-state="resolved"' in body and "已更换灯泡" in body


def test_add_yours_path_files_the_demand_as_before(tree: Any) -> None:
    first_report(tree)
    client = Client()
    data = report_data(tree)
    assert client.post(reverse("demands:report"), data).status_code == 200
    resp = client.post(reverse("demands:report"), {**data, "add_anyway": "1"})
    assert resp.status_code == 302
    mine = Demand.objects.exclude(reporter_phone=FIRST).get()
    assert mine.description == SAME_WORDS and mine.reporter_phone == SECOND and mine.reporter_name == "王五"
    assert mine.area == tree.sibling_grid and mine.state == State.SUBMITTED
    assert resp["Location"] == reverse("demands:track", args=[mine.tracking_token]) + "?new=1"
    assert not DemandFollower.objects.exists()


def test_nothing_similar_files_at_once(tree: Any) -> None:
    first_report(tree)
    resp = Client().post(reverse("demands:report"), report_data(tree, description="孩子今年上小学，想咨询入学报名材料"))
    assert resp.status_code == 302 and Demand.objects.count() == 2


def test_a_forged_or_altered_offer_follows_nothing(tree: Any) -> None:
    first = first_report(tree)
    other = first_report(tree, reporter_phone="13900000009")
    client = Client()
    offer = follow_values(client.post(reverse("demands:report"), report_data(tree)).content.decode())[0]
    forged = offer.replace(str(first.pk), str(other.pk), 1) if offer.startswith(str(first.pk)) else "1:abc:def"
    for value in (forged, str(first.pk), "x"):
        resp = client.post(reverse("demands:report"), {**report_data(tree), "follow": value})
        assert resp.status_code == 400
        assert "该提示已过期" in resp.content.decode()
    assert not DemandFollower.objects.exists()
    assert f.follow_offer_pk(f.follow_offer(first.pk)) == first.pk


def test_follow_needs_a_valid_phone_and_keeps_what_was_typed(tree: Any) -> None:
    first_report(tree)
    client = Client()
    offer = follow_values(client.post(reverse("demands:report"), report_data(tree)).content.decode())[0]
    resp = client.post(reverse("demands:report"), {**report_data(tree, phone="12345"), "follow": offer})
    body = resp.content.decode()
    assert resp.status_code == 400 and "电话号码格式不正确" in body and SAME_WORDS in body
    assert not DemandFollower.objects.exists()


def test_follow_is_rate_limited_like_the_report_page(tree: Any, settings: Any) -> None:
    settings.WANGGE_FOLLOW_RATE = "1/h"
    first_report(tree)
    client = Client()
    offer = follow_values(client.post(reverse("demands:report"), report_data(tree)).content.decode())[0]
    assert client.post(reverse("demands:report"), {**report_data(tree), "follow": offer}).status_code == 302
    resp = client.post(reverse("demands:report"), {**report_data(tree, phone="13900000008"), "follow": offer})
    assert resp.status_code == 429 and "提交太频繁" in resp.content.decode()
    assert DemandFollower.objects.count() == 1


def test_a_merged_reporter_finds_the_demand_they_now_follow(tree: Any, personas: Any) -> None:
    first = first_report(tree)
    dup = make_demand(grid=tree.grid, title=f.make_title(SAME_WORDS), description=SAME_WORDS, reporter_phone=SECOND)
    services.demand_merge(demand=dup, actor=personas[Role.GRID_LEADER], into=first)
    follower = DemandFollower.objects.get(demand=first, phone=SECOND)
    body = Client().get(reverse("demands:track", args=[dup.tracking_token])).content.decode()
    assert 'data-testid="moved"' in body and reverse("demands:follow_track", args=[follower.token]) in body


def test_staff_see_possible_duplicates_and_merge_in_one_click(tree: Any, personas: Any) -> None:
    first = first_report(tree)
    dup = make_demand(grid=tree.grid, title=f.make_title(SAME_WORDS), description=SAME_WORDS, reporter_phone=SECOND)
    elsewhere = make_demand(grid=tree.other_grid, title=f.make_title(FIRST_WORDS), description=FIRST_WORDS)
    client = Client()
    client.force_login(personas[Role.GRID_LEADER])
    body = client.get(reverse("demands:detail", args=[dup.pk])).content.decode()
    panel = body.split('data-testid="duplicates"', 1)[1].split("</article>", 1)[0]
    assert first.code in panel and elsewhere.code not in panel and 'data-testid="merge-into"' in panel
    resp = client.post(
        reverse("demands:move", args=[dup.pk, "merge"]), {"merge-version": dup.version, "merge-into": first.code}
    )
    assert resp.status_code == 302
    dup.refresh_from_db()
    assert dup.state == State.MERGED and dup.merged_into == first
    assert DemandFollower.objects.filter(demand=first, phone=SECOND).exists()
    # The first demand's page now shows its follower, masked.
    body = client.get(reverse("demands:detail", args=[first.pk])).content.decode()
    assert 'data-testid="followers"' in body and "139****5678" in body and SECOND not in body


def test_auditors_see_duplicates_but_cannot_merge(tree: Any, personas: Any) -> None:
    first_report(tree)
    dup = make_demand(grid=tree.grid, title=f.make_title(SAME_WORDS), description=SAME_WORDS)
    client = Client()
    client.force_login(personas[Role.AUDITOR])
    body = client.get(reverse("demands:detail", args=[dup.pk])).content.decode()
    assert 'data-testid="duplicates"' in body and 'data-testid="merge-into"' not in body


def test_the_one_click_merge_goes_into_the_earlier_demand_only(tree: Any, personas: Any) -> None:
    first = first_report(tree)
    later = make_demand(grid=tree.grid, title=f.make_title(SAME_WORDS), description=SAME_WORDS)
    client = Client()
    client.force_login(personas[Role.GRID_LEADER])
    body = client.get(reverse("demands:detail", args=[first.pk])).content.decode()
    panel = body.split('data-testid="duplicates"', 1)[1].split("</article>", 1)[0]
    assert later.code in panel and 'data-testid="merge-into"' not in panel


# --- issue 14: a paraphrase 40 m away, offered with its place and distance, nearest first ----------

PARAPHRASE = "东门那个井盖丢了，路过容易踩空"
OPEN_DEMAND = "龙湖小区东门的井盖不见了，晚上很危险"
LAT, LNG = 28.2000, 112.9000
DEGREES_PER_M = 1 / 111_195  # of latitude


def open_manhole(tree: Any, *, metres: float, words: str = OPEN_DEMAND, **overrides: Any) -> Demand:
    return make_demand(
        grid=tree.grid,
        title=f.make_title(words),
        description=words,
        lat=LAT + metres * DEGREES_PER_M,
        lng=LNG,
        address="龙湖路88号龙湖小区东门",
        reporter_name="赵六",
        reporter_phone=FIRST,
        publish_consent=True,
        **overrides,
    )


def test_a_paraphrase_is_offered_with_place_and_distance_nearest_first(tree: Any) -> None:
    near = open_manhole(tree, metres=40)
    # Said in the very words of the resident (a better text match), but 450 m away.
    far = open_manhole(tree, metres=450, words=PARAPHRASE)
    data = report_data(tree, description=PARAPHRASE, grid=tree.grid.code, lat=LAT, lng=LNG)
    body = Client().post(reverse("demands:report"), data).content.decode()
    offers = re.findall(r'data-testid="offer" data-code="([^"]+)"', body)
    assert offers == [near.code, far.code]  # nearest first
    distances = re.findall(r'data-testid="offer-distance" data-metres="(\d+)">([^<]+)<', body)
    assert distances == [("100", "相距 100 米以内"), ("500", "相距约 500 米")]  # in 100 m steps, never the door
    places = re.findall(r'data-testid="offer-place">([^<]*)<', body)
    assert places and all(p.startswith(tree.village.name) and "龙湖路" in p for p in places)
    assert "88号" not in body and "赵六" not in body and FIRST not in body
    assert Demand.objects.count() == 2


def test_staff_see_the_paraphrase_and_only_holders_merge_it(tree: Any, personas: Any) -> None:
    first = open_manhole(tree, metres=40)
    dup = make_demand(
        grid=tree.grid, title=f.make_title(PARAPHRASE), description=PARAPHRASE, lat=LAT, lng=LNG, reporter_phone=SECOND
    )
    merge = {"merge-version": dup.version, "merge-into": first.code}
    url = reverse("demands:move", args=[dup.pk, "merge"])
    for who in (Role.AUDITOR, "outsider"):  # reads, but may not merge; outside the scope, sees nothing
        client = Client()
        client.force_login(personas[who])
        client.post(url, merge)
        dup.refresh_from_db()
        assert dup.state != State.MERGED and dup.merged_into is None
    client = Client()
    client.force_login(personas[Role.GRID_LEADER])
    body = client.get(reverse("demands:detail", args=[dup.pk])).content.decode()
    panel = body.split('data-testid="duplicates"', 1)[1].split("</article>", 1)[0]
    assert first.code in panel and "相距约 40 米" in panel and 'data-testid="merge-into"' in panel
    assert client.post(url, merge).status_code == 302
    dup.refresh_from_db()
    assert dup.state == State.MERGED and dup.merged_into == first
    assert DemandFollower.objects.filter(demand=first, phone=SECOND).exists()

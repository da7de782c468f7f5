"""Verification (核查) on the pages and the API: the queue, the panel, both moves, their errors, the landing links."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.demands import services
from wangge.demands.models import Demand, DemandEvent, DemandPhoto, State
from wangge.demands.testing import make_category, make_demand
from wangge.notifications.models import OutboxMessage
from wangge.registry.testing import make_user

pytestmark = pytest.mark.django_db


def photo(name: str = "site.jpg") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (40, 160, 40)).save(buf, format="JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def snapshot() -> tuple[int, int, int]:
    return DemandEvent.objects.count(), DemandPhoto.objects.count(), OutboxMessage.objects.count()


@pytest.fixture
def waiting(tree: Any, personas: Any) -> Demand:
    """A safety hazard the branch resolved (with a photo), waiting for the grid leader or a supervisor."""
    d = make_demand(grid=tree.grid, category=make_category(name="安全隐患", needs_verification=True))
    d = services.demand_escalate(demand=d, actor=personas[Role.GRID_LEADER], reason="需要支部协调")
    d = services.demand_resolve(demand=d, actor=personas[Role.BRANCH], result="护栏已加固", photos=[photo("fix.jpg")])
    assert d.state == State.VERIFYING
    return d


@pytest.fixture
def supervisor(tree: Any) -> Any:
    return make_user(role=Role.SUPERVISOR, areas=[tree.town], username="sup_town")


def test_the_queue_lists_what_waits_for_me_and_nothing_for_others(
    waiting: Demand, personas: Any, supervisor: Any
) -> None:
    url = reverse("demands:verify_queue")
    for user in (personas[Role.GRID_LEADER], supervisor):
        page = login(user).get(url).content.decode()
        assert f'data-code="{waiting.code}"' in page
    for user in (personas[Role.BRANCH], personas[Role.TOWN], personas["outsider"]):
        page = login(user).get(url).content.decode()
        assert waiting.code not in page and 'data-testid="verify-queue-empty"' in page


def test_landing_pages_link_the_queue_with_its_count(waiting: Demand, personas: Any, supervisor: Any) -> None:
    # The grid leader lands on the workbench, the supervisor on the staff home page.
    bench = login(personas[Role.GRID_LEADER]).get(reverse("core:home"), follow=True).content.decode()
    home = login(supervisor).get(reverse("core:home")).content.decode()
    for page in (bench, home):
        link = re.search(r'<a href="([^"]+)"[^>]*data-testid="verify-queue-link" data-count="(\d+)"', page)
        assert link is not None and link.groups() == (reverse("demands:verify_queue"), "1")
    town_home = login(personas[Role.TOWN]).get(reverse("core:home")).content.decode()
    assert "verify-queue-link" not in town_home


def test_the_panel_shows_the_answer_and_offers_the_verifier_both_moves(
    waiting: Demand, personas: Any, supervisor: Any
) -> None:
    page = login(supervisor).get(reverse("demands:detail", args=[waiting.pk])).content.decode()
    panel = page[page.index('data-testid="verify-panel"') :]
    assert "护栏已加固" in panel and 'data-testid="verify-answer"' in panel and "<img" in panel
    assert 'name="verify-photos" accept="image/*" capture="environment"' in panel
    assert 'data-testid="verify-back-submit"' in panel
    # The holder sees the panel (what waits) without the verifier's forms.
    holder_page = login(personas[Role.BRANCH]).get(reverse("demands:detail", args=[waiting.pk])).content.decode()
    assert 'data-testid="verify-panel"' in holder_page and 'data-testid="verify-submit"' not in holder_page


def test_confirming_without_a_photo_is_refused_next_to_the_field(waiting: Demand, supervisor: Any) -> None:
    before = snapshot()
    resp = login(supervisor).post(
        reverse("demands:move", args=[waiting.pk, "verify"]),
        {"verify-version": waiting.version, "verify-note": "看过了"},
    )
    assert resp.status_code == 400
    errors = re.findall(r'data-testid="error-photos">([^<]*)<', resp.content.decode())
    assert errors and "photo" in errors[0]
    assert snapshot() == before and Demand.objects.get(pk=waiting.pk).state == State.VERIFYING


def test_send_back_then_confirm_through_the_pages(waiting: Demand, personas: Any, supervisor: Any) -> None:
    leader = login(personas[Role.GRID_LEADER])
    refused = leader.post(
        reverse("demands:move", args=[waiting.pk, "verify_back"]), {"verify_back-version": waiting.version}
    )
    assert refused.status_code == 400 and 'data-testid="error-reason"' in refused.content.decode()
    resp = leader.post(
        reverse("demands:move", args=[waiting.pk, "verify_back"]),
        {"verify_back-version": waiting.version, "verify_back-reason": "护栏仍然松动"},
    )
    assert resp.status_code == 302
    d = Demand.objects.get(pk=waiting.pk)
    assert d.state == State.IN_PROGRESS and d.holder_user == personas[Role.BRANCH]
    # The stale page of the other verifier gets the conflict, not a second move.
    stale = login(supervisor).post(
        reverse("demands:move", args=[waiting.pk, "verify_back"]),
        {"verify_back-version": waiting.version, "verify_back-reason": "也不行"},
    )
    assert stale.status_code == 409
    d = services.demand_resolve(demand=d, actor=personas[Role.BRANCH], result="护栏已重新焊接")
    resp = login(supervisor).post(
        reverse("demands:move", args=[d.pk, "verify"]),
        {"verify-version": d.version, "verify-note": "牢固", "verify-photos": [photo()]},
    )
    assert resp.status_code == 302
    d.refresh_from_db()
    assert d.state == State.RESOLVED and d.events.get(action="verify").attachments.count() == 1
    timeline = login(personas[Role.BRANCH]).get(reverse("demands:detail", args=[d.pk])).content.decode()
    assert 'data-action="verify_back"' in timeline and 'data-action="verify"' in timeline


def test_the_holder_cannot_post_the_verifiers_moves(waiting: Demand, personas: Any) -> None:
    before = snapshot()
    resp = login(personas[Role.BRANCH]).post(
        reverse("demands:move", args=[waiting.pk, "verify"]),
        {"verify-version": waiting.version, "verify-photos": [photo()]},
    )
    assert resp.status_code == 403 and snapshot() == before


# --- API ------------------------------------------------------------------------------------


def bearer(user: Any) -> Client:
    _token, raw = api_token_create(user=user, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_api_queue_verify_back_and_verify(waiting: Demand, personas: Any, supervisor: Any) -> None:
    api = bearer(supervisor)
    queue = api.get("/api/v1/verify-queue")
    assert queue.status_code == 200 and [d["code"] for d in queue.json()["items"]] == [waiting.code]
    assert bearer(personas[Role.TOWN]).get("/api/v1/verify-queue").json()["items"] == []
    no_photo = api.post(f"/api/v1/demands/{waiting.pk}/verify", {"note": "看过", "version": waiting.version})
    assert no_photo.status_code == 400 and no_photo.json()["field"] == "photos"
    back = api.post(
        f"/api/v1/demands/{waiting.pk}/verify-back",
        json.dumps({"reason": "未整改", "version": waiting.version}),
        content_type="application/json",
    )
    assert back.status_code == 200 and back.json()["state"] == "in_progress"
    d = services.demand_resolve(demand=waiting, actor=personas[Role.BRANCH], result="已整改")
    stale = api.post(f"/api/v1/demands/{d.pk}/verify", {"version": waiting.version, "photos": [photo()]})
    assert stale.status_code == 409
    ok = api.post(f"/api/v1/demands/{d.pk}/verify", {"note": "现场核实", "version": d.version, "photos": [photo()]})
    assert ok.status_code == 200, ok.content
    assert ok.json()["state"] == "resolved" and ok.json()["verified_at"]
    assert Demand.objects.get(pk=d.pk).events.get(action="verify").attachments.count() == 1


def test_api_the_resolver_may_not_verify(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    d = make_demand(grid=tree.grid, category=make_category(needs_verification=True))
    d = services.demand_resolve(demand=d, actor=leader, result="自己修好了")
    resp = bearer(leader).post(f"/api/v1/demands/{d.pk}/verify", {"version": d.version, "photos": [photo()]})
    assert resp.status_code == 403 and resp.json()["code"] == "own_work"


def test_the_category_admin_edits_the_verification_flag(db: Any) -> None:
    from wangge.accounts.models import User

    admin = User.objects.create_superuser("root", password="x")
    category = make_category()
    client = login(admin)
    page = client.get(reverse("admin:demands_category_changelist")).content.decode()
    assert 'name="form-0-needs_verification"' in page
    form = client.get(reverse("admin:demands_category_change", args=[category.pk])).content.decode()
    assert 'name="needs_verification"' in form

"""The administrators' outbox page and the back office: city administrators see their city only, others nobody."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wangge.accounts.models import Role, User
from wangge.notifications.models import OutboxMessage, State
from wangge.notifications.services import outbox_deliver_due
from wangge.notifications.testing import make_message

pytestmark = pytest.mark.django_db

OTHER_CITY = "430102/430102100/"


@pytest.fixture
def boxes(tree: Any, personas: Any) -> dict[str, OutboxMessage]:
    inside = make_message(area_path=tree.grid.path, subject="本市网格通知", body="樟树枯死", recipient="13800001111")
    other_town = make_message(area_path=tree.other_grid.path, subject="本市另一街道通知")
    outbox_deliver_due()
    dead = make_message(area_path=tree.village.path, subject="发送失败的通知")
    OutboxMessage.objects.filter(pk=dead.pk).update(state=State.DEAD, attempts=8, last_error="HTTP 500: boom")
    elsewhere = make_message(area_path=OTHER_CITY, subject="外市通知")
    nowhere = make_message(area_path="", subject="无区域系统通知")
    return {"inside": inside, "other_town": other_town, "dead": dead, "elsewhere": elsewhere, "nowhere": nowhere}


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_city_administrator_sees_the_whole_city_and_nothing_else(personas: Any, boxes: Any) -> None:
    body = _client(personas[Role.CITY_ADMIN]).get(reverse("notifications:outbox")).content.decode()
    assert "本市网格通知" in body and "本市另一街道通知" in body and "发送失败的通知" in body
    assert "外市通知" not in body and "无区域系统通知" not in body
    assert "138****1111" in body and "13800001111" not in body  # phones are masked on the list


def test_a_superuser_sees_every_message(boxes: Any) -> None:
    root = User.objects.create_superuser("root", "root@example.org", "pass-12345678")
    body = _client(root).get(reverse("notifications:outbox")).content.decode()
    assert "外市通知" in body and "无区域系统通知" in body


@pytest.mark.parametrize("role", [Role.GRID_LEADER, Role.VILLAGE, Role.TOWN, Role.DEPARTMENT, Role.AUDITOR, "outsider"])
def test_everyone_else_is_refused(personas: Any, boxes: Any, role: str) -> None:
    client = _client(personas[role])
    resp = client.get(reverse("notifications:outbox"))
    assert resp.status_code == 403
    assert "本市网格通知" not in resp.content.decode()
    resp = client.get(reverse("notifications:message", kwargs={"pk": boxes["inside"].pk}))
    assert resp.status_code == 403
    resp = client.post(reverse("notifications:message", kwargs={"pk": boxes["dead"].pk}), {"action": "retry"})
    assert resp.status_code == 403
    assert OutboxMessage.objects.get(pk=boxes["dead"].pk).state == State.DEAD


def test_anonymous_goes_to_login(boxes: Any) -> None:
    resp = Client().get(reverse("notifications:outbox"))
    assert resp.status_code == 302 and reverse("accounts:login") in resp["Location"]


def test_state_filter_and_failures_stand_out(personas: Any, boxes: Any) -> None:
    client = _client(personas[Role.CITY_ADMIN])
    body = client.get(reverse("notifications:outbox"), {"state": "dead"}).content.decode()
    assert "发送失败的通知" in body and "本市网格通知" not in body
    assert 'class="trouble"' in body and "HTTP 500: boom" in body
    assert f'data-testid="retry-{boxes["dead"].pk}"' in body
    # An unknown state is ignored rather than an error.
    assert client.get(reverse("notifications:outbox"), {"state": "nonsense"}).status_code == 200


def test_htmx_gets_only_the_table(personas: Any, boxes: Any) -> None:
    resp = _client(personas[Role.CITY_ADMIN]).get(
        reverse("notifications:outbox"), {"state": "sent"}, HTTP_HX_REQUEST="true"
    )
    body = resp.content.decode()
    assert 'data-testid="outbox-table"' in body and "<html" not in body
    assert "本市网格通知" in body


def test_detail_shows_the_attempts_and_stays_in_scope(personas: Any, boxes: Any) -> None:
    client = _client(personas[Role.CITY_ADMIN])
    body = client.get(reverse("notifications:message", kwargs={"pk": boxes["inside"].pk})).content.decode()
    assert "樟树枯死" in body and 'data-testid="attempts"' in body and "ms</td>" in body
    assert client.get(reverse("notifications:message", kwargs={"pk": boxes["elsewhere"].pk})).status_code == 404
    assert client.get(reverse("notifications:message", kwargs={"pk": 999999})).status_code == 404


def test_a_city_administrator_retries_a_dead_message(personas: Any, boxes: Any) -> None:
    client = _client(personas[Role.CITY_ADMIN])
    url = reverse("notifications:message", kwargs={"pk": boxes["dead"].pk})
    resp = client.post(url, {"action": "retry", "next": reverse("notifications:outbox") + "?state=dead"})
    assert resp.status_code == 302 and resp["Location"].endswith("?state=dead")
    m = OutboxMessage.objects.get(pk=boxes["dead"].pk)
    assert m.state == State.PENDING and m.attempts == 0
    # Retrying a message that is not dead or failed is a clear conflict, not a crash.
    resp = client.post(url, {"action": "retry"})
    assert resp.status_code == 409
    # Outside the city: not found, and untouched.
    OutboxMessage.objects.filter(pk=boxes["elsewhere"].pk).update(state=State.DEAD)
    resp = client.post(reverse("notifications:message", kwargs={"pk": boxes["elsewhere"].pk}), {"action": "retry"})
    assert resp.status_code == 404
    assert OutboxMessage.objects.get(pk=boxes["elsewhere"].pk).state == State.DEAD
    # An off-site `next` is not followed.
    OutboxMessage.objects.filter(pk=boxes["dead"].pk).update(state=State.DEAD)
    resp = client.post(url, {"action": "retry", "next": "https://evil.example/"})
    assert resp["Location"] == url


def test_the_list_page_costs_the_same_queries_whatever_its_size(personas: Any, tree: Any) -> None:
    client = _client(personas[Role.CITY_ADMIN])
    url = reverse("notifications:outbox")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    make_message(area_path=tree.grid.path)
    outbox_deliver_due()
    small = queries()
    for _ in range(20):
        make_message(area_path=tree.grid.path)
    outbox_deliver_due()
    assert queries() == small


def test_the_back_office_list_is_read_only_and_scoped(personas: Any, boxes: Any) -> None:
    admin_user = personas[Role.CITY_ADMIN]
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    admin_user.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    client = _client(admin_user)
    body = client.get(reverse("admin:notifications_outboxmessage_changelist")).content.decode()
    assert "本市网格通知" in body and "外市通知" not in body
    assert "138****1111" in body and "13800001111" not in body
    resp = client.get(reverse("admin:notifications_outboxmessage_change", args=[boxes["elsewhere"].pk]))
    assert resp.status_code in (302, 404)  # Django's admin redirects a missing object to the index
    assert (
        reverse("admin:notifications_outboxmessage_add")
        and client.get(reverse("admin:notifications_outboxmessage_add")).status_code == 403
    )
    # The requeue action goes through outbox_retry.
    resp = client.post(
        reverse("admin:notifications_outboxmessage_changelist"),
        {"action": "retry_selected", "_selected_action": [boxes["dead"].pk]},
    )
    assert resp.status_code == 302
    assert OutboxMessage.objects.get(pk=boxes["dead"].pk).state == State.PENDING

"""The disclosure catalogue: who edits what, versions on every publish, withdrawal, the overdue sweep."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from wangge.accounts.models import Role
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.notifications.models import OutboxMessage
from wangge.opengov import selectors, services
from wangge.opengov.demo import DOMAINS, seed_domains
from wangge.opengov.models import DisclosureAttachment, DisclosureDomain, DisclosureItem, DisclosureVersion, ItemState
from wangge.opengov.testing import domain, make_editor, make_item, pdf
from wangge.registry.testing import make_user

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Liuyang


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def _bilingual(error: Any, field: str) -> None:
    assert error.value.field == field
    assert error.value.zh and error.value.en and error.value.zh != error.value.en


def test_the_reference_city_has_exactly_26_unique_domains() -> None:
    assert len(DOMAINS) == 26 == len(set(DOMAINS))
    assert seed_domains() == 26
    assert seed_domains() == 0  # a second run adds nothing
    assert DisclosureDomain.objects.count() == 26
    assert {"财政预决算", "社会救助", "国有土地上房屋征收", "政务服务"} <= set(
        DisclosureDomain.objects.values_list("name", flat=True)
    )


def test_village_staff_edit_their_village_town_staff_their_town_and_villages_the_city_all(
    tree: Any, personas: Any
) -> None:
    allowed = {
        tree.village: [Role.VILLAGE, Role.TOWN, Role.CITY_ADMIN],
        tree.town: [Role.TOWN, Role.CITY_ADMIN],
        tree.city: [Role.CITY_ADMIN],
        tree.other_village: [Role.CITY_ADMIN, "outsider"],
    }
    everyone = [
        Role.GRID_LEADER,
        Role.BRANCH,
        Role.VILLAGE,
        Role.TOWN,
        Role.DEPARTMENT,
        Role.CITY_ADMIN,
        Role.AUDITOR,
        "outsider",
    ]
    for area, roles in allowed.items():
        for who in everyone:
            if who in roles:
                make_item(area=area, user=personas[who])
            else:
                with pytest.raises(PermissionDenied) as error:
                    make_item(area=area, user=personas[who])
                _bilingual(error, "area")
    assert DisclosureItem.objects.count() == 8


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"content": ""}, "content"),
        ({"responsible_unit": ""}, "responsible_unit"),
        ({"frequency_days": 7}, "frequency_days"),
        ({"title": "标" * 201}, "title"),
    ],
)
def test_refusals_name_the_field_and_write_nothing(tree: Any, overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        make_item(area=tree.village, **overrides)
    _bilingual(error, field)
    assert not DisclosureItem.objects.exists()


def test_an_item_belongs_to_a_city_town_or_village(tree: Any) -> None:
    with pytest.raises(ValidationFailed) as error:
        make_item(area=tree.grid, user=make_user(role=Role.CITY_ADMIN, areas=[tree.city]))
    _bilingual(error, "area")


def test_a_bad_attachment_among_good_ones_leaves_nothing_behind(tree: Any) -> None:
    disguised = SimpleUploadedFile("名单.pdf", b"MZ\x90\x00 this is an executable", "application/pdf")
    with pytest.raises(ValidationFailed) as error:
        make_item(area=tree.village, attachments=[pdf(), disguised])
    _bilingual(error, "attachments")
    with pytest.raises(ValidationFailed):
        make_item(area=tree.village, attachments=[SimpleUploadedFile("run.exe", b"MZ", "application/octet-stream")])
    assert not DisclosureItem.objects.exists() and not DisclosureAttachment.objects.exists()
    item = make_item(area=tree.village, attachments=[pdf("补贴名单.pdf")])
    assert item.attachments.get().name == "补贴名单.pdf"


def test_publishing_keeps_every_version_and_the_public_sees_only_published_ones(tree: Any) -> None:
    editor = make_editor(tree.village)
    with time_machine.travel(T0, tick=False) as clock:
        item = make_item(area=tree.village, user=editor, content="第一季度收入 10 万元。", frequency_days=90)
        assert item.state == ItemState.DRAFT
        with pytest.raises(NotFound):
            selectors.public_item(pk=item.pk)
        v1 = services.item_publish(user=editor, item=item)
        assert (v1.number, v1.on_time) == (1, None)
        assert item.next_due_at == T0 + dt.timedelta(days=90)
        clock.move_to(T0 + dt.timedelta(days=30))
        services.item_update(user=editor, item=item, content="第二季度收入 12 万元。")
        public = selectors.public_item(pk=item.pk)
        assert public.current.content == "第一季度收入 10 万元。"  # the edit is not public yet
        assert item.has_changes
        v2 = services.item_publish(user=editor, item=item)
    assert (v2.number, v2.on_time) == (2, True)
    public = selectors.public_item(pk=item.pk)
    assert public.current.content == "第二季度收入 12 万元。"
    assert [v.content for v in public.history] == ["第一季度收入 10 万元。"]
    assert DisclosureVersion.objects.filter(item=item).count() == 2


def test_withdrawing_needs_a_reason_and_hides_the_item(tree: Any) -> None:
    item = make_item(area=tree.town, publish=True)
    editor = make_editor(tree.town)
    with pytest.raises(ValidationFailed) as error:
        services.item_withdraw(user=editor, item=item, reason="")
    _bilingual(error, "reason")
    services.item_withdraw(user=editor, item=item, reason="内容涉及个人隐私，整改后重新发布")
    assert item.state == ItemState.WITHDRAWN and item.next_due_at is None
    with pytest.raises(NotFound):
        selectors.public_item(pk=item.pk)
    assert item.versions.count() == 1  # the history is kept
    with pytest.raises(ValidationFailed) as error:
        services.item_withdraw(user=editor, item=item, reason="再次撤回")
    _bilingual(error, "state")


def test_two_editors_at_once_give_one_winner(tree: Any) -> None:
    item = make_item(area=tree.village)
    stale = DisclosureItem.objects.get(pk=item.pk)
    services.item_update(user=make_editor(tree.village), item=item, title="村级财务收支公开（一季度）")
    with pytest.raises(Conflict):
        services.item_update(user=make_editor(tree.town), item=stale, title="另一个标题")
    item.refresh_from_db()
    assert item.title == "村级财务收支公开（一季度）"


def test_the_sweep_flags_an_overdue_item_once_and_tells_its_level(tree: Any, personas: Any) -> None:
    clerk = personas[Role.VILLAGE]  # the village's only staff member
    with time_machine.travel(T0, tick=False):
        monthly = make_item(area=tree.village, user=clerk, publish=True, frequency_days=30, title="村级财务收支月报")
        standing = make_item(area=tree.village, user=clerk, publish=True, frequency_days=0)
        make_item(area=tree.village, user=clerk, frequency_days=1)  # a draft is never overdue
    assert standing.next_due_at is None
    assert services.disclosure_flag_overdue(now=T0 + dt.timedelta(days=29)) == 0
    later = T0 + dt.timedelta(days=31)
    assert services.disclosure_flag_overdue(now=later) == 1
    assert services.disclosure_flag_overdue(now=later + dt.timedelta(hours=1)) == 0  # idempotent
    monthly.refresh_from_db()
    assert monthly.overdue_since == later
    messages = OutboxMessage.objects.filter(kind="opengov.overdue")
    assert list(messages.values_list("recipient", flat=True)) == [f"user:{clerk.pk}"]
    assert "村级财务收支月报" in messages.get().body and messages.get().area_path == tree.village.path
    # Told in Chinese from the catalogue, whatever language the sweep runs in.
    assert messages.get().subject == "政务公开事项逾期未更新"
    assert "「村级财务收支月报」" in messages.get().body and "已逾期 1 天" in messages.get().body
    # Publishing the update clears the flag, and the next lapse is flagged (and told) again.
    with time_machine.travel(later + dt.timedelta(days=1), tick=False):
        version = services.item_publish(user=clerk, item=monthly)
    assert version.on_time is False
    monthly.refresh_from_db()
    assert monthly.overdue_since is None
    assert services.disclosure_flag_overdue(now=later + dt.timedelta(days=40)) == 1
    assert OutboxMessage.objects.filter(kind="opengov.overdue").count() == 2


def test_an_area_without_staff_is_told_by_its_code(tree: Any) -> None:
    with time_machine.travel(T0, tick=False):
        make_item(
            area=tree.other_village,
            publish=True,
            frequency_days=1,
            user=make_user(role=Role.CITY_ADMIN, areas=[tree.city]),
        )
    assert services.disclosure_flag_overdue(now=T0 + dt.timedelta(days=2)) == 1
    assert OutboxMessage.objects.get(kind="opengov.overdue").recipient == f"area:{tree.other_village.code}"


def test_statistics_count_by_domain_and_level(tree: Any) -> None:
    relief = domain("社会救助")
    with time_machine.travel(T0, tick=False):
        make_item(area=tree.city, publish=True, user=make_user(role=Role.CITY_ADMIN, areas=[tree.city]), domain=relief)
        make_item(area=tree.town, publish=True, domain=relief, frequency_days=30)
        make_item(area=tree.village, publish=True)
        make_item(area=tree.village)  # a draft is not counted
    with time_machine.travel(T0 + dt.timedelta(days=45), tick=False):
        stats = selectors.public_stats(city=tree.city)
    rows = {d.name: (cells, total) for d, cells, total in stats.rows}
    assert rows["社会救助"] == ({"city": 1, "town": 1}, 2)
    assert rows["财政预决算"] == ({"village": 1}, 1)
    assert stats.by_level == {"city": 1, "town": 1, "village": 1} and stats.total == 3
    # On day 45 the monthly item is past its date, the two quarterly ones are not: 2 of 3 up to date.
    assert (stats.with_due, stats.up_to_date, stats.up_to_date_percent) == (3, 2, 66.7)
    assert len(stats.rows) == 26


def test_the_worker_runs_the_sweep(tree: Any) -> None:
    import io

    from django.core.management import call_command

    with time_machine.travel(T0, tick=False):
        item = make_item(area=tree.village, publish=True, frequency_days=1)
    with time_machine.travel(T0 + dt.timedelta(days=3), tick=False):
        call_command("run_worker", "--once", stdout=io.StringIO())
    item.refresh_from_db()
    assert item.overdue_since == T0 + dt.timedelta(days=3)

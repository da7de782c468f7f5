"""Reads of the open-government catalogue: staff reads filtered by scope; public reads see published versions only.

The public never reads an item's working copy: what it sees is the item's latest `DisclosureVersion`
while the item is published, with the earlier versions as its history. Area names are public.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import NotFound
from wangge.opengov.models import (
    DisclosureAttachment,
    DisclosureDomain,
    DisclosureItem,
    DisclosureVersion,
    ItemState,
)
from wangge.registry.models import Area, Level

PUBLIC_LEVELS = (Level.CITY, Level.TOWN, Level.VILLAGE)


def domains() -> QuerySet[DisclosureDomain]:
    return DisclosureDomain.objects.filter(is_active=True).order_by("ordering", "code")


# --- staff --------------------------------------------------------------------------------------


def item_list(
    *,
    user: Any,
    level: str = "",
    domain_id: int | None = None,
    state: str = "",
    overdue: bool = False,
    area: Area | None = None,
    q: str = "",
) -> QuerySet[DisclosureItem]:
    """Items of areas in the user's scope, overdue first, then by area and domain."""
    qs = DisclosureItem.objects.filter(scope_for(user).area_q("area_path")).select_related("area", "domain")
    if level:
        qs = qs.filter(level=level)
    if domain_id:
        qs = qs.filter(domain_id=domain_id)
    if state:
        qs = qs.filter(state=state)
    if overdue:
        qs = qs.filter(overdue_since__isnull=False)
    if area is not None:
        qs = qs.filter(area_path__startswith=area.path)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(responsible_unit__icontains=q))
    # Overdue items first (oldest flag on top), then by area and the standard domain order.
    return qs.order_by(F("overdue_since").asc(nulls_last=True), "area_path", "domain__ordering", "id")


def item_get(*, user: Any, pk: int) -> DisclosureItem:
    item = DisclosureItem.objects.select_related("area", "domain", "created_by").filter(pk=pk).first()
    if item is None or not scope_for(user).covers_path(item.area_path):
        raise NotFound(_("disclosure item not found"))
    return item


def item_versions(item: DisclosureItem) -> list[DisclosureVersion]:
    return list(item.versions.select_related("published_by").order_by("-number"))


def editable_areas(*, user: Any) -> QuerySet[Area]:
    """City, towns and villages where this user may keep items."""
    return Area.objects.filter(scope_for(user).area_q("path"), level__in=PUBLIC_LEVELS).order_by("path")


def attachment_get(*, user: Any, pk: int) -> DisclosureAttachment:
    """An attachment: public when the latest published version lists it, else only to staff in scope."""
    att = DisclosureAttachment.objects.select_related("item").filter(pk=pk).first()
    if att is None:
        raise NotFound(_("attachment not found"))
    if att.pk in public_attachment_ids(att.item) or scope_for(user).covers_path(att.item.area_path):
        return att
    raise NotFound(_("attachment not found"))


# --- public -------------------------------------------------------------------------------------


def public_attachment_ids(item: DisclosureItem) -> set[int]:
    if item.state != ItemState.PUBLISHED:
        return set()
    latest = item.versions.order_by("-number").first()
    return set(latest.attachment_ids) if latest else set()


@dataclass
class PublicItem:
    """A published item as the public sees it: the latest version, the earlier ones, its attachments."""

    item: DisclosureItem
    current: DisclosureVersion
    history: list[DisclosureVersion]
    attachments: list[DisclosureAttachment] = field(default_factory=list)


def _public_items(qs: QuerySet[DisclosureItem]) -> list[PublicItem]:
    items = list(
        qs.filter(state=ItemState.PUBLISHED)
        .select_related("area", "domain")
        .prefetch_related(
            Prefetch("versions", queryset=DisclosureVersion.objects.order_by("-number")),
            "attachments",
        )
        .order_by("domain__ordering", "id")
    )
    out = []
    for item in items:
        versions = list(item.versions.all())
        if not versions:
            continue
        ids = set(versions[0].attachment_ids)
        out.append(
            PublicItem(
                item=item,
                current=versions[0],
                history=versions[1:],
                attachments=[a for a in item.attachments.all() if a.pk in ids],
            )
        )
    return out


def public_area(*, pk: Any = None) -> Area | None:
    """The area of the public catalogue (the first city when none is asked for); NotFound below villages."""
    if pk in (None, ""):
        return Area.objects.filter(level=Level.CITY).order_by("path").first()
    try:
        area = Area.objects.get(pk=int(pk), level__in=PUBLIC_LEVELS)
    except (Area.DoesNotExist, ValueError, TypeError):
        raise NotFound(pgettext_lazy("opengov", "area not found")) from None
    return area


def public_children(area: Area) -> list[tuple[Area, int]]:
    """The towns of a city (or villages of a town), each with its number of published items."""
    children = list(Area.objects.filter(parent=area, level__in=PUBLIC_LEVELS).order_by("path"))
    counts = dict(
        DisclosureItem.objects.filter(state=ItemState.PUBLISHED, area__parent=area)
        .values_list("area_id")
        .annotate(n=Count("id"))
        .values_list("area_id", "n")
    )
    return [(c, counts.get(c.pk, 0)) for c in children]


def public_breadcrumb(area: Area) -> list[Area]:
    by_path = {a.path: a for a in Area.objects.filter(path__in=area.ancestor_paths())}
    return [by_path[p] for p in area.ancestor_paths() if p in by_path]


def public_catalogue(area: Area) -> list[tuple[DisclosureDomain, list[PublicItem]]]:
    """The area's own published items grouped by domain, in the standard order."""
    grouped: dict[int, list[PublicItem]] = {}
    for pi in _public_items(DisclosureItem.objects.filter(area=area)):
        grouped.setdefault(pi.item.domain_id, []).append(pi)
    return [(d, grouped[d.pk]) for d in domains() if d.pk in grouped]


def public_item(*, pk: int) -> PublicItem:
    found = _public_items(DisclosureItem.objects.filter(pk=pk))
    if not found:
        raise NotFound(_("disclosure item not found"))
    return found[0]


@dataclass
class Stats:
    """Counts of published items by domain and level, and the share up to date (not past their update date)."""

    rows: list[tuple[DisclosureDomain, dict[str, int], int]]
    by_level: dict[str, int]
    total: int
    with_due: int
    up_to_date: int
    versions: int
    versions_on_time: int
    versions_timed: int

    @property
    def up_to_date_percent(self) -> float | None:
        return round(self.up_to_date * 100 / self.with_due, 1) if self.with_due else None

    @property
    def on_time_percent(self) -> float | None:
        return round(self.versions_on_time * 100 / self.versions_timed, 1) if self.versions_timed else None


def public_stats(*, city: Area | None) -> Stats:
    """Published items of one city by domain × level; up to date = next update date not yet passed, over items with one;
    updates on time = republished on or before the due date, over every republish of an item with a due date."""
    qs = DisclosureItem.objects.filter(state=ItemState.PUBLISHED)
    versions = DisclosureVersion.objects.all()
    if city is not None:
        qs = qs.filter(area_path__startswith=city.path)
        versions = versions.filter(item__area_path__startswith=city.path)
    cells: dict[int, dict[str, int]] = {}
    for domain_id, level, n in qs.values_list("domain_id", "level").annotate(n=Count("id")):
        cells.setdefault(domain_id, {})[level] = n
    rows = [(d, cells.get(d.pk, {}), sum(cells.get(d.pk, {}).values())) for d in domains()]
    by_level = {str(lv): sum(c.get(lv, 0) for c in cells.values()) for lv in PUBLIC_LEVELS}
    with_due = qs.filter(next_due_at__isnull=False)
    timed = versions.filter(on_time__isnull=False)
    return Stats(
        rows=rows,
        by_level=by_level,
        total=sum(by_level.values()),
        with_due=with_due.count(),
        up_to_date=with_due.filter(next_due_at__gte=clock.now()).count(),
        versions=versions.count(),
        versions_on_time=timed.filter(on_time=True).count(),
        versions_timed=timed.count(),
    )

"""Triage reads: models by name, training rows from the database, duplicates nearby, hot issues."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core.errors import NotFound
from wangge.registry.models import Area
from wangge.triage import runtime
from wangge.triage.ml import TriageClassifier
from wangge.triage.models import HotIssueSet, TrainingExample, TriageModel
from wangge.triage.similarity import Candidate, HotGroup, HotRecord, Match, hot_groups, rank_duplicates

# How many recent open demands nearby are compared with a new one (the newest first).
DUPLICATE_POOL = 400


def model_get(*, name: str, version: int | None = None) -> TriageModel:
    """The named model (latest version unless one is given), or NotFound."""
    qs = TriageModel.objects.filter(name=name)
    if version is not None:
        qs = qs.filter(version=version)
    row = qs.order_by("-version").first()
    if row is None:
        if version is None:
            raise NotFound(_("no model %(name)s"), params={"name": name}, field="model")
        raise NotFound(
            _("no model %(name)s version %(version)s"), params={"name": name, "version": version}, field="model"
        )
    return row


def model_load(*, model: TriageModel) -> TriageClassifier:
    """The classifier inside a stored model (skops, trusted types only)."""
    return TriageClassifier.loads(bytes(model.file))


def active_model(*, target: str = "category") -> TriageModel | None:
    return TriageModel.objects.filter(is_active=True, target=target).first()


def model_list() -> list[TriageModel]:
    return list(TriageModel.objects.defer("file").order_by("name", "-version"))


def training_rows_from_db(*, limit: int | None = None) -> list[tuple[str, str, str]]:
    """(title, description, category code) a person stands behind.

    A person's explicit confirmation or correction (TrainingExample, the latest per demand) wins;
    then every demand with a category that staff carried to resolved or closed, i.e. handled under
    that category, unless the category may have been applied by the machine and never looked at
    since: equal to the suggestion, whose confidence reached the auto-apply floor (nothing below it
    is ever applied; rules that only suggest stay below it, services.HINT_CONFIDENCE), and no
    person's recategorise event.
    """
    from django.db.models import Exists, OuterRef

    from wangge.demands.models import Demand, DemandEvent
    from wangge.triage.models import TriageSettings

    conf = TriageSettings.objects.values_list("auto_apply_confidence", flat=True).first()
    floor = float(conf if conf is not None else getattr(settings, "TRIAGE_AUTO_APPLY_CONFIDENCE", 0.85))
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()
    for ex in TrainingExample.objects.order_by("-created_at", "-id"):
        if ex.demand_id is not None:
            if ex.demand_id in seen:
                continue
            seen.add(ex.demand_id)
        rows.append((ex.title, ex.description, ex.category_code))
    handled = (
        Demand.objects.filter(category__isnull=False, state__in=["resolved", "closed"])
        .exclude(pk__in=seen)
        .exclude(
            Q(suggested_category__isnull=False)
            & Q(category=F("suggested_category"))
            & (Q(suggestion_confidence__isnull=True) | Q(suggestion_confidence__gte=floor))
            & ~Exists(DemandEvent.objects.filter(demand=OuterRef("pk"), action="recategorise"))
        )
        .order_by("-pk")
        .values_list("title", "description", "category__code")
    )
    rows.extend(_newest(handled, limit, len(rows)))
    return rows[:limit] if limit is not None else rows


def department_rows_from_db(*, limit: int | None = None) -> list[tuple[str, str, str]]:
    """(title, description, department code) of where demands were actually sent.

    Every demand a level above the grid dispatched to a functional department (the last dispatch:
    `Demand.dispatched_department`, written by `demand_dispatch` with its `dispatch` event), and every
    person's feedback that named a department (TrainingExample.department_code), the latest per demand.
    """
    from wangge.demands.models import Demand

    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()
    for ex in TrainingExample.objects.exclude(department_code="").order_by("-created_at", "-id"):
        if ex.demand_id is not None:
            if ex.demand_id in seen:
                continue
            seen.add(ex.demand_id)
        rows.append((ex.title, ex.description, ex.department_code))
    dispatched = (
        Demand.objects.filter(dispatched_department__isnull=False)
        .exclude(pk__in=seen)
        .order_by("-pk")
        .values_list("title", "description", "dispatched_department__code")
    )
    rows.extend(_newest(dispatched, limit, len(rows)))
    return rows[:limit] if limit is not None else rows


def _newest(history: Any, limit: int | None, have: int) -> Iterator[tuple[str, str, str]]:
    """The newest demands of a labelled history (newest id first), up to what `limit` leaves after `have` rows."""
    if limit is not None:
        history = history[: max(limit - have, 0)]
    return ((t, d, c) for t, d, c in history.iterator())


def count_for(target: str) -> int:
    """About how many labelled rows `rows_for(target)` would give, by COUNT queries only (no text read):
    the worker's cheap check before it reads anything. It may count a demand twice (feedback and handled)."""
    from wangge.demands.models import Demand

    if target == "department":
        examples = TrainingExample.objects.exclude(department_code="").count()
        return examples + Demand.objects.filter(dispatched_department__isnull=False).count()
    examples = TrainingExample.objects.count()
    return examples + Demand.objects.filter(category__isnull=False, state__in=["resolved", "closed"]).count()


def rows_for(target: str, *, limit: int | None = None) -> list[tuple[str, str, str]]:
    """The county's labelled history for a model target ("category" or "department"): people's feedback
    first, then the newest demands, at most `limit` rows."""
    return department_rows_from_db(limit=limit) if target == "department" else training_rows_from_db(limit=limit)


def infer_target(labels: list[str]) -> str:
    """ "department" when every label is a department code and none a category or mapped label, else "category"."""
    from wangge.demands.models import Category
    from wangge.registry.models import Department
    from wangge.triage.models import LabelMapping

    wanted = set(labels)
    if not wanted:
        return "category"
    departments = set(Department.objects.filter(code__in=wanted).values_list("code", flat=True))
    categories = set(Category.objects.filter(code__in=wanted).values_list("code", flat=True))
    mapped = set(LabelMapping.objects.filter(label__in=wanted).values_list("label", flat=True))
    return "department" if departments == wanted and not (categories | mapped) else "category"


# --- duplicates -----------------------------------------------------------------------------------


def village_prefix(area_path: str) -> str:
    """The village (third level) part of a path: duplicates are looked for in the whole village."""
    parts = [p for p in (area_path or "").split("/") if p]
    return "/".join(parts[:3]) + "/" if len(parts) >= 3 else area_path


@dataclass(frozen=True)
class DuplicateCandidate:
    demand: Any
    score: float
    similarity: float
    reason: str
    distance_m: float | None = None  # from the point given, when both points are known


def _road(address: str) -> str:
    """The road of an address (no number): "same road" is one of the duplicate finder's hints."""
    from wangge.demands.public import coarse_address

    return coarse_address(address or "")


def duplicate_candidates(
    *,
    title: str,
    description: str,
    area_path: str,
    category_code: str | None = None,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    window_days: int | None = None,
    limit: int = 5,
    threshold: float | None = None,
    exclude_id: int | None = None,
) -> list[DuplicateCandidate]:
    """Open demands in the same grid or village within the window that say the same thing, best first.

    The text must carry the match (`similarity.rank_duplicates`); distance, the same grid or road,
    recency and the category add to it. Each candidate has its distance when both points are known."""
    from wangge.demands.models import UNFINISHED_STATES, Demand

    if not area_path:
        return []
    snap = runtime.snapshot()
    window = window_days if window_days is not None else snap.duplicate_window_days
    limit_score = threshold if threshold is not None else snap.duplicate_threshold
    since = clock.now() - dt.timedelta(days=window)
    qs = (
        Demand.objects.filter(
            state__in=UNFINISHED_STATES, area_path__startswith=village_prefix(area_path), created_at__gte=since
        )
        .select_related("category")
        .order_by("-created_at", "-id")
    )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    pool = list(qs[:DUPLICATE_POOL])
    by_id = {d.pk: d for d in pool}
    now = clock.now()
    matches: list[Match] = rank_duplicates(
        title=title,
        description=description,
        candidates=[
            Candidate(
                id=d.pk,
                title=d.title,
                description=d.description,
                category_code=d.category.code if d.category is not None else None,
                area_path=d.area_path,
                lat=d.lat,
                lng=d.lng,
                road=_road(d.address),
                age_days=(now - d.created_at).total_seconds() / 86400,
            )
            for d in pool
        ],
        area_path=area_path,
        category_code=category_code,
        lat=lat,
        lng=lng,
        road=_road(address),
        window_days=window,
        threshold=limit_score,
        limit=limit,
    )
    return [
        DuplicateCandidate(
            demand=by_id[m.id],
            score=m.score,
            similarity=m.similarity,
            reason=f"{window} 天内；" + m.reason,
            distance_m=m.distance_m,
        )
        for m in matches
    ]


# --- hot issues -----------------------------------------------------------------------------------


def is_system_filed(*, channel: str, reporter_phone: str, household_id: int | None) -> bool:
    """A record no person filed: an inspection (a facility's failed item, a proactive task) with no reporter."""
    return channel == "inspection" and not reporter_phone and household_id is None


def hot_issues(
    *,
    since: dt.datetime | dt.date,
    until: dt.datetime | dt.date | None = None,
    area_path: str | None = None,
    top: int = 10,
    max_rows: int = 20000,
) -> list[HotGroup]:
    """Groups of demands about the same problem in the period (under an area when given), hottest first.

    Spread counts people: distinct reporters (phone, else household, else the demand itself) and the
    followers who joined a demand (by phone), and grids. System-filed records (inspections with no
    reporter, see `is_system_filed`) belong to the group but count as nobody: `records` counts them
    apart. Support is the number of demands merged into the group's demands. Callers pass the area
    path of the user's scope: this function does not decide visibility.
    """
    from wangge.demands.models import Demand, DemandFollower

    start = _as_datetime(since)
    qs = Demand.objects.filter(created_at__gte=start)
    if until is not None:
        qs = qs.filter(created_at__lt=_as_datetime(until, end=True))
    if area_path:
        qs = qs.filter(area_path__startswith=area_path)
    qs = qs.exclude(state="merged").annotate(merged=Count("duplicates")).order_by("-created_at")[:max_rows]
    rows = list(
        qs.only("id", "title", "description", "channel", "reporter_phone", "household_id", "area_path", "created_at")
    )
    followers: dict[int, list[str]] = {}
    if rows:
        # The followers of the rows read (by the same filter, not a list of ids, which may be long).
        oldest = min(d.created_at for d in rows)
        fq = DemandFollower.objects.filter(demand__created_at__gte=oldest).exclude(demand__state="merged")
        if until is not None:
            fq = fq.filter(demand__created_at__lt=_as_datetime(until, end=True))
        if area_path:
            fq = fq.filter(demand__area_path__startswith=area_path)
        for demand_id, phone in fq.values_list("demand_id", "phone"):
            followers.setdefault(demand_id, []).append(phone)
    records = [
        HotRecord(
            id=str(d.pk),
            title=d.title,
            body=d.description,
            user=d.reporter_phone or (f"h{d.household_id}" if d.household_id else f"d{d.pk}"),
            area=d.area_path,
            support=d.merged,
            created_at=d.created_at,
            system=is_system_filed(channel=d.channel, reporter_phone=d.reporter_phone, household_id=d.household_id),
            followers=tuple(followers.get(d.pk, ())),
        )
        for d in rows
    ]
    groups = hot_groups(records, top=top)
    for g in groups:
        g.extra["demand_ids"] = [int(i) for i in g.member_ids]
    return groups


def group_to_json(group: HotGroup) -> dict[str, Any]:
    """A group as stored in a HotIssueSet (every field, the heat unrounded)."""
    return {
        **group.as_dict(),
        "heat": group.heat,
        "member_ids": list(group.member_ids),
        "demand_ids": list(group.extra.get("demand_ids", [])),  # type: ignore[call-overload]
    }


def group_from_json(data: dict[str, Any]) -> HotGroup:
    def when(value: str | None) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value) if value else None

    return HotGroup(
        key_words=list(data["key_words"]),
        size=int(data["size"]),
        users=int(data["users"]),
        areas=int(data["areas"]),
        support=int(data["support"]),
        heat=float(data["heat"]),
        ids=list(data["ids"]),
        titles=list(data["titles"]),
        first_at=when(data.get("first_at")),
        last_at=when(data.get("last_at")),
        extra={"demand_ids": [int(i) for i in data.get("demand_ids", [])]},
        records=int(data.get("records", 0)),
        member_ids=list(data.get("member_ids", [])),
    )


def hot_issues_recent(*, days: int, area_path: str | None = None, top: int = 10) -> list[HotGroup]:
    """The hot issues of the last `days` days under an area: as the worker stored them, else grouped now.

    The worker keeps the sets of the city-wide view and of each area of TRIAGE_HOT_LEVELS for the
    TRIAGE_HOT_DAYS windows (`hot.hot_issues_pass`). Once such a set exists a page never groups it
    itself, however old it is (a city's 90 days are hundreds of thousands of demands: seconds of work on
    every view while the worker is behind); before the worker's first one, the page groups the newest
    TRIAGE_HOT_LIVE_ROWS demands of the window. A set the worker does not keep (a village, another
    window) is grouped live; a stored one of those is used while younger than TRIAGE_HOT_MAX_AGE_SECONDS.
    """
    path = area_path or ""
    kept = _kept(path, days)
    row = HotIssueSet.objects.filter(area_path=path, days=days).values_list("groups", "computed_at").first()
    if row is not None and (kept or row[1] >= clock.now() - _max_age()):
        return [group_from_json(g) for g in row[0][:top]]
    # A kept set not made yet (a fresh install, or a big database whose history the worker is still
    # putting in clusters): the newest TRIAGE_HOT_LIVE_ROWS demands only, a tenth of the 20,000 a
    # whole city's window is cut to (those took 20 s a view at 5 M demands).
    rows = int(getattr(settings, "TRIAGE_HOT_LIVE_ROWS", 2000)) if kept else 20000
    return hot_issues(since=clock.now() - dt.timedelta(days=days), area_path=area_path, top=top, max_rows=rows)


def _max_age() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "TRIAGE_HOT_MAX_AGE_SECONDS", 3600)))


def _kept(path: str, days: int) -> bool:
    """Whether the worker keeps the set of this area and window (hot.hot_targets)."""
    if days not in tuple(getattr(settings, "TRIAGE_HOT_DAYS", (7, 30, 90))):
        return False
    levels = tuple(getattr(settings, "TRIAGE_HOT_LEVELS", ("city", "town")))
    return not path or Area.objects.filter(path=path, level__in=levels).exists()


def _as_datetime(value: dt.datetime | dt.date, *, end: bool = False) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    from django.utils import timezone

    day = value + dt.timedelta(days=1) if end else value
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass(frozen=True)
class HotIssue:
    """One hot issue as the pages show it: its key words, how big and how widespread, and its demands.

    `users` counts people (reporters and followers); `records` the system-filed records (inspections)."""

    name: str
    key_words: list[str]
    size: int
    users: int
    areas: int
    support: int
    heat: float
    first_at: dt.datetime | None
    last_at: dt.datetime | None
    demands: list[Any]
    records: int = 0


def hot_issues_for(
    *, user: Any, days: int = 7, area_path: str | None = None, top: int = 10, since: dt.datetime | None = None
) -> list[HotIssue]:
    """The hot issues of the last `days` days that `user` may see: the city for the city, a town for its town.

    Groups are formed inside each area of the user's scope (or under `area_path`, which must lie inside
    it); department staff, who have no area, get none. Each issue lists its demands the user may see.
    """
    from wangge.accounts.scope import scope_for
    from wangge.demands.selectors import visible_q

    scope = scope_for(user)
    if scope.is_empty:
        return []
    start = since or clock.now() - dt.timedelta(days=days)
    if area_path is not None:
        if not scope.covers_path(area_path):
            raise NotFound(_("area not found"))
        paths: list[str | None] = [area_path]
    elif scope.is_global:
        paths = [None]
    else:
        paths = list(scope.area_paths)
    groups: list[HotGroup] = []
    for path in paths:
        if since is None:
            groups.extend(hot_issues_recent(days=days, area_path=path, top=top))
        else:
            groups.extend(hot_issues(since=start, area_path=path, top=top))
    groups.sort(key=lambda g: -g.heat)
    groups = groups[:top]
    from wangge.demands.models import Demand

    ids = [i for g in groups for i in g.extra.get("demand_ids", [])]  # type: ignore[attr-defined]
    members = Demand.objects.filter(visible_q(user), pk__any=ids)
    firsts = [g.first_at for g in groups]
    if firsts and all(firsts):  # no member came before its group's first: only those months are read
        members = members.filter(created_at__gte=min(f for f in firsts if f is not None))
    by_id = {d.pk: d for d in members.only("id", "code", "title", "state", "created_at")}
    return [
        HotIssue(
            name=g.name,
            key_words=list(g.key_words),
            size=g.size,
            users=g.users,
            areas=g.areas,
            support=g.support,
            heat=round(g.heat, 2),
            first_at=g.first_at,
            last_at=g.last_at,
            demands=[by_id[i] for i in g.extra.get("demand_ids", []) if i in by_id],  # type: ignore[attr-defined]
            records=g.records,
        )
        for g in groups
    ]

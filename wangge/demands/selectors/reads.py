"""Reads of demands, every one filtered by the acting user's scope (or by the resident's token).

Who sees what is `wangge.demands.permissions` (`visible_q`, `held_q`); a resident sees one demand
through its private token.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from wangge.core.errors import NotFound
from wangge.demands.models import (
    UNFINISHED_STATES,
    Category,
    Demand,
    DemandEvent,
    DemandFollower,
    State,
)
from wangge.demands.permissions import held_q, visible_q
from wangge.demands.selectors.filters import DemandFilter
from wangge.demands.selectors.paging import KeysetPage, keyset_page

# Every list of demands is newest first; the id settles demands filed in the same instant (keyset pages).
LIST_ORDER: tuple[str, ...] = ("-created_at", "-id")

# The open-demand indexes' condition, written out literally (see sweep.OPEN_SQL): SQLite uses a partial
# index only when the query repeats its WHERE term word for word, and a bound `state IN (?, ?)` never does.
UNFINISHED_SQL = f'"{Demand._meta.db_table}"."state" IN (' + ", ".join(f"'{s}'" for s in UNFINISHED_STATES) + ")"


def unfinished(qs: QuerySet[Demand]) -> QuerySet[Demand]:
    """Demands someone must still act on (`UNFINISHED_STATES`), as the queues' partial indexes cover them."""
    qs = qs.filter(state__in=UNFINISHED_STATES)
    # SQLite only (see sweep.literally): on PostgreSQL the repeated term would skew the planner's estimates.
    return qs.extra(where=[UNFINISHED_SQL]) if connection.vendor == "sqlite" else qs


def demand_page(qs: QuerySet[Demand], *, cursor: str | None, size: int) -> KeysetPage:
    """A page of a demand list (`demand_list`, the console) by keyset cursor, with its capped count."""
    return keyset_page(qs, cursor=cursor, size=size, order=LIST_ORDER)


def _base() -> QuerySet[Demand]:
    # Category.__str__ names the parent: fetched with the row, not once per row of a list.
    return Demand.objects.select_related("category__parent", "area", "holder_area", "holder_department", "holder_user")


def demand_list(*, user: Any, filters: DemandFilter | None = None) -> QuerySet[Demand]:
    """Demands inside the user's scope, newest first, with the filters of the worklists."""
    qs = _base().filter(visible_q(user))
    if filters is not None:
        qs = filters.apply(qs)
    return qs.order_by(*LIST_ORDER)


def demand_get(*, user: Any, pk: int) -> Demand:
    """One demand inside the user's scope, or NotFound (never reveal what lies outside)."""
    demand = _base().filter(visible_q(user), pk=pk).first()
    if demand is None:
        raise NotFound("找不到该诉求", "demand not found")
    return demand


def demand_by_token(*, token: str) -> Demand:
    """The demand a resident follows by its private token; NotFound for a forged one."""
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise NotFound("跟踪链接无效或已失效", "the tracking link is not valid")
    demand = _base().filter(tracking_token=token).first()
    # Compare in constant time as well, so the answer never depends on how much of a guess was right.
    if demand is None or not hmac.compare_digest(demand.tracking_token.encode(), token.encode()):
        raise NotFound("跟踪链接无效或已失效", "the tracking link is not valid")
    return demand


def tracking_path_by_short_code(*, code: str) -> str:
    """The private tracking page (reporter's or follower's) a short link opens; NotFound for an unknown code."""
    code = (code or "").strip().lower()
    if code and len(code) <= 16:
        token = Demand.objects.filter(short_code=code).values_list("tracking_token", flat=True).first()
        if token:
            return reverse("demands:track", args=[token])
        token = DemandFollower.objects.filter(short_code=code).values_list("token", flat=True).first()
        if token:
            return reverse("demands:follow_track", args=[token])
    raise NotFound("跟踪链接无效或已失效", "the tracking link is not valid")


def demand_timeline(*, demand: Demand, public: bool = False) -> QuerySet[DemandEvent]:
    """The demand's events in order with their photos; `public` keeps only what the resident may see."""
    qs = (
        DemandEvent.objects.filter(demand=demand)
        .select_related("actor")
        .prefetch_related("attachments")
        .order_by("at", "id")
    )
    if public:
        qs = qs.filter(is_public=True)
    return qs


def my_queue(*, user: Any) -> QuerySet[Demand]:
    """Unfinished demands that the user's level or department holds: waiting to be accepted, in hand, or
    suspended (挂起: shown with its state; its clock is stopped)."""
    return unfinished(_base().filter(held_q(user))).order_by("resolve_due_at", "id")


def category_tree() -> list[Category]:
    """Active top-level categories, each with its active children prefetched (`children_active`)."""
    children = Prefetch(
        "children", queryset=Category.objects.filter(is_active=True).order_by("sort", "code"), to_attr="children_active"
    )
    return list(
        Category.objects.filter(parent__isnull=True, is_active=True).order_by("sort", "code").prefetch_related(children)
    )


def category_choices() -> list[Category]:
    """Active second-level categories (what a demand is filed under), in catalogue order."""
    return list(
        Category.objects.filter(is_active=True, parent__isnull=False)
        .select_related("parent")
        .order_by("parent__sort", "sort", "code")
    )


# --- followers ------------------------------------------------------------------------------


def follower_by_token(*, token: str) -> DemandFollower:
    """The follow a resident opens by their own private token; NotFound for a forged one."""
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise NotFound("跟踪链接无效或已失效", "the tracking link is not valid")
    follower = DemandFollower.objects.select_related("demand").filter(token=token).first()
    if follower is None or not hmac.compare_digest(follower.token.encode(), token.encode()):
        raise NotFound("跟踪链接无效或已失效", "the tracking link is not valid")
    return follower


def demand_for_follower(*, follower: DemandFollower) -> Demand:
    """The demand a follower follows (their token is the credential; the page shows only public parts)."""
    return _base().get(pk=follower.demand_id)


def follower_after_merge(*, demand: Demand, phone: str) -> DemandFollower | None:
    """Where a merged demand's reporter or follower now follows: their row on the demand it joined."""
    if demand.state != State.MERGED or not demand.merged_into_id or not phone:
        return None
    return DemandFollower.objects.filter(demand_id=demand.merged_into_id, phone=phone).first()
